import {
  AgentPresence,
  presenceText,
  type AgentDesk,
  type DeskOutcome,
  type UpdateRef,
} from '@topicdesk/core';
import type { InlineKeyboardMarkup, Message } from 'grammy/types';
import type { TopicSync } from '../sync/topic-sync';

// The /status buttons travel as callback data `tp:<presence>` (the header's are `td:…`).
const PRESENCE_DATA = /^tp:(online|away|offline)$/;

export function presenceData(presence: AgentPresence): string {
  return `tp:${presence}`;
}

export function parsePresenceData(data: string | undefined): AgentPresence | undefined {
  const match = data ? PRESENCE_DATA.exec(data) : null;
  return match ? (match[1] as AgentPresence) : undefined;
}

/** The buttons under a /status answer: one per presence. */
export function presenceKeyboard(): InlineKeyboardMarkup {
  const button = (text: string, presence: AgentPresence) => ({
    text,
    callback_data: presenceData(presence),
  });
  return {
    inline_keyboard: [
      [
        button('🟢 Online', AgentPresence.online),
        button('🌙 Away', AgentPresence.away),
        button('⚫ Offline', AgentPresence.offline),
      ],
    ],
  };
}

/**
 * `/status` in General or a topic: the agent's presence and load, with buttons to change it.
 * Answered directly (best effort, once per update), in the thread it was asked in.
 */
export class PresenceAnswers {
  constructor(
    private readonly desk: AgentDesk,
    private readonly sync: TopicSync,
  ) {}

  async status(
    ref: UpdateRef,
    message: Message,
    telegramUserId: number,
    inTopic: boolean,
  ): Promise<DeskOutcome> {
    if (!(await this.desk.markProcessed(ref))) return 'duplicate';
    const report = await this.desk.presence(telegramUserId);
    const text = report
      ? `You are ${presenceText(report)}.`
      : 'You are not a registered agent, so you have no status; /name <name> registers you.';
    await this.sync.sendOutsideTopic(message.chat.id, text, message.message_id, {
      ...(inTopic && message.message_thread_id !== undefined
        ? { threadId: message.message_thread_id }
        : {}),
      ...(report ? { replyMarkup: presenceKeyboard() } : {}),
    });
    return report ? 'command' : 'refused';
  }
}
