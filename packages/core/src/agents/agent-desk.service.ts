import { SyncReason } from '@topicdesk/contracts';
import {
  type AgentPresence,
  AgentRepository,
  AgentTeamRepository,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  EscalationRepository,
  MessageRepository,
  TelegramPostRepository,
  TelegramUpdateRepository,
  type Conversation,
} from '@topicdesk/data';
import { ConversationService, type AgentRef } from '../conversation.service';
import { busOutbox } from '../outbox-relay';
import type { UnitOfWork, Work } from '../unit-of-work';
import { Assignment, AssignmentMode, type AssignmentOptions } from './assignment';
import { Escalation } from './escalation';
import { changePresence, presenceOf, type PresenceReport } from './presence';
import { teamStats, type TeamStats } from './team-stats';
import {
  act,
  AGENT_DISPLAY_NAME,
  nameAgent,
  CLOSED_NOTHING_SENT,
  TOPIC_COMMANDS,
  UNKNOWN_AGENT_NAME,
  type AgentCommand,
  type CommandRun,
  type DeskAction,
  type DeskOutcome,
} from './topic-commands';

/** A Telegram update: the bot that received it and its id (updates are deduplicated per bot). */
export interface UpdateRef {
  botId: string;
  updateId: number;
}

/** An agent's message in a conversation's topic. */
export interface TopicMessage {
  chatId: number;
  messageId: number;
  /** Its author. */
  telegramUserId: number;
  /** The author's Telegram first name (shown only with `unknownAgentName: 'first_name'`). */
  telegramFirstName?: string | undefined;
  /** The message it replies to, if any. */
  replyToMessageId?: number | undefined;
}

export interface AgentDeskOptions {
  /** Members of the support groups who are not registered agents may answer (as "Support"). */
  allowUnknownAgents: boolean;
  /**
   * What unregistered agents are shown as: "Support" (generic, the default), or their Telegram
   * first name — off by default, since it tells visitors a real name.
   */
  unknownAgentName?: UnknownAgentName | undefined;
  /** Nothing reaches the visitor until an agent has claimed the conversation. */
  requireClaim: boolean;
  /** SUPPORT_GROUP_ID: conversations without a group of their own live there. */
  defaultGroupId: number;
  /** Called for each agent message relayed to a visitor, with its tenant (the bridge counts them). */
  onAgentMessage?: ((tenantId: string) => void) | undefined;
  tenantId?: string | undefined;
  /** ASSIGNMENT and AGENT_CAPACITY_DEFAULT (default: manual, capacity 3). */
  assignment?: AssignmentOptions | undefined;
}

/** A Telegram user acting outside a topic. */
export interface AgentWho {
  telegramUserId: number;
  telegramFirstName?: string | undefined;
}

/** AGENT_CAPACITY_DEFAULT's default. */
export const DEFAULT_CAPACITY = 3;

/** AGENT_NAME_FALLBACK: what an agent who is not registered is shown as. */
export type UnknownAgentName = 'generic' | 'first_name';

/** The person behind an update, as the product sees them. */
export type AgentIdentity =
  { kind: 'agent'; agent: AgentRef } | { kind: 'refused'; reason: string };

/** What /stats shows: conversations now, today's first responses, what waits for Telegram. */
export interface DeskStats {
  open: number;
  unclaimed: number;
  medianFirstResponseMs: number | null;
  /** Visitor texts not yet sent to Telegram, across every replica. */
  pending: { count: number; oldest: Date | null };
  /** The queue and who is online with their load. */
  team: TeamStats;
}

/**
 * The agents' use cases in the support groups: replies, edits, commands and header buttons.
 * Each update is applied in one unit of work together with its update id, so a redelivered
 * update changes nothing; answers to agents are queued as topic posts in the same unit of
 * work, so the bridge sends them in order and under Telegram's limits.
 */
