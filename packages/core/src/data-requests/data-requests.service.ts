import { SyncReason } from '@topicdesk/contracts';
import {
  DataRequestRepository,
  TelegramPostRepository,
  TelegramUpdateRepository,
  type Conversation,
  type ConversationRecord,
  type ConversationTombstone,
  type TelegramUser,
} from '@topicdesk/data';
import type { UpdateRef } from '../agents/agent-desk.service';
import type { AttachmentService } from '../attachments/attachment.service';
import { recordAudit, type Actor } from '../conversation.service';
import type { TopicPolicy } from '../housekeeping.service';
import { dataRequestMetrics } from '../metrics';
import { busOutbox, fanoutOutbox } from '../outbox-relay';
import type { UnitOfWork, Work } from '../unit-of-work';
import {
  conversationExport,
  EXPORT_FORMAT,
  type ConversationExport,
  type ExportedFile,
} from './export-view';

/** What `/mydata` sends a private-chat user. */
export interface TelegramUserExport {
  format: string;
  exportedAt: string;
  user: { languageCode: string | null; firstSeenAt: string; lastSeenAt: string; note: string };
  conversations: ConversationExport[];
}

/** A private-chat user in the audit log: their row's id (no Telegram id), gone once erased. */
function visitorActor(user: TelegramUser): Actor {
  return { type: 'visitor', id: `telegram-user:${user.id}` };
}

/** Why a data-subject request cannot be served; the gateway maps each to an HTTP answer. */
export const DataRequestRefusal = {
  notFound: 'NOT_FOUND',
  erased: 'CONVERSATION_ERASED',
} as const;
export type DataRequestRefusal = (typeof DataRequestRefusal)[keyof typeof DataRequestRefusal];

export class DataRequestError extends Error {
  override readonly name = 'DataRequestError';
  constructor(
    readonly code: DataRequestRefusal,
    message: string,
    readonly tombstone?: ConversationTombstone,
  ) {
    super(message);
  }
}

export interface EraseResult {
  tombstone: ConversationTombstone;
  /** False when the conversation had been erased before (the same tombstone is answered). */
  erasedNow: boolean;
}

export interface DataRequestsOptions {
  /** Exports' download links and erasure of the files' bytes. */
  files: Pick<AttachmentService, 'eraseFilesOf' | 'exportView'>;
}

/** What the topic shows of an erased conversation (policy `keep`). */
export function erasedPost(ticket: string, at: Date): string {
  return `🗑 The visitor's data of ${ticket} was erased on ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC at their request. Messages in this topic are Telegram's copies; the support system keeps none.`;
}

/**
 * Data-subject requests: everything stored about a conversation (by id or ticket), as data or
 * a transcript, and its erasure — personal data deleted, the conversation closed and its
 * visitor tokens refused, its topic deleted or renamed (`TopicPolicy`), a tombstone kept.
 * Both are audited (`data.export`, `data.erase`).
 */
