import { SyncReason } from '@topicdesk/contracts';
import {
  appendMessage,
  DeliveryState,
  MessageKind,
  TelegramPostRepository,
  TemplateRepository,
  type Conversation,
  type DB,
  type Kysely,
  type OutboxInput,
} from '@topicdesk/data';
import { messageEvent } from './events';
import { busOutbox, fanoutOutbox } from './outbox-relay';

/** The seeded template keys; admins may add more. */
export const SystemMessageKey = {
  welcome: 'welcome',
  agentJoined: 'agent_joined',
  unclaimedReminder: 'unclaimed_reminder',
  closedNote: 'closed_note',
  reopened: 'reopened',
  autoClosed: 'auto_closed',
} as const;
export type SystemMessageKey = (typeof SystemMessageKey)[keyof typeof SystemMessageKey];

/** Replaces `{name}` with the variable's value; unknown variables stay as they are. */
export function renderTemplate(
  text: string,
  vars: Readonly<Record<string, string | number>>,
): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

export interface EmitInput {
  conversation: Conversation;
  key: string;
  vars?: Readonly<Record<string, string | number>>;
  /** Pin in the topic even if the template does not say so (the second reminder). */
  pin?: boolean;
  at?: Date;
}

/**
 * System messages from templates: resolved by locale (exact → two-letter → default), held back
 * when the same key was shown in the conversation less than its minimum interval ago, and
 * delivered as their flags say — kept in the history (with a seq), shown as a WS banner,
 * posted to the topic, pinned there.
 */
export class SystemMessages {
  /** Emits inside the caller's transaction; returns the outbox rows to publish after commit. */
  async emit(trx: Kysely<DB>, input: EmitInput): Promise<OutboxInput[]> {
    const { conversation } = input;
    const at = input.at ?? new Date();
    const template = await new TemplateRepository(trx).resolve(
      conversation.tenant_id,
      input.key,
      conversation.locale,
    );
    if (!template) return [];
    if (
      !(await new TemplateRepository(trx).mark(
        conversation.tenant_id,
        conversation.id,
        input.key,
        at,
        template.min_interval_ms,
      ))
    )
      return [];
    const text = renderTemplate(template.text, { ticket: conversation.ticket, ...input.vars });
    const rows: OutboxInput[] = [];
    if (template.persist) {
      const { message } = await appendMessage(trx, {
        tenantId: conversation.tenant_id,
        conversationId: conversation.id,
        kind: MessageKind.system,
        text,
        delivery: DeliveryState.none,
        at,
      });
      rows.push(
        fanoutOutbox(conversation.tenant_id, conversation.id, {
          ...messageEvent(message),
          ...(template.ws_banner ? { banner: true as const } : {}),
        }),
      );
    } else if (template.ws_banner) {
      rows.push(
        fanoutOutbox(conversation.tenant_id, conversation.id, {
          type: 'system',
          key: input.key,
          text,
          banner: true,
        }),
      );
    }
    if (template.telegram) {
      await new TelegramPostRepository(trx).add([
        {
          tenantId: conversation.tenant_id,
          conversationId: conversation.id,
          text,
          pin: template.pin || input.pin === true,
        },
      ]);
      rows.push(
        busOutbox(conversation.tenant_id, 'conversationSync', {
          tenantId: conversation.tenant_id,
          conversationId: conversation.id,
          reason: SyncReason.STATUS_CHANGED,
        }),
      );
    }
    return rows;
  }
}
