/**
 * Where the panel fits. On a small screen (narrow, or short like a phone held sideways) the
 * panel takes the whole screen, is a modal dialog and keeps focus inside; everywhere it
 * follows the visual viewport (what the on-screen keyboard leaves), and the conversation stays
 * pinned to its newest message while it is scrolled to the end.
 */
export const FULL_SCREEN = '(max-width: 480px), (max-height: 500px)';

const FOCUSABLE = 'button, textarea, input, a[href], [tabindex="0"]';

export class PanelLayout {
  readonly #cleanup: Array<() => void> = [];
  #pinned = true;
  /** The log's height when last measured. */
  #height = -1;

  constructor(
    private readonly host: HTMLElement,
    private readonly panel: HTMLElement,
    private readonly log: HTMLElement,
    /** The panel is open. */
    private readonly open: () => boolean,
  ) {
    const full = matchMedia(FULL_SCREEN);
    const onMedia = () => this.update();
    full.addEventListener('change', onMedia);
    this.#cleanup.push(() => full.removeEventListener('change', onMedia));
    const viewport = window.visualViewport;
    if (viewport) {
      const follow = () => this.#follow(viewport);
      viewport.addEventListener('resize', follow);
      viewport.addEventListener('scroll', follow);
      this.#cleanup.push(() => {
        viewport.removeEventListener('resize', follow);
        viewport.removeEventListener('scroll', follow);
      });
      follow();
    }
    log.addEventListener('scroll', () => {
      // A scroll the browser makes because the log shrank is not the visitor leaving the end.
      if (log.clientHeight !== this.#height) return;
      this.#pinned = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    });
    if (typeof ResizeObserver !== 'undefined') {
      // The keyboard opening, a rotation, a notice: the newest message stays in sight.
      const observer = new ResizeObserver(() => {
        this.#height = log.clientHeight;
        if (this.#pinned) this.toEnd();
      });
      observer.observe(log);
      this.#cleanup.push(() => observer.disconnect());
    }
  }

  get fullScreen(): boolean {
    return matchMedia(FULL_SCREEN).matches;
  }

  /** Whether Enter should make a new line: touch keyboards have no Shift+Enter. */
  get touch(): boolean {
    return matchMedia('(pointer: coarse)').matches;
  }

  /** The conversation is scrolled (nearly) to its end. */
  get pinned(): boolean {
    return this.#pinned;
  }

  /** aria-modal follows whether the open panel covers the page. */
  update(): void {
    if (this.open() && this.fullScreen) this.panel.setAttribute('aria-modal', 'true');
    else this.panel.removeAttribute('aria-modal');
  }

  toEnd(): void {
    this.log.scrollTop = this.log.scrollHeight;
    this.#pinned = true;
  }

  /** Tab and Shift+Tab go round inside a modal panel instead of leaving it. */
  trap(event: KeyboardEvent, active: Element | null): void {
    if (event.key !== 'Tab' || !this.open() || !this.fullScreen) return;
    const items = Array.from(this.panel.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
      (el) => el.getClientRects().length > 0 && !(el as HTMLButtonElement).disabled,
    );
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    const inside = active !== null && this.panel.contains(active);
    if (!inside || (event.shiftKey ? active === first : active === last)) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    }
  }

  destroy(): void {
    for (const undo of this.#cleanup.splice(0)) undo();
  }

  #follow(viewport: VisualViewport): void {
    this.host.style.setProperty('--td-vh', `${Math.round(viewport.height)}px`);
    this.host.style.setProperty('--td-vt', `${Math.round(viewport.offsetTop)}px`);
  }
}
