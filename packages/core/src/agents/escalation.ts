import { SyncReason } from '@topicdesk/contracts';
import { withoutInvisibles } from '@topicdesk/protocol';
import {
  AgentRepository,
  AuditRepository,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  EscalatedBy,
  EscalationRepository,
  SupportGroupRepository,
  TelegramPostRepository,
  type Agent,
  type Conversation,
  type Message,
  type PostEntity,
  type SupportGroup,
} from '@topicdesk/data';
import { ConversationService, type AgentRef } from '../conversation.service';
import { escalationGroup } from '../group-routing';
import { teamMetrics } from '../metrics';
import { busOutbox } from '../outbox-relay';
import type { UnitOfWork, Work } from '../unit-of-work';
import { Assignment, AssignmentMode, type AssignmentOptions } from './assignment';
import { sentence } from './sentence';

/** The highest level: L3 conversations are not escalated further. */
export const TOP_LEVEL = 3;
/** Messages of the conversation a new topic gets (the recent transcript), at most. */
export const TRANSCRIPT_MESSAGES = 20;
/** Next-level agents mentioned (Telegram notifies each), at most. */
const MENTIONS = 10;
const REASON_LIMIT = 500;
/** What a transcript line shows of a message, at most (the whole post is one Telegram message). */
const LINE_LIMIT = 400;
const POST_LIMIT = 4096;

/**
 * Why an escalation did not happen, as stable codes (docs/errors.md): the conversation does not
 * exist, is closed, is at L3 already, or the agent named is not an active agent.
 */
export const EscalationRefusal = {
  notFound: 'ESCALATION_NOT_FOUND',
  closed: 'ESCALATION_CONVERSATION_CLOSED',
  topLevel: 'ESCALATION_TOP_LEVEL',
  unknownAgent: 'ESCALATION_UNKNOWN_AGENT',
} as const;
export type EscalationRefusal = (typeof EscalationRefusal)[keyof typeof EscalationRefusal];

/** What an escalation did (`text` is the answer for the agent who asked). */
export type EscalationResult =
  | {
      ok: true;
      fromLevel: number;
      toLevel: number;
      /** The group it moved to; null: it stayed in its topic. */
      movedToGroup: number | null;
      text: string;
    }
  | { ok: false; code: EscalationRefusal; text: string };

/** Who escalates: an agent (by `agents.id`) or the SLA job. */
export type EscalateBy = { agentId: number } | 'sla';

export interface EscalationOptions {
  /** SUPPORT_GROUP_ID: conversations without a group of their own live there. */
  defaultGroupId: number;
  tenantId?: string | undefined;
  /** ASSIGNMENT and AGENT_CAPACITY_DEFAULT (default: manual). */
  assignment?: AssignmentOptions | undefined;
}

/**
 * Escalation L1 → L2 → L3. A move sets the conversation's level and gives it back to the queue
 * (nobody holds it; in auto mode the new level's agents are assigned in the same unit of work).
 * Where the new level has a support group of its own, the conversation moves there: the sync
 * opens a topic with the header, then a post with the reason, the level's agents mentioned and
 * the recent transcript; the old topic gets a post saying where it went, and no longer relays.
 * Otherwise it stays in its topic, whose header and name show the level, and the post mentions
 * the level's agents. Every move is recorded (`conversation_escalations`) and audited
 * (`conversation.escalate`); the visitor is told only if the tenant has an `escalated` template.
 */
