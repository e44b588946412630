// Types only: the schemas (and zod) stay out of the bundle.
import type { ClientFrame, ServerFrame } from '@topicdesk/protocol';

export type { ClientFrame, ServerFrame };

export const LinkState = {
  idle: 'idle',
  connecting: 'connecting',
  open: 'open',
  /** The browser says there is no network; we wait for it to come back. */
  offline: 'offline',
  /** Closed; another attempt is scheduled. */
  waiting: 'waiting',
} as const;
export type LinkState = (typeof LinkState)[keyof typeof LinkState];

export interface SocketHooks {
  /** The URL to connect to (refreshing the token first if needed); undefined stops trying. */
  url(): Promise<string | undefined>;
  open(): void;
  frame(frame: ServerFrame): void;
  /** `opened` says whether the socket ever opened; a refused upgrade never does. */
  closed(code: number, opened: boolean): void;
  state(state: LinkState): void;
}

/** Reconnect delay: exponential from `base`, capped, with full jitter over its upper half. */
export function backoff(attempt: number, base = 500, cap = 15_000, random = Math.random): number {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Close codes after which the server wants us back soon: restart (1012), going away (1001). */
const SOON = new Set([1001, 1012, 1013]);

/**
 * A WebSocket that comes back: on close it reconnects with backoff and jitter (quickly when
 * the replica said it restarts), waits while the browser is offline, and tries at once when
 * the network returns. Who it talks to and what it says is up to the hooks.
 */
export class ReconnectingSocket {
  #ws: WebSocket | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #state: LinkState = LinkState.idle;

  constructor(private readonly hooks: SocketHooks) {
    addEventListener('online', this.#online);
    addEventListener('offline', this.#offline);
  }

  get state(): LinkState {
    return this.#state;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    void this.#connect();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#drop();
    this.#set(LinkState.idle);
  }

  destroy(): void {
    this.stop();
    removeEventListener('online', this.#online);
    removeEventListener('offline', this.#offline);
  }

  /** Sends when open; false means the frame was not sent. */
  send(frame: ClientFrame): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** Gives up on the current socket (it looks dead) and connects again now. */
  restart(): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#drop();
    this.#attempt = 0;
    void this.#connect();
  }

  #set(state: LinkState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.hooks.state(state);
  }

  /** Forgets the current socket without waiting for its close handshake. */
  #drop(): void {
    const ws = this.#ws;
    this.#ws = undefined;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
  }

  #online = (): void => {
    if (!this.#running) return;
    this.restart();
  };

  #offline = (): void => {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#drop();
    this.#set(LinkState.offline);
    this.hooks.closed(1006, true);
  };

  async #connect(): Promise<void> {
    if (!this.#running || this.#ws) return;
    if (!navigator.onLine) return this.#set(LinkState.offline);
    this.#set(LinkState.connecting);
    let url: string | undefined;
    try {
      url = await this.hooks.url();
    } catch {
      // The token could not be checked (network, 5xx): try again later like any failed connect.
      return this.#retry(1006);
    }
    if (!this.#running || this.#ws) return;
    if (url === undefined) return this.stop();
    const ws = new WebSocket(url);
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.#set(LinkState.open);
      this.hooks.open();
    };
    ws.onmessage = (event: MessageEvent<unknown>) => {
      // A frame means the connection works end to end: start backing off from scratch again.
      this.#attempt = 0;
      if (typeof event.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        return;
      }
      this.hooks.frame(frame);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      this.hooks.closed(event.code, opened);
      this.#retry(event.code);
    };
  }

  #retry(code: number): void {
    if (!this.#running) return;
    if (!navigator.onLine) return this.#set(LinkState.offline);
    this.#set(LinkState.waiting);
    const delay = SOON.has(code) ? 50 + Math.random() * 400 : backoff(this.#attempt++);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#connect(), delay);
  }
}

/** What the banner says about the link: offline, reconnecting (after it was open), or nothing. */
export function linkBanner(
  state: LinkState,
  wasOpen: boolean,
  s: { offline: string; reconnecting: string },
): string | undefined {
  if (state === LinkState.offline) return s.offline;
  return state === LinkState.waiting || (state === LinkState.connecting && wasOpen)
    ? s.reconnecting
    : undefined;
}
