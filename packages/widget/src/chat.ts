import { Alerts } from './alerts';
import { ApiError, startRequest, VisitorApi, type Session } from './api';
import { Credential } from './credential';
import { FileComposer } from './file-composer';
import { observeRoute, pathAllowed } from './paths';
import type { ChatEventName, ChatEvents, Listeners, SupportChatOptions } from './options';
import { emit } from './options';
import { PreChatForm, type PreChatDetails } from './pre-chat';
import { RatingPrompt } from './rating';
import { SessionStore } from './session-store';
import { backoff, LinkState, linkBanner, ReconnectingSocket, type ServerFrame } from './socket';
import { ReadTracker } from './read-tracker';
import { format, resolveStrings, type Strings } from './strings';
import { MessageState, Timeline, type ChatItem } from './timeline';
import { documentPage, TitleBadge } from './title-badge';
import { archived, transcriptName, transcriptText } from './transcript';
import { uuid } from './uuid';
import { View } from './view';

export type { ChatEventName, ChatEvents, Listener, Listeners, SupportChatOptions } from './options';

const ACK_TIMEOUT_MS = 10_000;
const TYPING_INTERVAL_MS = 3_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One widget on the page: wires the view, the timeline, the REST API and the socket, and keeps
 * the conversation going across reconnects, reloads, tabs and token expiry.
 */
export class Chat {
  readonly #options: SupportChatOptions;
  readonly #api: VisitorApi;
  readonly #store: SessionStore;
  readonly #socket: ReconnectingSocket;
  readonly #view: View;
  readonly #read: ReadTracker;
  readonly #listeners: Listeners;
  readonly #cleanup: Array<() => void> = [];
  #timeline = new Timeline();
  /** Finished conversations of this page, shown above the current one. */
  readonly #archive: ChatItem[] = [];
  #strings: Strings;
  #locale: string;
  readonly #credential: Credential;
  #status: 'open' | 'closed' = 'open';
  /** The token the current socket connected with (it is closed with 4401 when that expires). */
  #socketToken: string | undefined;
  #loaded = false;
  #wasOpen = false;
  #destroyed = false;
  #starting: Promise<void> | undefined;
  #generation = 0;
  readonly #sentOn = new Map<string, number>();
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #unread = 0;
  readonly #alerts: Alerts;
  #name: string | null = null;
  #email: string | undefined;
  readonly #titleBadge: TitleBadge;
  readonly #preChat: PreChatForm | undefined;
  readonly #rating: RatingPrompt;
  readonly #files: FileComposer;
  /** The form was filled in, or a conversation is going: the visitor writes. */
  #introduced = false;
  #lastTyping = 0;

