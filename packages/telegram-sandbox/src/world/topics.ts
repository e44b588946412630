import { sandboxError } from '../errors';
import type { ForumTopic, Message } from '../telegram.types';
import { shallow } from './messages';
import { TOPIC_ICON_COLORS, type ChatRecord, type TopicRecord } from './records';
import { toUser } from './users';
import type { World } from './world';

/** Forum topics: createForumTopic, editForumTopic, close/reopen and deleteForumTopic. */
export class Topics {
  constructor(private readonly world: World) {}

  list(chatId: number): TopicRecord[] {
    return [...this.world.chat(chatId).topics.values()];
  }

  create(
    botId: number,
    chatId: number,
    input: { name: string; iconColor?: number; iconCustomEmojiId?: string },
  ): ForumTopic {
    const chat = this.world.forum(chatId);
    if (!this.world.members.hasRight(chat, botId, 'can_manage_topics')) {
      throw sandboxError('NOT_ENOUGH_RIGHTS_TOPICS');
    }
    validateTopicName(input.name);
    const iconColor = input.iconColor ?? TOPIC_ICON_COLORS[0];
    if (!(TOPIC_ICON_COLORS as readonly number[]).includes(iconColor)) {
      throw sandboxError('TOPIC_ICON_COLOR_INVALID');
    }
    const bot = this.world.ensureBot(botId);
    // A topic is the thread of the service message that created it: same id.
    const threadId = chat.nextMessageId;
    const topic: TopicRecord = {
      threadId,
      name: input.name,
      iconColor,
      closed: false,
      deleted: false,
      creatorId: botId,
      ...(input.iconCustomEmojiId ? { iconCustomEmojiId: input.iconCustomEmojiId } : {}),
    };
    chat.topics.set(threadId, topic);
    const message = this.world.append(chat, toUser(bot.user), {
      message_thread_id: threadId,
      is_topic_message: true,
      forum_topic_created: {
        name: topic.name,
        icon_color: topic.iconColor,
        ...(topic.iconCustomEmojiId ? { icon_custom_emoji_id: topic.iconCustomEmojiId } : {}),
      },
    });
    this.world.announceServiceMessage(chat, message);
    return {
      message_thread_id: threadId,
      name: topic.name,
      icon_color: topic.iconColor,
      ...(topic.iconCustomEmojiId ? { icon_custom_emoji_id: topic.iconCustomEmojiId } : {}),
    };
  }

  edit(
    botId: number,
    chatId: number,
    threadId: number,
    input: { name?: string; iconCustomEmojiId?: string },
  ): void {
    const chat = this.world.forum(chatId);
    const topic = this.world.liveTopic(chat, threadId, 'TOPIC_ID_INVALID');
    this.requireTopicRight(chat, topic, botId);
    const edited: { name?: string; icon_custom_emoji_id?: string } = {};
    if (input.name !== undefined && input.name !== '') {
      validateTopicName(input.name);
      if (input.name !== topic.name) edited.name = input.name;
    }
    if (input.iconCustomEmojiId !== undefined) {
      if (input.iconCustomEmojiId !== (topic.iconCustomEmojiId ?? '')) {
        edited.icon_custom_emoji_id = input.iconCustomEmojiId;
      }
    }
    if (Object.keys(edited).length === 0) throw sandboxError('TOPIC_NOT_MODIFIED');
    if (edited.name !== undefined) topic.name = edited.name;
    if (edited.icon_custom_emoji_id !== undefined) {
      if (edited.icon_custom_emoji_id === '') delete topic.iconCustomEmojiId;
      else topic.iconCustomEmojiId = edited.icon_custom_emoji_id;
    }
    this.serviceMessage(botId, chat, topic, { forum_topic_edited: edited });
  }

  setClosed(botId: number, chatId: number, threadId: number, closed: boolean): void {
    const chat = this.world.forum(chatId);
    const topic = this.world.liveTopic(chat, threadId, 'TOPIC_ID_INVALID');
    this.requireTopicRight(chat, topic, botId);
    if (topic.closed === closed) throw sandboxError('TOPIC_NOT_MODIFIED');
    topic.closed = closed;
    this.serviceMessage(
      botId,
      chat,
      topic,
      closed ? { forum_topic_closed: {} } : { forum_topic_reopened: {} },
    );
  }

  delete(botId: number, chatId: number, threadId: number): void {
    const chat = this.world.forum(chatId);
    const topic = this.world.liveTopic(chat, threadId, 'TOPIC_ID_INVALID');
    // Deleting a topic deletes its messages: Telegram asks for can_delete_messages.
    if (!this.world.members.hasRight(chat, botId, 'can_delete_messages')) {
      throw sandboxError('NOT_ENOUGH_RIGHTS_TOPICS');
    }
    topic.deleted = true;
    for (const [id, stored] of chat.messages) {
      if (stored.message.is_topic_message && stored.message.message_thread_id === threadId) {
        chat.messages.delete(id);
      }
    }
  }

  /** Editing, closing or reopening a topic: can_manage_topics, unless the bot created it. */
  private requireTopicRight(chat: ChatRecord, topic: TopicRecord, botId: number): void {
    if (topic.creatorId === botId) return;
    if (!this.world.members.hasRight(chat, botId, 'can_manage_topics')) {
      throw sandboxError('NOT_ENOUGH_RIGHTS_TOPICS');
    }
  }

  private serviceMessage(
    botId: number,
    chat: ChatRecord,
    topic: TopicRecord,
    service: Pick<Message, 'forum_topic_edited' | 'forum_topic_closed' | 'forum_topic_reopened'>,
  ): void {
    const bot = this.world.ensureBot(botId);
    const root = chat.messages.get(topic.threadId)?.message;
    const message = this.world.append(chat, toUser(bot.user), {
      message_thread_id: topic.threadId,
      is_topic_message: true,
      ...(root ? { reply_to_message: shallow(root) } : {}),
      ...service,
    });
    this.world.announceServiceMessage(chat, message);
  }
}

function validateTopicName(name: string): void {
  if (name.length < 1 || name.length > 128) throw sandboxError('TOPIC_NAME_INVALID');
}
