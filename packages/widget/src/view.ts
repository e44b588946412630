import { fileInputs, fileList, isFileCode, refusal, watchLinks } from './attachments';
import { clock, h, icon, richText, when } from './dom';
import { PanelLayout } from './layout';
import { format, isRtl, type Strings } from './strings';
import { baseCss, themeCss, type Theme } from './styles';
import type { ChatItem } from './timeline';

/** What the visitor does in the view; the controller decides what follows. */
export interface ViewActions {
  toggle(open: boolean): void;
  send(text: string): void;
  typing(): void;
  retry(clientId: string): void;
  restart(): void;
  /** Save the finished conversation as a text file. */
  download(): void;
  rename(name: string): void;
  sound(on: boolean): void;
  /** Files picked, dropped or pasted; `hasFiles`: some wait to go with the next message. */
  attach(files: File[]): void;
  hasFiles(): boolean;
  /** A file's link expired: fresh links, then `open` the file (else just show them). */
  staleFiles(open?: string): void;
}

export interface ViewOptions {
  position: 'right' | 'left';
  theme?: Theme | undefined;
  nonce?: string | undefined;
}

type StringKey = keyof Strings;

/**
 * The widget's DOM inside a shadow root: launcher, panel, conversation, composer. It renders
 * what the controller gives it and reports what the visitor does; it holds no conversation state.
 */
export class View {
  readonly host: HTMLElement;
  readonly #shadow: ShadowRoot;
  readonly #root: HTMLDivElement;
  readonly #launcher: HTMLButtonElement;
  readonly #badge: HTMLSpanElement;
  readonly #panel: HTMLDivElement;
  readonly #title: HTMLHeadingElement;
  readonly #subtitle: HTMLParagraphElement;
  readonly #soundButton: HTMLButtonElement;
  readonly #banner: HTMLParagraphElement;
  readonly #notice: HTMLDivElement;
  readonly #noticeText: HTMLSpanElement;
  readonly #who: HTMLDivElement;
  readonly #nameLabel: HTMLElement;
  readonly #log: HTMLOListElement;
  readonly #greeting: HTMLLIElement;
  readonly #closed: HTMLDivElement;
  readonly #composer: HTMLFormElement;
  readonly #input: HTMLTextAreaElement;
  readonly #live: HTMLDivElement;
  readonly #layout: PanelLayout;
  /** The rating prompt (or its thanks) in the closed footer. */
  #rating: HTMLElement | undefined;
  /** The pre-chat form while it stands in for the composer. */
  #preChat: { form: HTMLFormElement; first: HTMLElement | undefined } | undefined;
  readonly #bindings: Array<[Element, StringKey, string?]> = [];
  readonly #rows = new Map<string, { el: HTMLLIElement; sig: string }>();
  #strings: Strings;
  #locale: string;
  #revision = 0;
  #open = false;
  #unread = 0;
  #name: string | null = null;
  #agent: string | undefined;
  #ticket: string | undefined;
  #bannerText: string | undefined;

