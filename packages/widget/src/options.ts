import type { PathPattern } from './paths';
import type { PreChatOptions } from './pre-chat';
import type { LinkState } from './socket';
import type { StringOverrides } from './strings';
import type { Theme } from './styles';
import type { ChatItem } from './timeline';

// The widget's public types: what a site passes to `SupportChat.init` and the events it hears.

export interface SupportChatOptions {
  /** The gateway's origin (`https://support.example.com`); default: where the script came from. */
  origin?: string;
  /**
   * The site's public key (`pk_…`) on a gateway that serves many sites; default: the script tag's
   * `data-site-key`; none: the gateway's own (default) site.
   */
  siteKey?: string;
  /** Corner of the launcher. */
  position?: 'right' | 'left';
  /** BCP 47 tag; default: the page's `lang`, else the browser's language. */
  locale?: string;
  /** Texts that win over every locale. */
  strings?: StringOverrides;
  /** Texts per locale (`de`, `pt-BR`); the closest match is used. */
  stringsByLocale?: Record<string, StringOverrides>;
  /** CSS custom properties (`--td-accent`…), for both schemes or as `{ light, dark }`. */
  theme?: Theme;
  /** Show only on these paths (wildcards or RegExp). */
  includePaths?: PathPattern[];
  /** Never show on these paths. */
  excludePaths?: PathPattern[];
  /** Follow SPA navigation (pushState, replaceState, popstate, hashchange). */
  observeRoute?: boolean;
  /** Open the panel once loaded. */
  openOnLoad?: boolean;
  /** The page's CSP nonce, for the fallback `<style>` where constructable stylesheets are missing. */
  nonce?: string;
  /** A tone for agents' replies while the chat is out of sight (default on; the visitor switches it). */
  soundDefaultOn?: boolean;
  vibrationDefaultOn?: boolean;
  /** Ask for a name and/or e-mail address before the first message (default: no form). */
  preChat?: PreChatOptions;
}

export interface ChatEvents {
  ready: undefined;
  open: undefined;
  close: undefined;
  /** A new agent or system message (not history shown on load). */
  message: ChatItem;
  /** One of this tab's messages was stored (acked). */
  sent: ChatItem;
  unread: number;
  conversation: { conversationId: string; ticket: string };
  status: 'open' | 'closed';
  connection: LinkState;
  error: { code: string; message: string };
}
export type ChatEventName = keyof ChatEvents;
export type Listener<E extends ChatEventName> = (payload: ChatEvents[E]) => void;
export type Listeners = Map<ChatEventName, Set<(payload: never) => void>>;

/** Calls a chat event's listeners; a site's handler that throws does not break the widget. */
export function emit<E extends ChatEventName>(
  listeners: Listeners,
  event: E,
  payload: ChatEvents[E],
): void {
  for (const fn of listeners.get(event) ?? []) {
    try {
      (fn as Listener<E>)(payload);
    } catch (error) {
      // Surfaced like any uncaught error.
      setTimeout(() => {
        throw error;
      });
    }
  }
}
