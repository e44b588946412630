import { format } from './strings';

/** The page as the title badge sees it: its title, whether it is hidden, and changes to both. */
export interface TitlePage {
  title: string;
  readonly hidden: boolean;
  /** Calls `changed` when the title or the page's visibility changes; returns the undo. */
  watch(changed: () => void): () => void;
}

/**
 * The document: `<title>` changes through a MutationObserver, visibility through its event. The
 * title is read as written (`document.title` collapses whitespace), so it comes back exactly.
 */
export function documentPage(): TitlePage {
  return {
    get title() {
      return document.head?.querySelector('title')?.textContent ?? document.title;
    },
    set title(value: string) {
      document.title = value;
    },
    get hidden() {
      return document.visibilityState === 'hidden';
    },
    watch(changed) {
      const observer = new MutationObserver(changed);
      observer.observe(document.head ?? document.documentElement, {
        subtree: true,
        childList: true,
        characterData: true,
      });
      document.addEventListener('visibilitychange', changed);
      return () => {
        observer.disconnect();
        document.removeEventListener('visibilitychange', changed);
      };
    },
  };
}

/** How often in a second the badge puts itself back on a title the site keeps changing. */
const MAX_REAPPLIED_PER_SECOND = 5;

/**
 * The unread count in the page's title (`(2) Original title`) while the visitor cannot see the
 * chat: the page is hidden or the panel closed. The site's own title is kept under the prefix,
 * also when the site changes it meanwhile, and comes back as the site last set it once the
 * visitor sees the chat again. A site that keeps taking the prefix away wins: the badge stops
 * putting it back until the next message.
 */
export class TitleBadge {
  #count = 0;
  /** The site's title, without the badge. */
  #base = '';
  /** The title the badge set last; anything else there was set by the site. */
  #shown: string | undefined;
  #unwatch: (() => void) | undefined;
  #window = 0;
  #reapplied = 0;

  constructor(
    private readonly page: TitlePage,
    /** Whether the chat's panel is open. */
    private readonly open: () => boolean,
    /** `{n}` and `{title}`: the localised `titleUnread`. */
    private template: string,
    private readonly now: () => number = Date.now,
  ) {}

  get count(): number {
    return this.#count;
  }

  /** A new agent or system message: counted unless the visitor sees the chat. */
  add(): void {
    if (this.#sees()) return;
    if (this.#count === 0) {
      this.#base = this.page.title;
      this.#unwatch = this.page.watch(() => this.#changed());
    } else if (this.page.title !== this.#shown) {
      this.#base = this.page.title;
    }
    this.#count++;
    this.#apply();
  }

  /** The panel opened or closed: cleared if the visitor sees the chat now. */
  check(): void {
    if (this.#count > 0 && this.#sees()) this.clear();
  }

  setTemplate(template: string): void {
    this.template = template;
    if (this.#count > 0 && this.page.title === this.#shown) this.#apply();
  }

  /** Takes the badge off: the site's title as the site last set it. */
  clear(): void {
    if (this.#count === 0) return;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#count = 0;
    if (this.page.title === this.#shown) this.page.title = this.#base;
    this.#shown = undefined;
  }

  #sees(): boolean {
    return this.open() && !this.page.hidden;
  }

  #changed(): void {
    if (this.#sees()) return this.clear();
    if (this.page.title === this.#shown) return;
    // The site set a title of its own: it goes under the prefix.
    this.#base = this.page.title;
    const now = this.now();
    if (now - this.#window >= 1000) {
      this.#window = now;
      this.#reapplied = 0;
    }
    if (++this.#reapplied <= MAX_REAPPLIED_PER_SECOND) this.#apply();
  }

  #apply(): void {
    this.#shown = format(this.template, { n: this.#count, title: this.#base });
    this.page.title = this.#shown;
  }
}