  constructor(options: SupportChatOptions, origin: string, listeners: Listeners) {
    this.#options = options;
    this.#listeners = listeners;
    this.#api = new VisitorApi(origin.replace(/\/+$/, ''));
    this.#store = new SessionStore(this.#api.origin);
    this.#credential = new Credential(this.#api, this.#store, {
      // An open conversation, or a closed one still to be rated, is kept for a later visit.
      keep: () => this.#status === 'open' || this.#rating.waiting,
      lost: () => this.#forget(),
    });
    this.#locale = options.locale ?? (document.documentElement.lang || navigator.language || 'en');
    this.#strings = resolveStrings(this.#locale, options.stringsByLocale, options.strings);
    this.#alerts = new Alerts(options.soundDefaultOn ?? true, options.vibrationDefaultOn ?? false);
    this.#view = new View(
      this.#strings,
      this.#locale,
      { position: options.position ?? 'right', theme: options.theme, nonce: options.nonce },
      {
        toggle: (open) => {
          if (!open) return this.hide();
          this.show();
          this.#alerts.unlock();
        },
        send: (text) => this.#files.send(text) || this.#send(text),
        typing: () => this.#typing(),
        retry: (clientId) => this.#retry(clientId),
        restart: () => this.#restart(),
        download: () =>
          this.#view.download(
            transcriptName(this.#session?.ticket),
            transcriptText(this.#timeline.items(), this.#strings, this.#session?.ticket),
          ),
        rename: (name) => this.#rename(name),
        sound: (on) => {
          this.#alerts.sound = on;
          this.#view.setSound(on);
          this.#alerts.unlock();
          if (on) this.#alerts.beep();
        },
        attach: (files) => this.#files.tray.add(files),
        hasFiles: () => this.#files.tray.size > 0,
        staleFiles: (open) => void this.#files.stale(open),
      },
    );
    this.#files = new FileComposer(this.#strings, {
      api: this.#api,
      credential: this.#credential,
      view: this.#view,
      ensure: () => this.#ensureConversation(),
      compose: (text, files) => this.#send(text, files),
      links: (messages) => {
        this.#timeline.links(messages);
        this.#render();
      },
    });
    this.#view.setSound(this.#alerts.sound);
    this.#titleBadge = new TitleBadge(
      documentPage(),
      () => this.#view.isOpen,
      this.#strings.titleUnread,
    );
    if (PreChatForm.wanted(options.preChat)) {
      this.#preChat = new PreChatForm(
        options.preChat,
        this.#strings,
        (details) => this.#introduce(details),
        (text) => this.#view.announce(text),
      );
    }
    this.#rating = new RatingPrompt(this.#strings, {
      load: async () => (await this.#credential.authorized((s) => this.#api.profile(s)))?.rating,
      submit: async (score, comment) => {
        await this.#credential.authorized((s) => this.#api.rate(s, { score, comment }));
      },
      keep: (waiting) => {
        if (waiting && this.#session) this.#store.save(this.#session);
        else this.#store.clear();
      },
      show: (el) => this.#view.setRating(el),
      announce: (text) => this.#view.announce(text),
    });
    this.#read = new ReadTracker(this.#view.log, {
      open: () => this.#view.isOpen,
      row: (item) => this.#view.row(item),
      send: (seq) => this.#status === 'open' && this.#socket.send({ type: 'read', seq }),
    });
    this.#socket = new ReconnectingSocket({
      url: () => this.#socketUrl(),
      open: () => this.#onOpen(),
      frame: (frame) => this.#onFrame(frame),
      closed: (code, opened) => this.#onClosed(code, opened),
      state: (state) => this.#onLinkState(state),
    });
    this.#listen(window, 'storage', (event) => this.#onStorage(event as StorageEvent));
    if (options.observeRoute) this.#cleanup.push(observeRoute(() => this.recheck()));

    const mount = () => {
      if (this.#destroyed) return;
      this.#view.mount();
      this.recheck();
      if (options.openOnLoad) this.show(false);
      this.#emit('ready', undefined);
    };
    if (document.body) mount();
    else this.#listen(document, 'DOMContentLoaded', mount);

    const stored = this.#store.load();
    if (stored) void this.#resume(stored);
    else if (this.#preChat) this.#view.setPreChat(this.#preChat.el, this.#preChat.firstInput);
  }

  get #session(): Session | undefined {
    return this.#credential.session;
  }

  /** Opens the panel (and shows the widget, also on a path it is gated off). */
  show(focus = true): void {
    this.#view.setVisible(true);
    if (!this.#view.isOpen) this.#emit('open', undefined);
    this.#view.setOpen(true, focus);
    this.#setUnread(0);
    this.#titleBadge.check();
  }

  hide(): void {
    if (this.#view.isOpen) this.#emit('close', undefined);
    this.#view.setOpen(false, true);
  }

  /** Applies the path rules to the current location. */
  recheck(): void {
    const allowed = pathAllowed(
      location.pathname,
      this.#options.includePaths,
      this.#options.excludePaths,
    );
    if (!allowed && this.#view.isOpen) this.#view.setOpen(false, false);
    this.#view.setVisible(allowed);
  }

  setLocale(locale: string): void {
    this.#locale = locale;
    this.#strings = resolveStrings(locale, this.#options.stringsByLocale, this.#options.strings);
    this.#view.setStrings(this.#strings, locale);
    this.#titleBadge.setTemplate(this.#strings.titleUnread);
    this.#preChat?.setStrings(this.#strings);
    this.#rating.setStrings(this.#strings);
    this.#files.tray.setStrings(this.#strings);
    this.#render();
  }

  destroy(): void {
    this.#destroyed = true;
    this.#socket.destroy();
    this.#read.destroy();
    this.#credential.clear();
    clearTimeout(this.#ackTimer);
    for (const undo of this.#cleanup.splice(0)) undo();
    this.#alerts.close();
    this.#titleBadge.clear();
    this.#view.destroy();
  }

  // --- conversation lifecycle ---

  /** A stored conversation: fresh token, history, then live. */
  async #resume(session: Session): Promise<void> {
    this.#introduce();
    this.#credential.session = session;
    this.#view.setTicket(session.ticket);
    try {
      if (this.#credential.expiresSoon()) await this.#credential.refresh();
      const history = await this.#credential.authorized((current) => this.#api.history(current));
      if (!history || !this.#session) return;
      for (const message of history.messages) this.#timeline.receive(message);
      this.#loaded = true;
      this.#render();
      this.#setStatus(history.status);
      void this.#credential
        .authorized((current) => this.#api.profile(current))
        .then(
          (profile) => profile && this.#view.setName((this.#name = profile.name)),
          (error: unknown) => this.#report(error),
        );
    } catch (error) {
      if (error instanceof ApiError && error.fatal) return this.#forget();
      // The history comes with the socket's resume instead.
      this.#loaded = true;
    }
    this.#credential.schedule();
    if (this.#status === 'open') this.#socket.start();
  }

  #adopt(session: Session): void {
    this.#introduce();
    this.#credential.session = session;
    this.#status = 'open';
    this.#loaded = true;
    this.#store.save(session);
    this.#view.setTicket(session.ticket);
    this.#credential.schedule();
    this.#emit('conversation', { conversationId: session.conversationId, ticket: session.ticket });
    this.#socket.start();
  }

  /** Creates the conversation (first message), retrying with backoff while the network fails. */
  #ensureConversation(): Promise<void> {
    this.#starting ??= (async () => {
      for (let attempt = 0; !this.#session && !this.#destroyed; attempt++) {
        try {
          const session = await this.#api.start(
            startRequest(this.#locale, { name: this.#name, email: this.#email }, this.#options),
          );
          if (this.#destroyed) return;
          this.#adopt(session);
        } catch (error) {
          if (this.#email && error instanceof ApiError && error.refuses('email')) {
            // The gateway takes no e-mail address (PRECHAT_FIELDS): the message goes without it.
            console.warn(
              `Topicdesk: the conversation starts without the e-mail address: ${error.issues.join('; ')}`,
            );
            this.#email = undefined;
            continue;
          }
          const definite = error instanceof ApiError && error.status >= 400 && error.status < 500;
          if (definite) this.#timeline.refuseUnsent(error.code, error.retryAt);
          else this.#timeline.retryUnsent();
          this.#render();
          if (definite) return this.#report(error);
          await sleep(backoff(attempt));
        }
      }
    })().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /** The credential is no use any more: start afresh, keeping what was not sent yet. */
  #forget(): void {
    const carry = this.#timeline.unsent().map((item) => item.text);
    this.#socket.stop();
    this.#store.clear();
    this.#credential.clear();
    this.#timeline = new Timeline();
    this.#read.reset();
    this.#view.setTicket(undefined);
    this.#view.setAgent(undefined);
    for (const text of carry) this.#timeline.compose(text, uuid());
    this.#render();
    if (carry.length > 0) void this.#ensureConversation();
  }

  /** A new conversation after a closed one, which stays readable above it. */
  #restart(): void {
    this.#archive.push(...archived(this.#timeline.items(), this.#session?.ticket, this.#strings));
    this.#view.setNotice(undefined);
    this.#socket.stop();
    this.#store.clear();
    this.#credential.clear();
    this.#timeline = new Timeline();
    this.#read.reset();
    this.#sentOn.clear();
    this.#view.setTicket(undefined);
    this.#view.setAgent(undefined);
    this.#setStatus('open');
    this.#setUnread(0);
    this.#render();
  }

  #setStatus(status: 'open' | 'closed'): void {
    const changed = status !== this.#status;
    this.#status = status;
    this.#view.setClosed(status === 'closed');
    // Only an open conversation is worth coming back to, or a closed one to rate (CSAT).
    if (status === 'open') {
      this.#rating.reset();
      if (this.#session) this.#store.save(this.#session);
    } else if (this.#session) void this.#rating.ask();
    else this.#store.clear();
    if (changed) this.#emit('status', status);
  }

  // --- socket ---

  async #socketUrl(): Promise<string | undefined> {
    if (!this.#session || this.#status === 'closed') return undefined;
    if (this.#credential.needsRefresh || this.#credential.expiresSoon())
      await this.#credential.refresh();
    this.#socketToken = this.#session?.token;
    return this.#session ? this.#api.socketUrl(this.#session.token) : undefined;
  }

  #onOpen(): void {
    this.#generation++;
    this.#wasOpen = true;
    this.#credential.needsRefresh = false;
    this.#socket.send({ type: 'resume', afterSeq: this.#timeline.lastSeq });
    this.#flush();
    this.#read.flush();
  }

  #onClosed(code: number, opened: boolean): void {
    // A refused upgrade looks like 1006 before open: the token may be the reason. 4401: the
    // token the socket was opened with expired; one refreshed since is good to connect with.
    if (!opened || (code === 4401 && this.#socketToken === this.#session?.token))
      this.#credential.needsRefresh = true;
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#timeline.markQueued();
    this.#render();
  }

  #onLinkState(state: LinkState): void {
    this.#view.setBanner(linkBanner(state, this.#wasOpen, this.#strings));
    this.#emit('connection', state);
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'status':
        return this.#setStatus(frame.status);
      case 'ack': {
        const item = this.#timeline.ack(frame.clientId, frame.seq);
        this.#sentOn.delete(frame.clientId);
        this.#watchAcks();
        if (item) this.#emit('sent', item);
        if (item?.attachments) void this.#files.links();
        return this.#render();
      }
      case 'message': {
        const item = this.#timeline.receive(frame);
        this.#render();
        if (item && item.kind !== 'visitor' && this.#loaded) this.#incoming(item);
        return;
      }
      case 'edit':
        this.#timeline.edit(frame.seq, frame.text, frame.editedAt, frame.deleted);
        return this.#render();
      case 'system':
        this.#view.setNotice(frame.text);
        if (this.#loaded) this.#view.announce(frame.text);
        return;
      case 'receipt':
        this.#timeline.receipt(frame.seq, frame.state, frame.code);
        return this.#render();
      case 'error':
        return this.#onError(frame);
      default: {
        const unknown: never = frame;
        return unknown;
      }
    }
  }

  #onError(frame: ServerFrame & { type: 'error' }): void {
    const { clientId, code } = frame;
    if (clientId === undefined) {
      // A frame was refused as a whole (rate of frames): resend what waits for an ack.
      if (code === 'RATE_LIMITED') setTimeout(() => this.#resendAll(), 1000);
      return this.#report(new ApiError(code, 0, frame.message));
    }
    switch (code) {
      case 'UNAVAILABLE':
        this.#timeline.fail(clientId, code, true);
        setTimeout(
          () => {
            this.#sentOn.delete(clientId);
            this.#flush();
          },
          500 + Math.random() * 1500,
        );
        break;
      case 'RATE_LIMITED':
      case 'ATTACHMENT_SCAN_UNAVAILABLE':
        this.#timeline.fail(clientId, code, true);
        break;
      case 'CONVERSATION_CLOSED':
        this.#timeline.fail(clientId, code, false);
        this.#setStatus('closed');
        break;
      default: {
        const item = this.#timeline.fail(clientId, code, false);
        if (item) this.#files.refused(item.text, code, this.#strings);
      }
    }
    this.#sentOn.delete(clientId);
    this.#render();
  }

  /** Sends every message that waits and was not sent on this socket yet, in typed order. */
  #flush(): void {
    if (this.#socket.state !== LinkState.open || this.#status === 'closed') return;
    let sent = false;
    for (const item of this.#timeline.pending()) {
      if (item.state === MessageState.failed || !item.clientId) continue;
      if (this.#sentOn.get(item.clientId) === this.#generation) continue;
      const files = item.attachments?.map((a) => a.id);
      const frame = { type: 'message', clientId: item.clientId, text: item.text } as const;
      if (!this.#socket.send(files ? { ...frame, attachments: files } : frame)) break;
      this.#sentOn.set(item.clientId, this.#generation);
      this.#timeline.markSending(item);
      sent = true;
    }
    if (sent) {
      this.#watchAcks();
      this.#render();
    }
  }

  #resendAll(): void {
    this.#sentOn.clear();
    this.#flush();
  }

  /** No ack for a while although the socket looks open: it is probably dead. Reconnect. */
  #watchAcks(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (!this.#timeline.pending().some((i) => i.clientId && this.#sentOn.has(i.clientId))) return;
    this.#ackTimer = setTimeout(() => this.#socket.restart(), ACK_TIMEOUT_MS);
  }

  // --- visitor actions ---

  #send(text: string, files?: ChatItem['attachments']): void {
    if (this.#status === 'closed') return;
    const item = this.#timeline.compose(text, uuid(), files);
    // Online, the message goes out as soon as the conversation exists: it is sending, not queued.
    if (!this.#session && navigator.onLine) item.state = MessageState.sending;
    this.#view.clearComposer();
    this.#render();
    this.#alerts.unlock();
    if (!this.#session) void this.#ensureConversation();
    else this.#flush();
  }

  #retry(clientId: string): void {
    if (!this.#timeline.retry(clientId)) return;
    this.#sentOn.delete(clientId);
    this.#render();
    if (!this.#session) void this.#ensureConversation();
    else this.#flush();
  }

  #typing(): void {
    const now = Date.now();
    if (!this.#session || now - this.#lastTyping < TYPING_INTERVAL_MS) return;
    if (this.#socket.send({ type: 'typing' })) this.#lastTyping = now;
  }

  /** The pre-chat form is done (`details`), or not needed (a conversation is going). */
  #introduce(details?: PreChatDetails): void {
    if (this.#introduced) return;
    this.#introduced = true;
    if (details?.name) this.#view.setName((this.#name = details.name));
    this.#email = details?.email;
    if (this.#preChat) this.#view.setPreChat(undefined);
  }

  #rename(name: string): void {
    this.#name = name;
    this.#view.setName(name);
    if (!this.#session) return;
    void this.#credential
      .authorized((current) => this.#api.setName(current, name))
      .catch((e: unknown) => this.#report(e));
  }

  // --- notifications ---

  #incoming(item: ChatItem): void {
    this.#emit('message', item);
    this.#view.announce(
      format(this.#strings.newMessage, {
        name: item.author ?? this.#strings.title,
        text: item.text,
      }),
    );
    this.#titleBadge.add();
    // Only people count as unread and ring; notes such as "Alice joined" are just announced.
    if (item.kind !== 'agent') return;
    if (!this.#view.isOpen) this.#setUnread(this.#unread + 1);
    if (!this.#view.isOpen || document.hidden) this.#alerts.ring();
  }

  #setUnread(count: number): void {
    if (count === this.#unread) return;
    this.#unread = count;
    this.#view.setUnread(count);
    this.#emit('unread', count);
  }

  // --- page ---

  #onStorage(event: StorageEvent): void {
    if (event.key !== this.#store.key) return;
    const other = this.#store.parse(event.newValue);
    if (!other) return;
    const mine = this.#session;
    if (mine && other.conversationId === mine.conversationId) {
      // Another tab refreshed the token: take the newer one.
      return this.#credential.takeNewer(other);
    }
    // Another tab started a conversation while this one has none (or only a closed one) and
    // is not starting one of its own.
    if ((!mine || this.#status === 'closed') && !this.#starting) {
      if (mine) this.#restart();
      void this.#resume(other);
    }
  }

  #listen(target: EventTarget, type: string, fn: (event: Event) => void): void {
    target.addEventListener(type, fn);
    this.#cleanup.push(() => target.removeEventListener(type, fn));
  }

  #render(): void {
    const items = this.#timeline.items();
    this.#view.render([...this.#archive, ...items]);
    this.#view.setAgent(this.#timeline.lastAgent());
    this.#read.follow(items);
  }

  #report(error: unknown): void {
    const e = error instanceof ApiError ? error : new ApiError('UNAVAILABLE', 0, String(error));
    this.#emit('error', { code: e.code, message: e.message });
  }

  #emit<E extends ChatEventName>(event: E, payload: ChatEvents[E]): void {
    emit(this.#listeners, event, payload);
  }
}
