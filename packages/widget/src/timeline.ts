import type { Attachment, HistoryMessage, MessageKind } from '@topicdesk/protocol';

/** Where a visitor message of this tab stands on its way to the agents. */
export const MessageState = {
  /** Typed while there is no connection; sent when there is. */
  queued: 'queued',
  /** On the wire, no ack yet. */
  sending: 'sending',
  /** Acked: stored by the gateway. */
  sent: 'sent',
  /** Telegram accepted it. */
  delivered: 'delivered',
  /** Waiting for a retry (ours or the bridge's). */
  retrying: 'retrying',
  failed: 'failed',
} as const;
export type MessageState = (typeof MessageState)[keyof typeof MessageState];

/** A `message` frame, or one message of the REST history. */
export type ServerMessage = HistoryMessage;

export interface ChatItem {
  /** Stable for the item's life, also once a queued message gets its seq. */
  id: string;
  kind: MessageKind;
  text: string;
  seq?: number;
  clientId?: string;
  author?: string;
  at: string;
  editedAt?: string;
  /** Retracted by an agent. */
  deleted?: boolean;
  state?: MessageState;
  /** Why it failed (an error code of the API). */
  code?: string;
  /** False when resending cannot help (too long, conversation closed, the day's limit). */
  retryable?: boolean;
  /** When sending may work again (ISO 8601), for a refusal that frees with time. */
  retryAt?: string;
  /** Sent on a socket at least once: it may be stored even though no ack came. */
  inFlight?: boolean;
  /** Its files (an own unacked message's: local previews until the history has the links). */
  attachments?: Attachment[];
}

type Receipt = { state: 'delivered' | 'retrying' | 'failed'; code?: string | undefined };

/**
 * The conversation as this tab knows it: stored messages by seq (deduplicated), and this tab's
 * own messages that have no ack yet, in the order they were typed. Pure state, no I/O.
 */
export class Timeline {
  readonly #bySeq = new Map<number, ChatItem>();
  /** Own messages without an ack (with or without a seq), in the order they were typed. */
  readonly #unacked = new Map<string, ChatItem>();
  readonly #receipts = new Map<number, Receipt>();
  #contiguous = 0;