  constructor(
    strings: Strings,
    locale: string,
    options: ViewOptions,
    private readonly actions: ViewActions,
  ) {
    this.#strings = strings;
    this.#locale = locale;
    this.host = document.createElement('topicdesk-chat');
    this.#shadow = this.host.attachShadow({ mode: 'open' });
    this.#adoptStyles(baseCss + themeCss(options.theme), options.nonce);

    this.#badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    this.#launcher = h(
      'button',
      { class: 'launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'td-panel' },
      icon('chat'),
      this.#badge,
    );
    this.#title = h('h2', { id: 'td-title', dir: 'auto' });
    this.#subtitle = h('p', { class: 'subtitle', dir: 'auto' });
    this.#soundButton = this.#bind(
      h('button', { class: 'icon', type: 'button', 'aria-pressed': 'false' }, icon('bell')),
      'sound',
      'aria-label',
    );
    const closeButton = this.#bind(
      h('button', { class: 'icon close', type: 'button' }, icon('close')),
      'close',
      'aria-label',
    );
    this.#banner = h('p', { class: 'banner', role: 'status', hidden: true });
    this.#noticeText = h('span', { dir: 'auto' });
    const dismiss = this.#bind(
      h('button', { class: 'icon', type: 'button' }, icon('close')),
      'dismiss',
      'aria-label',
    );
    this.#notice = h(
      'div',
      { class: 'notice', role: 'status', hidden: true },
      this.#noticeText,
      dismiss,
    );
    dismiss.addEventListener('click', () => this.setNotice(undefined));
    this.#nameLabel = h('b', { dir: 'auto' });
    const renameButton = this.#bind(
      h('button', { class: 'link', type: 'button', 'data-action': 'rename' }),
      'editName',
    );
    this.#who = h(
      'div',
      { class: 'who' },
      this.#bind(h('span'), 'yourName'),
      this.#nameLabel,
      renameButton,
    );
    this.#greeting = h(
      'li',
      { class: 'row agent greeting' },
      this.#bind(h('div', { class: 'bubble' }), 'greeting'),
    );
    this.#log = this.#bind(
      h('ol', { class: 'log', tabindex: '0' }, this.#greeting),
      'log',
      'aria-label',
    );
    const restart = this.#bind(
      h('button', { class: 'primary', type: 'button' }),
      'newConversation',
    );
    const download = this.#bind(h('button', { class: 'link', type: 'button' }), 'download');
    this.#closed = h(
      'div',
      { class: 'closed', hidden: true },
      this.#bind(h('p'), 'closed'),
      h('div', { class: 'actions' }, restart, download),
    );
    this.#input = this.#bind(
      this.#bind(
        h('textarea', { rows: '1', maxlength: '4000', enterkeyhint: 'send' }),
        'placeholder',
        'placeholder',
      ),
      'messageLabel',
      'aria-label',
    );
    const attach = this.#bind(
      h('button', { class: 'icon attach', type: 'button' }, icon('clip')),
      'attach',
      'aria-label',
    );
    this.#composer = h(
      'form',
      { class: 'composer' },
      attach,
      this.#input,
      this.#bind(
        h('button', { class: 'send', type: 'submit' }, icon('send')),
        'send',
        'aria-label',
      ),
    );
    this.#live = h('div', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.#panel = h(
      'div',
      {
        class: 'panel',
        id: 'td-panel',
        role: 'dialog',
        'aria-labelledby': 'td-title',
        hidden: true,
      },
      // Not a <header>: inside the page that would be a second banner landmark.
      h(
        'div',
        { class: 'head' },
        h('div', { class: 'titles' }, this.#title, this.#subtitle),
        this.#soundButton,
        closeButton,
      ),
      this.#banner,
      this.#notice,
      this.#who,
      this.#log,
      this.#closed,
      this.#composer,
    );
    this.#root = h(
      'div',
      { class: `root${options.position === 'left' ? ' left' : ''}` },
      this.#launcher,
      this.#panel,
      this.#live,
    );
    this.#shadow.append(this.#root);
    this.#composer.append(
      fileInputs(this.#panel, this.#input, attach, (files) => this.actions.attach(files)),
    );
    this.#layout = new PanelLayout(this.host, this.#panel, this.#log, () => this.#open);
    if (this.#layout.touch) this.#input.setAttribute('enterkeyhint', 'enter');

    this.#launcher.addEventListener('click', () => this.actions.toggle(!this.#open));
    closeButton.addEventListener('click', () => this.actions.toggle(false));
    this.#soundButton.addEventListener('click', () =>
      this.actions.sound(this.#soundButton.getAttribute('aria-pressed') !== 'true'),
    );
    restart.addEventListener('click', () => this.actions.restart());
    download.addEventListener('click', () => this.actions.download());
    renameButton.addEventListener('click', () => this.#editName());
    this.#composer.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#input.addEventListener('keydown', (event) => {
      // On a touch keyboard Enter is a new line (it has no Shift+Enter); the button sends.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !this.#layout.touch) {
        event.preventDefault();
        this.#submit();
      }
    });
    this.#input.addEventListener('input', () => this.actions.typing());
    this.#log.addEventListener('click', (event) => {
      const target = (event.target as Element | null)?.closest('[data-retry]');
      const clientId = target?.getAttribute('data-retry');
      if (clientId) this.actions.retry(clientId);
    });
    watchLinks(this.#log, (id) => this.actions.staleFiles(id));
    this.#root.addEventListener('keydown', (event) => {
      this.#layout.trap(event, this.#shadow.activeElement);
      if (event.key === 'Escape' && this.#open) {
        event.preventDefault();
        this.actions.toggle(false);
      }
    });
    this.setStrings(strings, locale);
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** The scrolling conversation, and the row showing an item (what the visitor can see). */
  get log(): HTMLElement {
    return this.#log;
  }

  row(item: ChatItem): Element | undefined {
    return this.#rows.get(item.id)?.el;
  }

  mount(): void {
    if (!this.host.isConnected) document.body.append(this.host);
  }

  destroy(): void {
    this.#layout.destroy();
    this.host.remove();
  }

  setVisible(visible: boolean): void {
    this.#root.hidden = !visible;
  }

  setStrings(strings: Strings, locale: string): void {
    this.#strings = strings;
    this.#locale = locale;
    this.#revision++;
    this.#root.setAttribute('dir', isRtl(locale) ? 'rtl' : 'ltr');
    this.#root.setAttribute('lang', locale);
    for (const [el, key, attr] of this.#bindings) {
      if (attr) el.setAttribute(attr, strings[key]);
      else el.textContent = strings[key];
    }
    this.#panel.setAttribute('aria-label', strings.title);
    this.#header();
    this.#launcherLabel();
    this.#nameText();
    if (this.#bannerText !== undefined) this.setBanner(this.#bannerText);
  }

  /** Opens or closes the panel; with `focus`, moves focus in (composer) or back (launcher). */
  setOpen(open: boolean, focus: boolean): void {
    const hadFocus = this.#shadow.activeElement !== null;
    this.#open = open;
    this.#panel.hidden = !open;
    this.#root.classList.toggle('open', open);
    this.#launcher.setAttribute('aria-expanded', String(open));
    this.#launcherLabel();
    this.#launcher.replaceChildren(icon(open ? 'close' : 'chat'), this.#badge);
    this.#layout.update();
    if (open) {
      this.#layout.toEnd();
      if (focus) this.#firstControl()?.focus();
    } else if (focus || hadFocus) {
      this.#launcher.focus();
    }
  }

  /**
   * Shows a form in the composer's place (the pre-chat form: the visitor writes once it is
   * done), or, with undefined, the composer again, focused if the form had the focus.
   */
  setPreChat(form: HTMLFormElement | undefined, first?: HTMLElement): void {
    const focusWasIn = this.#preChat?.form.contains(this.#shadow.activeElement) ?? false;
    this.#preChat?.form.remove();
    this.#preChat = form && { form, first };
    if (form) this.#composer.before(form);
    this.#composer.hidden = form !== undefined || !this.#closed.hidden;
    // The form asks for the name itself.
    this.#who.hidden = form !== undefined;
    if (!form && focusWasIn) this.#firstControl()?.focus();
  }

  setClosed(closed: boolean): void {
    const focusWasIn = this.#shadow.activeElement === this.#input;
    this.#closed.hidden = !closed;
    this.#composer.hidden = closed || this.#preChat !== undefined;
    // The conversation's last line (the closing note) must not hide behind the footer.
    if (closed) this.#layout.toEnd();
    if (closed && focusWasIn) this.#closed.querySelector('button')?.focus();
    if (!closed && this.#open && this.#shadow.activeElement === null) this.#input.focus();
  }

  /** The rating prompt, or its thank-you, above the closed footer's buttons; undefined: none. */
  setRating(el: HTMLElement | undefined): void {
    this.#rating?.remove();
    this.#rating = el;
    if (el) this.#closed.querySelector('.actions')?.before(el);
  }

  setBanner(text: string | undefined): void {
    this.#bannerText = text;
    this.#banner.hidden = text === undefined;
    this.#banner.textContent = text ?? '';
  }

  /** A system banner from the support team (not part of the history). */
  setNotice(text: string | undefined): void {
    this.#notice.hidden = text === undefined;
    this.#noticeText.textContent = text ?? '';
  }

  setUnread(count: number): void {
    this.#unread = count;
    this.#badge.hidden = count === 0;
    this.#badge.textContent = count > 99 ? '99+' : String(count);
    this.#launcherLabel();
  }

  setSound(on: boolean): void {
    this.#soundButton.setAttribute('aria-pressed', String(on));
  }

  setTicket(ticket: string | undefined): void {
    this.#ticket = ticket;
    this.#header();
  }

  setAgent(name: string | undefined): void {
    this.#agent = name;
    this.#header();
  }

  setName(name: string | null): void {
    this.#name = name;
    this.#nameText();
  }

  /** Says a text to screen readers (the live region) without showing it. */
  announce(text: string): void {
    this.#live.textContent = text;
  }

  clearComposer(): void {
    this.#input.value = '';
  }

  /** Puts a message's text back to send again (its files were refused), unless one is typed. */
  restoreComposer(text: string): void {
    if (this.#input.value.trim() === '') this.#input.value = text;
  }

  /** The files waiting to go with the next message, above the composer. */
  setTray(el: HTMLElement): void {
    this.#composer.before(el);
  }

  /** Hands `text` to the browser as a file download. */
  download(name: string, text: string): void {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const a = h('a', { href: url, download: name, hidden: true });
    this.#root.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Shows the items in order, touching only rows that changed. */
  render(items: readonly ChatItem[]): void {
    const atEnd = this.#layout.pinned;
    const seen = new Set<string>();
    let previous: Element = this.#greeting;
    let ownNew = false;
    for (const item of items) {
      let row = this.#rows.get(item.id);
      if (!row) {
        row = { el: h('li'), sig: '' };
        this.#rows.set(item.id, row);
        if (item.clientId) ownNew = true;
      }
      const sig = `${this.#revision}|${item.kind}|${item.seq}|${item.state}|${item.editedAt}|${item.deleted}|${item.author}|${item.text}|${item.attachments?.map((a) => a.url).join()}`;
      if (row.sig !== sig) {
        this.#fill(row.el, item);
        row.sig = sig;
      }
      if (previous.nextElementSibling !== row.el) previous.after(row.el);
      previous = row.el;
      seen.add(item.id);
    }
    for (const [id, row] of this.#rows) {
      if (!seen.has(id)) {
        row.el.remove();
        this.#rows.delete(id);
      }
    }
    if (atEnd || ownNew) this.#layout.toEnd();
  }

  /** Where focus goes in the panel: the pre-chat form, the composer, or the closed footer. */
  #firstControl(): HTMLElement | null | undefined {
    if (this.#preChat) return this.#preChat.first;
    return this.#closed.hidden ? this.#input : this.#closed.querySelector('button');
  }

  #adoptStyles(css: string, nonce: string | undefined): void {
    // Constructable stylesheets need no style-src allowance; a <style> needs the site's nonce.
    if ('adoptedStyleSheets' in this.#shadow && 'replaceSync' in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      this.#shadow.adoptedStyleSheets = [sheet];
      return;
    }
    const style = document.createElement('style');
    if (nonce) style.nonce = nonce;
    style.textContent = css;
    this.#shadow.append(style);
  }

  #bind<E extends Element>(el: E, key: StringKey, attr?: string): E {
    this.#bindings.push([el, key, attr]);
    return el;
  }

  #header(): void {
    const s = this.#strings;
    this.#title.textContent =
      this.#agent && this.#agent !== s.title ? `${this.#agent} · ${s.title}` : s.title;
    this.#subtitle.textContent = this.#ticket
      ? format(s.ticket, { ticket: this.#ticket })
      : s.subtitle;
  }

  #launcherLabel(): void {
    const s = this.#strings;
    const label = this.#open ? s.close : s.open;
    this.#launcher.setAttribute(
      'aria-label',
      this.#unread > 0 ? `${label} (${format(s.unread, { n: this.#unread })})` : label,
    );
  }

  #nameText(): void {
    this.#nameLabel.textContent = this.#name ?? this.#strings.anonymous;
  }

  #submit(): void {
    const text = this.#input.value;
    if (text.trim().length === 0 && !this.actions.hasFiles()) return;
    this.actions.send(text);
  }

  #editName(): void {
    const s = this.#strings;
    const input = h('input', { 'aria-label': s.yourName, maxlength: '100', autocomplete: 'name' });
    input.value = this.#name ?? '';
    const form = h(
      'form',
      {},
      input,
      h('button', { class: 'link', type: 'submit' }, s.save),
      h('button', { class: 'link', type: 'button' }, s.cancel),
    );
    const shown = Array.from(this.#who.children) as HTMLElement[];
    const done = (name?: string) => {
      form.remove();
      for (const el of shown) el.hidden = false;
      if (name !== undefined) this.actions.rename(name);
      this.#who.querySelector<HTMLButtonElement>('[data-action=rename]')?.focus();
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = input.value.trim();
      done(name.length > 0 ? name : undefined);
    });
    form.querySelector('button[type=button]')?.addEventListener('click', () => done());
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        event.preventDefault();
        done();
      }
    });
    for (const el of shown) el.hidden = true;
    this.#who.append(form);
    input.focus();
  }

  #fill(li: HTMLLIElement, item: ChatItem): void {
    const s = this.#strings;
    li.className = `row ${item.kind}${item.state === 'failed' ? ' failed' : ''}`;
    li.setAttribute('data-kind', item.kind);
    if (item.seq !== undefined) li.setAttribute('data-seq', String(item.seq));
    if (item.state) li.setAttribute('data-state', item.state);
    else li.removeAttribute('data-state');
    const bubble = h('div', { class: 'bubble' });
    if (item.kind === 'agent' && item.author)
      bubble.append(h('span', { class: 'author', dir: 'auto' }, item.author));
    // Files under the author's name, above their caption.
    if (item.attachments && !item.deleted) bubble.append(fileList(item.attachments));
    // dir=auto: a bubble reads in its own script's direction, whatever the widget's language.
    bubble.append(
      item.deleted
        ? h('em', { class: 'text' }, s.deleted)
        : h('span', { class: 'text', dir: 'auto' }, ...richText(item.text)),
    );
    const meta = h('div', { class: 'meta' });
    if (item.kind !== 'system') {
      const time = new Date(item.at);
      if (!Number.isNaN(time.getTime())) {
        meta.append(h('time', { datetime: item.at }, clock(time, this.#locale)));
      }
    }
    if (item.editedAt && !item.deleted) meta.append(h('span', {}, s.edited));
    if (item.kind === 'visitor' && item.state) {
      const label =
        item.state !== 'failed'
          ? s[item.state]
          : item.code === 'MESSAGE_TOO_LONG'
            ? s.tooLong
            : item.code === 'RATE_LIMITED'
              ? s.rateLimited
              : isFileCode(item.code)
                ? refusal(s, item.code ?? '')
                : item.retryAt
                  ? format(s.dailyLimit, { time: when(new Date(item.retryAt), this.#locale) })
                  : s.failed;
      meta.append(h('span', { class: 'state' }, label));
      if (item.state === 'failed' && item.retryable !== false && item.clientId) {
        meta.append(
          h('button', { class: 'link', type: 'button', 'data-retry': item.clientId }, s.retry),
        );
      }
    }
    li.replaceChildren(bubble, ...(meta.childNodes.length > 0 ? [meta] : []));
  }
}