export class Escalation {
  readonly #service: ConversationService;
  readonly #assignment: Assignment;
  readonly #tenantId: string;
  readonly #metrics = teamMetrics();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly options: EscalationOptions,
  ) {
    this.#service = new ConversationService(uow);
    this.#tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
    this.#assignment = new Assignment(uow, {
      defaultGroupId: options.defaultGroupId,
      ...(options.assignment ?? { mode: AssignmentMode.manual, defaultCapacity: 3 }),
    });
  }

  /**
   * Moves a conversation one level up, in a unit of work of its own — the use case for callers
   * outside Telegram updates, such as the SLA job (`by: 'sla'`) or an agent known by id. Never
   * throws for a refusal: `ok: false` with a stable code (L3 already, closed, no such
   * conversation or agent). Two callers at once are serialised by the conversation's row lock;
   * the second escalates from where the first left it.
   *
   * @example await escalation.escalate(conversationId, { reason: 'first response SLA breached', by: 'sla' })
   */
  escalate(
    conversationId: string,
    input: { reason?: string | null | undefined; by: EscalateBy },
  ): Promise<EscalationResult> {
    return this.uow.run(async (work) => {
      const conversations = new ConversationRepository(work.trx);
      if (!(await conversations.find(this.#tenantId, conversationId)))
        return refusal(EscalationRefusal.notFound, 'No such conversation.');
      let by: AgentRef | 'sla' = 'sla';
      if (input.by !== 'sla') {
        const agent = await new AgentRepository(work.trx).findById(
          this.#tenantId,
          input.by.agentId,
        );
        if (!agent?.active) return refusal(EscalationRefusal.unknownAgent, 'No such active agent.');
        by = {
          agentId: agent.id,
          telegramUserId: agent.telegram_user_id,
          name: agent.display_name,
        };
      }
      const conversation = await conversations.lock(this.#tenantId, conversationId);
      return this.escalateIn(work, conversation, { reason: input.reason, by });
    });
  }

  /** The move inside the caller's unit of work, `conversation` locked (the /escalate command). */
  async escalateIn(
    work: Work,
    conversation: Conversation,
    input: {
      reason?: string | null | undefined;
      by: AgentRef | 'sla';
      /** The command's message: the post in the topic it was written in replies to it. */
      replyTo?: number | undefined;
    },
  ): Promise<EscalationResult> {
    const { tenant_id: tenantId, id } = conversation;
    if (conversation.status === 'closed')
      return refusal(EscalationRefusal.closed, 'This conversation is closed; /reopen it first.');
    const from = conversation.level;
    if (from >= TOP_LEVEL)
      return refusal(
        EscalationRefusal.topLevel,
        `This conversation is at L${from}, the highest level; it cannot be escalated further.`,
      );
    const move = await this.#plan(work, conversation, input);
    const escalations = new EscalationRepository(work.trx);
    // Read before the move: what the old topic showed goes with the conversation.
    const transcript =
      move.toGroupId !== null
        ? await escalations.transcript(tenantId, id, TRANSCRIPT_MESSAGES)
        : [];
    await escalations.move(tenantId, id, {
      level: move.to,
      groupChatId: move.toGroupId ?? undefined,
      at: move.at,
    });
    await this.#record(work, conversation, move);
    await this.#announce(work, conversation, move, transcript, input.replyTo);
    // Agents only, unless the tenant added an `escalated` template (none is seeded).
    await this.#service.emitSystem(work, {
      conversation: { ...conversation, level: move.to },
      key: 'escalated',
      vars: { level: `L${move.to}` },
      at: move.at,
    });
    await this.#assignment.drainIn(
      work,
      tenantId,
      input.by === 'sla'
        ? undefined
        : { conversationId: id, telegramUserId: input.by.telegramUserId },
    );
    work.afterCommit(() =>
      this.#metrics.escalations.add(1, { by: move.by.type, level: String(move.to) }),
    );
    const moved = move.toGroupId !== null;
    const where = moved
      ? `It moves to a new topic in the L${move.to} group${titled(move.toGroup)}; replies here no longer reach the visitor.`
      : `The L${move.to} agents were notified.`;
    return {
      ok: true,
      fromLevel: move.from,
      toLevel: move.to,
      movedToGroup: move.toGroupId,
      text: `${move.head} ${where}`,
    };
  }

  /** Where the conversation goes and who moves it (nothing written yet). */
  async #plan(
    work: Work,
    conversation: Conversation,
    input: { reason?: string | null | undefined; by: AgentRef | 'sla' },
  ): Promise<Move> {
    const from = conversation.level;
    const to = from + 1;
    const groups = await new SupportGroupRepository(work.trx).list(conversation.tenant_id);
    const currentGroup = conversation.group_chat_id ?? this.options.defaultGroupId;
    const target = escalationGroup(groups, to, conversation.locale, conversation.segment);
    const toGroupId = target !== null && target !== currentGroup ? target : null;
    const by =
      input.by === 'sla'
        ? { type: EscalatedBy.sla, id: null, name: 'the SLA job' }
        : { type: EscalatedBy.agent, id: String(input.by.telegramUserId), name: input.by.name };
    return {
      from,
      to,
      reason: cleanReason(input.reason),
      by,
      head: sentence(`⬆️ Escalated from L${from} to L${to} by ${by.name}`),
      currentGroup,
      servingGroup: target ?? currentGroup,
      toGroupId,
      toGroup: groups.find((g) => g.chat_id === toGroupId),
      oldTopic:
        toGroupId !== null && conversation.topic_id !== null
          ? { groupChatId: currentGroup, topicId: conversation.topic_id }
          : null,
      at: new Date(),
    };
  }

  /** The move's record (the old topic's lookup) and its audit entry. */
  async #record(work: Work, conversation: Conversation, move: Move): Promise<void> {
    const { tenant_id: tenantId, id } = conversation;
    await new EscalationRepository(work.trx).record({
      tenantId,
      conversationId: id,
      fromLevel: move.from,
      toLevel: move.to,
      reason: move.reason,
      by: { type: move.by.type, id: move.by.id },
      from: move.oldTopic,
      toGroupChatId: move.toGroupId,
      at: move.at,
    });
    const sla = move.by.type === EscalatedBy.sla;
    await new AuditRepository(work.trx).record({
      tenantId,
      actorType: sla ? 'system' : 'agent',
      actorId: sla ? 'sla' : move.by.id,
      action: 'conversation.escalate',
      conversationId: id,
      details: {
        from: move.from,
        to: move.to,
        reason: move.reason,
        by: move.by.type,
        ...(sla ? {} : { agent: move.by.name }),
        ...(move.toGroupId !== null
          ? { fromGroup: move.currentGroup, toGroup: move.toGroupId }
          : {}),
      },
    });
  }

  /** The posts: the old topic's note (moving), and the arrival post in the conversation's topic. */
  async #announce(
    work: Work,
    conversation: Conversation,
    move: Move,
    transcript: readonly Message[],
    replyTo: number | undefined,
  ): Promise<void> {
    const { tenant_id: tenantId, id } = conversation;
    const agents = await new EscalationRepository(work.trx).agentsOfLevel(
      tenantId,
      move.to,
      move.servingGroup,
      MENTIONS,
    );
    const posts = new TelegramPostRepository(work.trx);
    if (move.oldTopic)
      await posts.add([
        {
          tenantId,
          conversationId: id,
          topic: { chatId: move.oldTopic.groupChatId, threadId: move.oldTopic.topicId },
          text: movedNote(move.head, move.reason, move.to, move.toGroup),
          replyToMessageId: replyTo,
        },
      ]);
    await posts.add([
      {
        tenantId,
        conversationId: id,
        ...arrivalPost(move.head, move.reason, move.to, agents, transcript),
        // In the same topic, the post is the command's answer.
        replyToMessageId: move.toGroupId !== null ? null : replyTo,
      },
    ]);
    work.emit(
      busOutbox(tenantId, 'conversationSync', {
        tenantId,
        conversationId: id,
        reason: SyncReason.STATUS_CHANGED,
      }),
    );
  }
}