  /** The highest seq held with nothing missing below it: what `resume` asks after. */
  get lastSeq(): number {
    while (this.#bySeq.has(this.#contiguous + 1)) this.#contiguous++;
    return this.#contiguous;
  }

  get size(): number {
    return this.#bySeq.size + this.unsent().length;
  }

  /** A new visitor message; it waits in the outbox until it is acked. */
  compose(
    text: string,
    clientId: string,
    attachments?: Attachment[],
    at = new Date().toISOString(),
  ): ChatItem {
    const item: ChatItem = {
      id: `c:${clientId}`,
      kind: 'visitor',
      text,
      clientId,
      at,
      state: MessageState.queued,
      retryable: true,
      ...(attachments ? { attachments } : {}),
    };
    this.#unacked.set(clientId, item);
    return item;
  }

  /** Own messages to (re)send, in the order they were typed. */
  pending(): ChatItem[] {
    return [...this.#unacked.values()].filter((i) => i.retryable !== false);
  }

  /** Own messages without a seq (not stored as far as this tab knows). */
  unsent(): ChatItem[] {
    return [...this.#unacked.values()].filter((i) => i.seq === undefined);
  }

  find(clientId: string): ChatItem | undefined {
    return this.#unacked.get(clientId);
  }

  markSending(item: ChatItem): void {
    item.inFlight = true;
    item.state = MessageState.sending;
  }

  /** Marks unacked messages as waiting for the network (after a disconnect). */
  markQueued(): void {
    for (const item of this.#unacked.values()) {
      if (item.state === MessageState.sending) item.state = MessageState.queued;
    }
  }

  /** The gateway stored our message as `seq`. Returns the item, or undefined if unknown. */
  ack(clientId: string, seq: number): ChatItem | undefined {
    const item = this.#unacked.get(clientId);
    if (!item) return undefined;
    this.#unacked.delete(clientId);
    if (item.seq !== undefined && item.seq !== seq) {
      // We took another tab's identical message for ours; give it back its own bubble.
      this.#bySeq.set(item.seq, {
        id: `s:${item.seq}`,
        kind: 'visitor',
        text: item.text,
        seq: item.seq,
        at: item.at,
      });
    }
    const held = this.#bySeq.get(seq);
    if (held && held !== item) item.at = held.at;
    item.seq = seq;
    item.inFlight = false;
    item.state = MessageState.sent;
    item.code = undefined;
    this.#bySeq.set(seq, item);
    this.#applyReceipt(item);
    return item;
  }

  /**
   * A stored message. Returns it when it is new to this tab, undefined for a duplicate (a seq
   * already held, or our own message coming back before its ack).
   */
  receive(message: ServerMessage): ChatItem | undefined {
    if (this.#bySeq.has(message.seq)) return undefined;
    if (message.kind === 'visitor') {
      // Our own message stored before its ack was lost: the ack of the resend will confirm it.
      const mine = [...this.#unacked.values()].find(
        (i) => i.inFlight && i.seq === undefined && i.text === message.text,
      );
      if (mine) {
        mine.seq = message.seq;
        mine.at = message.at;
        this.#bySeq.set(message.seq, mine);
        return undefined;
      }
    }
    const item: ChatItem = {
      id: `s:${message.seq}`,
      kind: message.kind,
      text: message.text,
      seq: message.seq,
      at: message.at,
      ...(message.author !== undefined ? { author: message.author } : {}),
      ...(message.editedAt !== undefined ? { editedAt: message.editedAt } : {}),
      ...(message.deleted ? { deleted: true } : {}),
      ...(message.attachments ? { attachments: message.attachments } : {}),
    };
    this.#bySeq.set(message.seq, item);
    this.#applyReceipt(item);
    return item;
  }

  /** Fresh file links from a re-read history (links expire). */
  links(messages: readonly ServerMessage[]): void {
    for (const m of messages) {
      const item = this.#bySeq.get(m.seq);
      if (item && m.attachments) item.attachments = m.attachments;
    }
  }

  edit(seq: number, text: string, editedAt: string, deleted = false): ChatItem | undefined {
    const item = this.#bySeq.get(seq);
    if (!item) return undefined;
    item.text = text;
    item.editedAt = editedAt;
    if (deleted) item.deleted = true;
    return item;
  }

  receipt(seq: number, state: Receipt['state'], code?: string): ChatItem | undefined {
    const previous = this.#receipts.get(seq);
    // Receipts may cross: a late "retrying" never undoes "delivered" or "failed".
    if (previous && previous.state !== 'retrying' && state === 'retrying') return undefined;
    this.#receipts.set(seq, { state, code });
    const item = this.#bySeq.get(seq);
    if (!item || item.kind !== 'visitor' || this.#unackedHolds(item)) return undefined;
    this.#applyReceipt(item);
    return item;
  }

  /** An error frame for one of our messages. `retryable` false drops it from the outbox. */
  fail(clientId: string, code: string, retryable: boolean): ChatItem | undefined {
    const item = this.#unacked.get(clientId);
    if (!item) return undefined;
    item.code = code;
    item.retryable = retryable;
    // Only UNAVAILABLE may come after the message was stored; the others mean it was not.
    if (code !== 'UNAVAILABLE') item.inFlight = false;
    item.state = retryable && code === 'UNAVAILABLE' ? MessageState.retrying : MessageState.failed;
    return item;
  }

  /** Starting the conversation failed for good (`retryAt`: when it may work again). */
  refuseUnsent(code: string, retryAt?: string): void {
    for (const item of this.unsent()) {
      item.state = MessageState.failed;
      item.code = code;
      // A day's limit of conversations: no retry helps before it frees.
      if (retryAt !== undefined) {
        item.retryable = false;
        item.retryAt = retryAt;
      }
    }
  }

  /** Starting the conversation failed for now (network, 5xx): it will be tried again. */
  retryUnsent(): void {
    for (const item of this.unsent()) item.state = MessageState.retrying;
  }

  /** The visitor asked to send a failed message again. */
  retry(clientId: string): ChatItem | undefined {
    const item = this.#unacked.get(clientId);
    if (!item || item.retryable === false) return undefined;
    item.state = MessageState.queued;
    item.code = undefined;
    return item;
  }

  /** Everything to show, in order: stored messages by seq, then this tab's unsent ones. */
  items(): ChatItem[] {
    const stored = [...this.#bySeq.values()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    return [...stored, ...this.unsent()];
  }

  /** The display name of the agent who wrote last. */
  lastAgent(): string | undefined {
    let seq = -1;
    let author: string | undefined;
    for (const item of this.#bySeq.values()) {
      if (item.kind === 'agent' && item.author && (item.seq ?? 0) > seq) {
        seq = item.seq ?? 0;
        author = item.author;
      }
    }
    return author;
  }

  #unackedHolds(item: ChatItem): boolean {
    return item.clientId !== undefined && this.#unacked.get(item.clientId) === item;
  }

  #applyReceipt(item: ChatItem): void {
    if (item.seq === undefined || item.kind !== 'visitor') return;
    const receipt = this.#receipts.get(item.seq);
    if (!receipt) return;
    item.state = receipt.state;
    item.code = receipt.code;
  }
}
