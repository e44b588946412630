import {
  AttachmentRepository,
  AuditRepository,
  ConversationRepository,
  TelegramUserRepository,
  type Conversation,
} from '@topicdesk/data';
import type { AttachmentService } from './attachments/attachment.service';
import { ConversationService } from './conversation.service';
import { busOutbox } from './outbox-relay';
import { SystemMessageKey } from './system-messages';
import type { UnitOfWork, Work } from './unit-of-work';

const BATCH = 100;

/** Retention as of `now`: the deployment's `retentionMs`, unless a tenant's limits set theirs. */
export interface Retention {
  now: Date;
  retentionMs: number;
}

/** What happens to a purged conversation's topic: deleted in Telegram, or kept closed. */
export type TopicPolicy = 'delete' | 'keep';

/**
 * The scheduler's use cases: closing idle conversations, reminding of unclaimed ones, deleting
 * what is past retention. Each works through batches of conversations claimed with FOR UPDATE
 * SKIP LOCKED, one unit of work per batch: replicas running the same job at once never handle
 * the same conversation twice, and one whose state changed meanwhile no longer matches the claim.
 * Each returns how many conversations it handled; running it again does only what is still due.
 */
export class Housekeeping {
  readonly #service: ConversationService;

  /**
   * `files` deletes a purged conversation's attached files from storage (the attachments
   * service); without it, purging conversations that have files fails rather than leave their
   * bytes behind.
   */
  constructor(
    private readonly uow: UnitOfWork,
    private readonly batch = BATCH,
    private readonly files?: Pick<AttachmentService, 'eraseFilesOf'>,
  ) {
    this.#service = new ConversationService(uow);
  }

  /** Closes conversations idle since before `idleSince`: the visitor is told, the topic closed. */
  closeIdle(idleSince: Date): Promise<number> {
    return this.#inBatches(
      (conversations) => conversations.claimIdle(idleSince, this.batch),
      async (work, conversation) => {
        await this.#service.close(work, {
          tenantId: conversation.tenant_id,
          conversationId: conversation.id,
          actor: { type: 'system', id: 'scheduler' },
          reason: 'idle',
          templateKey: SystemMessageKey.autoClosed,
        });
      },
    );
  }

  /**
   * Sends reminder number `reminder` (from 1) to the topics of conversations that nobody holds
   * and that wait since before `waitingBefore` (started, given back or escalated then); `pin`
   * pins it (the last reminder is pinned).
   */
  remindUnclaimed(input: {
    waitingBefore: Date;
    reminder: number;
    minutes: number;
    pin: boolean;
    at: Date;
  }): Promise<number> {
    return this.#inBatches(
      (conversations) =>
        conversations.claimDueReminders(input.waitingBefore, input.reminder, this.batch),
      async (work, conversation) => {
        await new ConversationRepository(work.trx).setRemindersSent(
          conversation.tenant_id,
          conversation.id,
          input.reminder,
        );
        await this.#service.emitSystem(work, {
          conversation,
          key: SystemMessageKey.unclaimedReminder,
          vars: { minutes: input.minutes },
          pin: input.pin,
          at: input.at,
        });
      },
    );
  }

  /**
   * Deletes conversations closed longer than their retention before `now` (messages, notes,
   * marks and attached files go with them: the files' bytes first, see
   * `AttachmentService.eraseFilesOf`) and, under the `delete` policy, asks the bridge to delete
   * their topics. Retention is each tenant's `limits.retentionDays` (its plan) where set, else
   * `retentionMs` (RETENTION_DAYS); every tenant's conversations are swept in one pass.
   */
  purgeClosed(retention: Retention, topicPolicy: TopicPolicy): Promise<number> {
    return this.#inBatches(
      (conversations) => conversations.claimPurgeable(retention, this.batch),
      async (work, conversation) => {
        const { tenant_id: tenantId, id: conversationId } = conversation;
        const files = await this.#eraseFiles(work, tenantId, conversationId);
        await new ConversationRepository(work.trx).delete(tenantId, conversationId);
        await new AuditRepository(work.trx).record({
          tenantId,
          actorType: 'system',
          actorId: 'scheduler',
          action: 'conversation.purge',
          conversationId,
          details: { ticket: conversation.ticket, topicPolicy, files },
        });
        if (topicPolicy !== 'delete' || conversation.topic_id === null) return;
        work.emit(
          busOutbox(tenantId, 'topicRemoval', {
            tenantId,
            conversationId,
            topicId: String(conversation.topic_id),
            groupChatId: String(conversation.group_chat_id ?? 0),
          }),
        );
      },
    );
  }

  /** Forgets private-chat users left without conversations, unseen since `lastSeenBefore`. */
  forgetOrphanUsers(lastSeenBefore: Date): Promise<number> {
    return this.uow.run((work) =>
      new TelegramUserRepository(work.trx).purgeOrphans(lastSeenBefore),
    );
  }

  async #eraseFiles(work: Work, tenantId: string, conversationId: string): Promise<number> {
    if (this.files) return this.files.eraseFilesOf(work, tenantId, conversationId);
    const files = await new AttachmentRepository(work.trx).ofConversation(tenantId, conversationId);
    if (files.length > 0)
      throw new Error(
        `conversation ${conversationId} has ${files.length} files and no storage to delete them from`,
      );
    return 0;
  }

  async #inBatches(
    claim: (conversations: ConversationRepository) => Promise<Conversation[]>,
    step: (work: Work, conversation: Conversation) => Promise<void>,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await this.uow.run(async (work) => {
        const claimed = await claim(new ConversationRepository(work.trx));
        for (const conversation of claimed) await step(work, conversation);
        return claimed.length;
      });
      total += count;
      if (count < this.batch) return total;
    }
  }
}
