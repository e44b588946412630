import {
  Chat,
  type ChatEventName,
  type Listener,
  type Listeners,
  type SupportChatOptions,
} from './chat';

export type { ChatEventName, ChatEvents, Listener, SupportChatOptions } from './chat';
export type { ChatItem, MessageState } from './timeline';
export type { Strings, StringOverrides } from './strings';
export type { Theme } from './styles';
export type { PathPattern } from './paths';
export type { PreChatOptions, PreChatRule } from './pre-chat';

/** The classic script's own tag (null for the module build). */
const script = typeof document !== 'undefined' ? document.currentScript : null;

/**
 * Where the classic script was loaded from: the default gateway origin. (`src` reads as the
 * absolute URL the script was fetched from, so it parses.)
 */
const scriptOrigin =
  script instanceof HTMLScriptElement && script.src ? new URL(script.src).origin : undefined;

export interface SupportChatApi {
  init(options?: SupportChatOptions): SupportChatApi;
  show(): void;
  hide(): void;
  recheck(): void;
  setLocale(locale: string): void;
  destroy(): void;
  on<E extends ChatEventName>(event: E, fn: Listener<E>): () => void;
}

let current: Chat | undefined;
const listeners: Listeners = new Map();

/**
 * The widget's public API: one widget per page. Listeners added with `on` stay across
 * `init`/`destroy`, so a site may subscribe before it initialises.
 */
export const SupportChat: SupportChatApi = {
  init(options: SupportChatOptions = {}): SupportChatApi {
    current?.destroy();
    current = new Chat(
      // The snippet's `data-site-key`: which site of the gateway this page is.
      { siteKey: script?.dataset['siteKey'], ...options },
      options.origin ?? scriptOrigin ?? location.origin,
      listeners,
    );
    return SupportChat;
  },
  /** Opens the chat panel. */
  show(): void {
    current?.show();
  },
  /** Closes the chat panel. */
  hide(): void {
    current?.hide();
  },
  /** Applies the path rules again (after a route change the widget was not told about). */
  recheck(): void {
    current?.recheck();
  },
  setLocale(locale: string): void {
    current?.setLocale(locale);
  },
  /** Removes the widget, its socket, timers and listeners from the page. */
  destroy(): void {
    current?.destroy();
    current = undefined;
  },
  on<E extends ChatEventName>(event: E, fn: Listener<E>): () => void {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const entry = fn as (payload: never) => void;
    set.add(entry);
    return () => set.delete(entry);
  },
};

export default SupportChat;
