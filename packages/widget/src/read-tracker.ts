import type { ChatItem } from './timeline';

/** How long a newly seen message waits before it is told, so a burst of replies is one frame. */
const TELL_AFTER_MS = 1_000;
/** How much of a message must be in view (or of the log, for one taller than it) to count. */
const IN_VIEW = 0.5;

export interface ReadHooks {
  /** The panel is open. */
  open(): boolean;
  /** The row showing `item`, if rendered. */
  row(item: ChatItem): Element | undefined;
  /** Sends the `read` frame; false when the socket is not open (it is told again on open). */
  send(seq: number): boolean;
}

/**
 * Tells the gateway what the visitor has seen, for the agents (a 👀 in their topic): the newest
 * agent message counts as read once it is in view while the panel is open and the page is
 * visible. Only a seq above the last one told goes out, about a second after it was seen;
 * while the socket is down only the latest waits, nothing is queued.
 */
export class ReadTracker {
  readonly #observer: IntersectionObserver | undefined;
  #target: { seq: number; el: Element } | undefined;
  #inView = false;
  /** The highest seq sent. */
  #told = 0;
  /** The highest seq seen (may be above `#told` while it waits or the socket is down). */
  #seen = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #onVisibility = (): void => this.check();

  constructor(
    root: Element,
    private readonly hooks: ReadHooks,
  ) {
    if (typeof IntersectionObserver === 'function') {
      this.#observer = new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            if (entry.target !== this.#target?.el) continue;
            const rootHeight = entry.rootBounds?.height ?? 0;
            this.#inView =
              entry.isIntersecting &&
              (entry.intersectionRatio >= IN_VIEW ||
                entry.intersectionRect.height >= rootHeight * IN_VIEW);
          }
          this.check();
        },
        { root, threshold: [0, 0.25, 0.5, 0.75, 1] },
      );
    }
    document.addEventListener('visibilitychange', this.#onVisibility);
  }

  /** The conversation as rendered: the newest agent message is the one watched. */
  follow(items: readonly ChatItem[]): void {
    let newest: ChatItem | undefined;
    for (const item of items) if (item.kind === 'agent' && item.seq !== undefined) newest = item;
    const el = newest && this.hooks.row(newest);
    const seq = newest?.seq;
    if (seq !== undefined && el && seq === this.#target?.seq && el === this.#target.el)
      return this.check();
    if (this.#target) this.#observer?.unobserve(this.#target.el);
    this.#target = seq !== undefined && el ? { seq, el } : undefined;
    // Without IntersectionObserver (old browsers), an open panel shows the newest message.
    this.#inView = !this.#observer;
    if (this.#target) this.#observer?.observe(this.#target.el);
    this.check();
  }

  /** Whether the newest agent message is being seen now; if so, it is told soon. */
  check(): void {
    const target = this.#target;
    if (!target || !this.#inView || !this.hooks.open() || document.visibilityState !== 'visible')
      return;
    if (target.seq <= this.#seen) return;
    this.#seen = target.seq;
    this.#schedule();
  }

  /** The socket opened: what was seen while it was down goes out. */
  flush(): void {
    if (this.#seen > this.#told) this.#schedule();
  }

  /** Another conversation: its seqs start again. */
  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#told = this.#seen = 0;
    this.follow([]);
  }

  destroy(): void {
    clearTimeout(this.#timer);
    this.#observer?.disconnect();
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#seen > this.#told && this.hooks.send(this.#seen)) this.#told = this.#seen;
    }, TELL_AFTER_MS);
  }
}