export class DataRequests {
  readonly #metrics = dataRequestMetrics();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly options: DataRequestsOptions,
  ) {}

  /** Everything stored about the conversation; throws `DataRequestError`. */
  async export(
    tenantId: string,
    idOrTicket: string,
    actor: Actor,
    format: 'json' | 'text',
  ): Promise<ConversationExport> {
    const repository = new DataRequestRepository(this.uow.db);
    const conversation = await this.#find(repository, tenantId, idOrTicket);
    const record = await repository.record(tenantId, conversation);
    const view = await this.#view(record);
    await this.uow.run((work) =>
      recordAudit(work, tenantId, actor, 'data.export', conversation.id, {
        ticket: conversation.ticket,
        format,
      }),
    );
    this.#metrics.requests.add(1, { kind: 'export', by: actor.type });
    return view;
  }

  /**
   * What is stored about a private-chat user (their `/mydata`): their row's dates and each of
   * their conversations' export. `update` is the Telegram update that asked: marked processed
   * with the audit entry, so a redelivery answers `undefined` and nothing is sent twice.
   */
  async exportTelegramUser(
    update: UpdateRef,
    user: TelegramUser,
  ): Promise<TelegramUserExport | undefined> {
    const tenantId = user.tenant_id;
    const repository = new DataRequestRepository(this.uow.db);
    const conversations = await repository.ofTelegramUser(tenantId, user.id);
    const views: ConversationExport[] = [];
    for (const conversation of conversations)
      views.push(await this.#view(await repository.record(tenantId, conversation)));
    const fresh = await this.uow.run(async (work) => {
      if (
        !(await new TelegramUpdateRepository(work.trx).markProcessed(
          tenantId,
          update.botId,
          update.updateId,
        ))
      )
        return false;
      await recordAudit(work, tenantId, visitorActor(user), 'data.export', null, {
        subject: 'telegram_user',
        conversations: conversations.map((c) => c.ticket),
      });
      return true;
    });
    if (!fresh) return undefined;
    this.#metrics.requests.add(1, { kind: 'export', by: 'visitor' });
    return {
      format: EXPORT_FORMAT,
      exportedAt: new Date().toISOString(),
      user: {
        languageCode: user.language_code,
        firstSeenAt: user.created_at.toISOString(),
        lastSeenAt: user.last_seen_at.toISOString(),
        note: 'Your Telegram user id is stored only encrypted; agents never see it.',
      },
      conversations: views,
    };
  }

  /**
   * Erases the conversation's personal data (see `DataRequestRepository.erase`) in one unit of
   * work with its tombstone and audit entry; its topic is deleted (`delete`) or renamed with a
   * post saying the data was erased (`keep`), through the bridge like every Telegram call.
   * Erasing an erased conversation answers its tombstone again (`erasedNow: false`).
   */
  async erase(
    tenantId: string,
    idOrTicket: string,
    actor: Actor,
    topicPolicy: TopicPolicy,
  ): Promise<EraseResult> {
    return this.uow.run(async (work) => {
      const repository = new DataRequestRepository(work.trx);
      const found = await repository.find(tenantId, idOrTicket);
      const erased = await repository.tombstone(tenantId, found?.id ?? idOrTicket);
      if (erased) return { tombstone: erased, erasedNow: false };
      if (!found) throw new DataRequestError(DataRequestRefusal.notFound, 'no such conversation');
      const conversation = await repository.lock(tenantId, found.id);
      if (!conversation)
        throw new DataRequestError(DataRequestRefusal.notFound, 'no such conversation');
      // Another erase of it committed while this one waited for the lock: answer its tombstone.
      const meanwhile = conversation.erased_at
        ? await repository.tombstone(tenantId, conversation.id)
        : undefined;
      if (meanwhile) return { tombstone: meanwhile, erasedNow: false };
      return {
        tombstone: await this.eraseIn(work, conversation, actor, topicPolicy),
        erasedNow: true,
      };
    });
  }

  /**
   * Erases every conversation of a private-chat user and then their row (their confirmed
   * `/forget`); answers the tombstones, or undefined when `update` was handled before.
   */
  async eraseTelegramUser(
    update: UpdateRef,
    user: TelegramUser,
    topicPolicy: TopicPolicy,
  ): Promise<ConversationTombstone[] | undefined> {
    const tenantId = user.tenant_id;
    const actor = visitorActor(user);
    return this.uow.run(async (work) => {
      if (
        !(await new TelegramUpdateRepository(work.trx).markProcessed(
          tenantId,
          update.botId,
          update.updateId,
        ))
      )
        return undefined;
      const repository = new DataRequestRepository(work.trx);
      const tombstones: ConversationTombstone[] = [];
      for (const found of await repository.ofTelegramUser(tenantId, user.id)) {
        const conversation = await repository.lock(tenantId, found.id);
        if (conversation && conversation.erased_at === null)
          tombstones.push(await this.eraseIn(work, conversation, actor, topicPolicy));
      }
      await repository.forgetTelegramUser(tenantId, user.id);
      await recordAudit(work, tenantId, actor, 'data.erase', null, {
        subject: 'telegram_user',
        conversations: tombstones.map((t) => t.ticket),
      });
      return tombstones;
    });
  }

  /** Erases one locked conversation inside the caller's unit of work. */
  async eraseIn(
    work: Work,
    conversation: Conversation,
    actor: Actor,
    topicPolicy: TopicPolicy,
  ): Promise<ConversationTombstone> {
    const tenantId = conversation.tenant_id;
    const repository = new DataRequestRepository(work.trx);
    const at = new Date();
    const files = await this.options.files.eraseFilesOf(work, tenantId, conversation.id);
    const record = await repository.record(tenantId, conversation);
    const deleteTopic = topicPolicy === 'delete';
    await repository.erase(tenantId, conversation, at, deleteTopic);
    const tombstone = await repository.addTombstone({
      tenantId,
      conversation,
      at,
      byType: actor.type,
      byId: actor.id ?? null,
      topicPolicy,
    });
    await recordAudit(work, tenantId, actor, 'data.erase', conversation.id, {
      ticket: conversation.ticket,
      topicPolicy,
      messages: record.messages.length,
      notes: record.notes.length,
      files,
    });
    work.afterCommit(() => this.#metrics.requests.add(1, { kind: 'erase', by: actor.type }));
    work.emit(fanoutOutbox(tenantId, conversation.id, { type: 'status', status: 'closed' }));
    if (deleteTopic) {
      // The current topic and those an escalation left (they carry a transcript).
      const topics = record.escalations
        .filter((e) => e.from_topic_id !== null)
        .map((e) => ({ chat: e.from_group_chat_id, topic: e.from_topic_id as number }));
      if (conversation.topic_id !== null)
        topics.push({ chat: conversation.group_chat_id, topic: conversation.topic_id });
      for (const { chat, topic } of topics)
        work.emit(
          busOutbox(tenantId, 'topicRemoval', {
            tenantId,
            conversationId: conversation.id,
            topicId: String(topic),
            groupChatId: String(chat ?? 0),
          }),
        );
    } else if (conversation.topic_id !== null) {
      await new TelegramPostRepository(work.trx).add([
        { tenantId, conversationId: conversation.id, text: erasedPost(conversation.ticket, at) },
      ]);
      work.emit(
        busOutbox(tenantId, 'conversationSync', {
          tenantId,
          conversationId: conversation.id,
          reason: SyncReason.STATUS_CHANGED,
        }),
      );
    }
    return tombstone;
  }

  async #find(
    repository: DataRequestRepository,
    tenantId: string,
    idOrTicket: string,
  ): Promise<Conversation> {
    const conversation = await repository.find(tenantId, idOrTicket);
    const tombstone = await repository.tombstone(tenantId, conversation?.id ?? idOrTicket);
    if (tombstone)
      throw new DataRequestError(
        DataRequestRefusal.erased,
        `the conversation's data was erased on ${tombstone.erased_at.toISOString()}`,
        tombstone,
      );
    if (!conversation)
      throw new DataRequestError(DataRequestRefusal.notFound, 'no such conversation');
    return conversation;
  }

  async #view(record: ConversationRecord): Promise<ConversationExport> {
    const files: ExportedFile[] = [];
    for (const row of record.attachments)
      files.push({ ...(await this.options.files.exportView(row)), messageId: row.message_id });
    return conversationExport(record, files, new Date());
  }
}