/** A move up a level, as planned before anything is written. */
interface Move {
  from: number;
  to: number;
  reason: string | null;
  by: { type: EscalatedBy; id: string | null; name: string };
  /** "⬆️ Escalated from L1 to L2 by Dana." */
  head: string;
  /** The group it is in now (SUPPORT_GROUP_ID when it has none of its own). */
  currentGroup: number;
  /** The group whose agents of the new level are mentioned. */
  servingGroup: number;
  /** The group it moves to; null: it stays in its topic. */
  toGroupId: number | null;
  toGroup: SupportGroup | undefined;
  /** The topic it leaves (moving, with a topic already). */
  oldTopic: { groupChatId: number; topicId: number } | null;
  at: Date;
}

/** ` “Second line”` for a group with a title, else nothing. */
function titled(group: SupportGroup | undefined): string {
  return group?.title ? ` “${group.title}”` : '';
}

function refusal(code: EscalationRefusal, text: string): EscalationResult {
  return { ok: false, code, text };
}

/** One line, without invisible characters, at most REASON_LIMIT; null when empty. */
function cleanReason(reason: string | null | undefined): string | null {
  const text = withoutInvisibles(reason ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return null;
  return cut(text, REASON_LIMIT);
}

/** The old topic's note: where the conversation went, and that this topic no longer relays. */
function movedNote(
  head: string,
  reason: string | null,
  to: number,
  group: SupportGroup | undefined,
): string {
  const lines = [head];
  if (reason) lines.push(`Reason: ${reason}`);
  lines.push(
    `➡️ It continues in a new topic in the L${to} group${titled(group)}. Replies here no longer reach the visitor.`,
  );
  return lines.join('\n');
}

/**
 * The post in the conversation's topic after the move: who moved it and why, the new level's
 * agents mentioned (Telegram notifies them), and, in a new topic, the recent transcript —
 * one Telegram message, the oldest lines left out when it would not fit.
 */
export function arrivalPost(
  head: string,
  reason: string | null,
  to: number,
  agents: readonly Pick<Agent, 'display_name' | 'telegram_user_id'>[],
  transcript: readonly Message[],
): { text: string; entities: PostEntity[] } {
  let text = head;
  if (reason) text += `\nReason: ${reason}`;
  const entities: PostEntity[] = [];
  if (agents.length > 0) {
    text += `\nL${to}: `;
    agents.forEach((agent, index) => {
      if (index > 0) text += ', ';
      entities.push({
        type: 'text_mention',
        offset: text.length,
        length: agent.display_name.length,
        user: { id: agent.telegram_user_id, first_name: agent.display_name },
      });
      text += agent.display_name;
    });
  } else {
    text += `\nNo agent is registered for L${to}; anyone here can /claim it.`;
  }
  const lines = transcript.map(transcriptLine);
  const title = (count: number) =>
    `\n\n🧾 The last ${count === 1 ? 'message' : `${count} messages`} before the escalation:\n`;
  // The oldest lines go first when the whole would not fit in one message.
  while (
    lines.length > 0 &&
    text.length + title(lines.length).length + lines.join('\n').length > POST_LIMIT
  )
    lines.shift();
  if (lines.length > 0) text += title(lines.length) + lines.join('\n');
  return { text, entities };
}

function transcriptLine(message: Message): string {
  const who = message.kind === 'visitor' ? '👤 Visitor' : `🎧 ${message.author_name ?? 'Agent'}`;
  const files = message.attachment_count > 0 ? ` [${message.attachment_count} file(s)]` : '';
  const body = withoutInvisibles(message.text).replace(/\s+/g, ' ').trim();
  return `${who}: ${cut(body, LINE_LIMIT)}${files}`;
}

/** At most `limit` UTF-16 units, never splitting a character, with an ellipsis when cut. */
function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let out = '';
  for (const char of text) {
    if (out.length + char.length > limit - 1) break;
    out += char;
  }
  return `${out}…`;
}