export class AgentDesk {
  readonly #service: ConversationService;
  readonly #tenantId: string;
  readonly #assignment: Assignment;
  readonly #defaultCapacity: number;
  readonly #escalation: Escalation;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly options: AgentDeskOptions,
  ) {
    this.#service = new ConversationService(uow);
    this.#tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
    const assignment = options.assignment ?? {
      mode: AssignmentMode.manual,
      defaultCapacity: DEFAULT_CAPACITY,
    };
    this.#assignment = new Assignment(uow, {
      defaultGroupId: options.defaultGroupId,
      ...assignment,
    });
    this.#defaultCapacity = assignment.defaultCapacity;
    this.#escalation = new Escalation(uow, {
      defaultGroupId: options.defaultGroupId,
      tenantId: this.#tenantId,
      assignment,
    });
  }

  /** The conversation of a topic; topic ids are unique per group only, so the group names it too. */
  conversationInTopic(chatId: number, threadId: number): Promise<Conversation | undefined> {
    return new ConversationRepository(this.uow.db).findByGroupTopic(
      this.#tenantId,
      chatId,
      threadId,
      this.options.defaultGroupId,
    );
  }

  /** Who a Telegram user is to the desk: an agent (registered or, if allowed, not), or refused. */
  async identify(telegramUserId: number, firstName?: string): Promise<AgentIdentity> {
    const agent = await new AgentRepository(this.uow.db).findByTelegramUser(
      this.#tenantId,
      telegramUserId,
    );
    if (agent && !agent.active)
      return {
        kind: 'refused',
        reason: 'Your agent account is inactive; an admin can reactivate it.',
      };
    if (!agent && !this.options.allowUnknownAgents) {
      return {
        kind: 'refused',
        reason: 'Only registered agents can answer visitors here; an admin can add you.',
      };
    }
    return {
      kind: 'agent',
      agent: {
        agentId: agent?.id ?? null,
        telegramUserId,
        name: agent?.display_name ?? this.#unknownName(firstName),
      },
    };
  }

  /** An unregistered agent's name: the first name only when allowed and usable as a display name. */
  #unknownName(firstName: string | undefined): string {
    if (this.options.unknownAgentName !== 'first_name' || firstName === undefined)
      return UNKNOWN_AGENT_NAME;
    const parsed = AGENT_DISPLAY_NAME.safeParse(firstName);
    return parsed.success ? parsed.data : UNKNOWN_AGENT_NAME;
  }

  /** `/name <name>` outside a topic (General): the agent names themselves, once per update. */
  setName(
    update: UpdateRef,
    who: AgentWho,
    args: string,
  ): Promise<{ outcome: DeskOutcome; text: string }> {
    return this.#ownSetting(update, who, (work, agent) =>
      nameAgent(work, this.#tenantId, agent, args),
    );
  }

  /**
   * `/online`, `/away`, `/offline` in General, or a /status button: the agent's presence,
   * once per update; `text` is the answer (or the button's toast; "Done." for a redelivery).
   */
  async setPresence(
    update: UpdateRef,
    who: AgentWho,
    presence: AgentPresence,
  ): Promise<{ outcome: DeskOutcome; text: string }> {
    const result = await this.#ownSetting(update, who, (work, agent) =>
      changePresence(work, {
        tenantId: this.#tenantId,
        agent,
        presence,
        assignment: this.#assignment,
        defaultCapacity: this.#defaultCapacity,
      }),
    );
    return result.outcome === 'duplicate' ? { ...result, text: 'Done.' } : result;
  }

  /** An agent changes a setting of their own outside a topic, once per update. */
  async #ownSetting(
    update: UpdateRef,
    who: AgentWho,
    apply: (work: Work, agent: AgentRef) => Promise<{ ok: boolean; text: string }>,
  ): Promise<{ outcome: DeskOutcome; text: string }> {
    const identity = await this.identify(who.telegramUserId, who.telegramFirstName);
    let text = '';
    const outcome = await this.#onceBy(update, who.telegramUserId, async (work) => {
      if (identity.kind === 'refused') {
        text = identity.reason;
        return 'refused';
      }
      const applied = await apply(work, identity.agent);
      text = applied.text;
      return applied.ok ? 'command' : 'refused';
    });
    return { outcome, text };
  }

  /** `/status`: the agent's presence and load; undefined for an unregistered member. */
  presence(telegramUserId: number): Promise<PresenceReport | undefined> {
    return presenceOf(this.uow.db, this.#tenantId, telegramUserId, this.#defaultCapacity);
  }

  /** A pass of automatic assignment (a new conversation waits); 0 in manual mode. */
  assignWaiting(tenantId: string = this.#tenantId): Promise<number> {
    return this.#assignment.drain(tenantId);
  }

  /** Marks an update handled that changes nothing here; false when it was handled already. */
  markProcessed(update: UpdateRef): Promise<boolean> {
    return this.uow.run((work) => this.#markProcessed(work, update));
  }

  /** Answers an agent in the topic (as a reply to their message), once per update. */
  tell(
    update: UpdateRef,
    conversation: Conversation,
    replyTo: number,
    text: string,
    outcome: DeskOutcome,
  ): Promise<DeskOutcome> {
    return this.#once(update, async (work) => {
      await this.#post(work, conversation, replyTo, text);
      return outcome;
    });
  }

  /** An agent's plain message in a topic: relayed to the visitor (claiming it on the way). */
  async reply(
    update: UpdateRef,
    conversation: Conversation,
    message: TopicMessage & { text: string; attachments?: readonly { id: string }[] | undefined },
  ): Promise<DeskOutcome> {
    const identity = await this.identify(message.telegramUserId, message.telegramFirstName);
    return this.#onceBy(update, message.telegramUserId, async (work) => {
      const refuse = async (text: string) => {
        await this.#post(work, conversation, message.messageId, text);
        return 'refused' as const;
      };
      if (identity.kind === 'refused') return refuse(identity.reason);
      if (conversation.status === 'closed') return refuse(CLOSED_NOTHING_SENT);
      if (!conversation.claimed_at) {
        if (this.options.requireClaim)
          return refuse(
            'Claim this conversation first (/claim or the ✋ button); nothing was sent.',
          );
        await this.#claim(work, conversation, identity.agent);
      }
      const known = await new MessageRepository(work.trx).findAgentMessage(
        this.#tenantId,
        message.chatId,
        message.messageId,
      );
      if (known) return 'duplicate';
      await this.#postAgentMessage(
        work,
        conversation,
        message,
        identity.agent,
        message.text,
        message.attachments,
      );
      return 'stored';
    });
  }

  /** A command in a conversation's topic (see the command table in topic-commands.ts). */
  async command(
    update: UpdateRef,
    conversation: Conversation,
    message: TopicMessage,
    command: AgentCommand,
  ): Promise<DeskOutcome> {
    const identity = await this.identify(message.telegramUserId, message.telegramFirstName);
    return this.#onceBy(update, message.telegramUserId, async (work) => {
      const entry = TOPIC_COMMANDS[command.name];
      if (entry.kind === 'answer') {
        await this.#post(work, conversation, message.messageId, entry.text);
        return entry.outcome;
      }
      if (identity.kind === 'refused') {
        await this.#post(work, conversation, message.messageId, identity.reason);
        return 'refused';
      }
      const current = await new ConversationRepository(work.trx).lock(
        this.#tenantId,
        conversation.id,
      );
      const agent = identity.agent;
      const run: CommandRun = {
        work,
        service: this.#service,
        conversation: current,
        agent,
        args: command.args,
        chatId: message.chatId,
        messageId: message.messageId,
        replyToMessageId: message.replyToMessageId,
        say: async (text, outcome = 'command') => {
          await this.#post(work, current, message.messageId, text);
          return outcome;
        },
        relay: async (text) => {
          if (!current.claimed_at) await this.#claim(work, current, agent);
          await this.#postAgentMessage(work, current, message, agent, text);
        },
        assignment: this.#assignment,
        defaultCapacity: this.#defaultCapacity,
        escalation: this.#escalation,
      };
      return entry.run(run);
    });
  }

  /**
   * A header button pressed: the action, announced in the topic when it changed something.
   * `answer` is the text for the button's toast.
   */
  async button(
    update: UpdateRef,
    press: {
      conversationId: string;
      action: DeskAction;
      telegramUserId: number;
      telegramFirstName?: string | undefined;
    },
  ): Promise<{ outcome: DeskOutcome; answer: string }> {
    const identity = await this.identify(press.telegramUserId, press.telegramFirstName);
    let answer = '';
    const outcome = await this.#once(update, async (work) => {
      if (identity.kind === 'refused') {
        answer = identity.reason;
        return 'refused';
      }
      const conversations = new ConversationRepository(work.trx);
      const conversation = await conversations.find(this.#tenantId, press.conversationId);
      if (!conversation) {
        answer = 'This conversation no longer exists.';
        return 'refused';
      }
      const current = await conversations.lock(this.#tenantId, conversation.id);
      const result = await act(
        work,
        this.#service,
        current,
        press.action,
        identity.agent,
        this.#assignment,
      );
      answer = result.text;
      if (!result.ok) return 'refused';
      await this.#post(work, current, null, result.text);
      return 'command';
    });
    return { outcome, answer: outcome === 'duplicate' ? 'Done.' : answer };
  }

  /** An agent edited their message in Telegram: the visitor's copy follows. */
  edit(
    update: UpdateRef,
    edit: { chatId: number; messageId: number; text: string; at: Date; telegramUserId: number },
  ): Promise<DeskOutcome> {
    return this.#once(update, async (work) => {
      const stored = await new MessageRepository(work.trx).findAgentMessage(
        this.#tenantId,
        edit.chatId,
        edit.messageId,
      );
      if (!stored) return 'ignored:edit_of_unknown_message';
      if (stored.deleted_at) return 'ignored:edit_of_retracted_message';
      if (stored.text === edit.text) return 'ignored:edit_unchanged';
      await this.#service.editAgentMessage(work, {
        tenantId: this.#tenantId,
        message: stored,
        text: edit.text,
        at: edit.at,
        telegramUserId: edit.telegramUserId,
      });
      return 'edited';
    });
  }

  /** /stats: the queue, who is online with their load, the median first response since `since`. */
  async stats(since: Date): Promise<DeskStats> {
    const stats = await new ConversationRepository(this.uow.db).stats(this.#tenantId, since);
    return {
      ...stats,
      pending: await new MessageRepository(this.uow.db).pendingSummary(),
      team: await teamStats(this.uow.db, this.#tenantId, this.#defaultCapacity),
    };
  }

  /** The conversation an escalation moved out of this topic, if one did. */
  async movedFrom(chatId: number, threadId: number): Promise<Conversation | undefined> {
    const moved = await new EscalationRepository(this.uow.db).movedFrom(
      this.#tenantId,
      chatId,
      threadId,
    );
    return moved?.conversation;
  }

  /**
   * An agent wrote in a topic its conversation left (escalated to another group): nothing
   * reaches the visitor; the answer, in that topic, says where the conversation is now.
   */
  answerInOldTopic(
    update: UpdateRef,
    conversation: Conversation,
    message: { chatId: number; threadId: number; messageId: number },
  ): Promise<DeskOutcome> {
    return this.#once(update, async (work) => {
      const { tenant_id: tenantId, id: conversationId } = conversation;
      await new TelegramPostRepository(work.trx).add([
        {
          tenantId,
          conversationId,
          topic: { chatId: message.chatId, threadId: message.threadId },
          replyToMessageId: message.messageId,
          text: `This conversation was escalated to L${conversation.level} and continues in another topic; nothing was sent to the visitor.`,
        },
      ]);
      work.emit(
        busOutbox(tenantId, 'conversationSync', {
          tenantId,
          conversationId,
          reason: SyncReason.STATUS_CHANGED,
        }),
      );
      return 'refused';
    });
  }

  /** Runs `apply` in one unit of work with the update's dedupe mark: a redelivery is a no-op. */
  #once(update: UpdateRef, apply: (work: Work) => Promise<DeskOutcome>): Promise<DeskOutcome> {
    return this.uow.run(async (work) =>
      (await this.#markProcessed(work, update)) ? apply(work) : 'duplicate',
    );
  }

  /** `#once` for an agent's own update: their presence's idle clock starts again. */
  #onceBy(
    update: UpdateRef,
    telegramUserId: number,
    apply: (work: Work) => Promise<DeskOutcome>,
  ): Promise<DeskOutcome> {
    return this.#once(update, async (work) => {
      await new AgentTeamRepository(work.trx).touch(this.#tenantId, telegramUserId, new Date());
      return apply(work);
    });
  }

  #markProcessed(work: Work, update: UpdateRef): Promise<boolean> {
    return new TelegramUpdateRepository(work.trx).markProcessed(
      this.#tenantId,
      update.botId,
      update.updateId,
    );
  }

  /** Queues a bot answer in the topic and a sync to send it. */
  async #post(
    work: Work,
    conversation: Conversation,
    replyTo: number | null,
    text: string,
  ): Promise<void> {
    const { tenant_id: tenantId, id: conversationId } = conversation;
    await new TelegramPostRepository(work.trx).add([
      { tenantId, conversationId, text, replyToMessageId: replyTo },
    ]);
    work.emit(
      busOutbox(tenantId, 'conversationSync', {
        tenantId,
        conversationId,
        reason: SyncReason.STATUS_CHANGED,
      }),
    );
  }

  #claim(work: Work, conversation: Conversation, agent: AgentRef): Promise<boolean> {
    return this.#service.claim(work, {
      tenantId: this.#tenantId,
      conversationId: conversation.id,
      agent,
    });
  }

  async #postAgentMessage(
    work: Work,
    conversation: Conversation,
    message: TopicMessage,
    agent: AgentRef,
    text: string,
    attachments?: readonly { id: string }[],
  ): Promise<void> {
    await this.#service.postAgentMessage(work, {
      attachments,
      tenantId: this.#tenantId,
      conversationId: conversation.id,
      text,
      authorName: agent.name,
      agentId: agent.agentId,
      telegramUserId: agent.telegramUserId,
      telegramChatId: message.chatId,
      telegramMessageId: message.messageId,
    });
    this.options.onAgentMessage?.(conversation.tenant_id);
  }
}
