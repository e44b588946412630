import { sandboxError } from '../errors';
import { ChatType, type ChatMember } from '../telegram.types';
import {
  DEFAULT_BOT_MEMBERSHIP,
  MemberStatus,
  type BotMembership,
  type BotRecord,
  type ChatRecord,
  type MemberRights,
  type Right,
} from './records';
import { adminMember, botMember, botUser, privateChatUser } from './users';
import type { World } from './world';

/** Who is in a chat and with which rights: getChatMember, getChatAdministrators, bots' standing. */
export class Members {
  constructor(private readonly world: World) {}

  memberOf(chatId: number, userId: number): ChatMember {
    const chat = this.world.chat(chatId);
    const membership = this.botMembership(chat, userId);
    if (membership) return botMember(this.world.bot(userId)?.user ?? botUser(userId), membership);
    const bot = this.world.bot(userId);
    if (bot) return adminMember(bot.user);
    if (chat.chat.type === ChatType.private) {
      if (userId !== chat.chat.id) throw sandboxError('USER_NOT_FOUND');
      return { status: 'member', user: privateChatUser(chat.chat) };
    }
    const member = chat.members.get(userId);
    if (!member) throw sandboxError('USER_NOT_FOUND');
    return member.isAdmin ? adminMember(member.user) : { status: 'member', user: member.user };
  }

  administrators(chatId: number): ChatMember[] {
    const chat = this.world.chat(chatId);
    if (chat.chat.type === ChatType.private)
      throw sandboxError('CHAT_NOT_FOUND', {
        description: 'Bad Request: there are no administrators in the private chat',
      });
    const bots = this.world
      .allBots()
      .filter((bot) => this.botMembership(chat, bot.user.id)?.status === MemberStatus.administrator)
      .map((bot) =>
        botMember(bot.user, this.botMembership(chat, bot.user.id) ?? DEFAULT_BOT_MEMBERSHIP),
      );
    const people = [...chat.members.values()]
      .filter((member) => member.isAdmin)
      .map((member) => adminMember(member.user));
    return [...people, ...bots];
  }

  /** Bots still in a chat: all of them in a private chat, those that did not leave in a group. */
  botsIn(chatId: number): BotRecord[] {
    const chat = this.world.findChat(chatId);
    return this.world
      .allBots()
      .filter(
        (bot) => !chat || this.botMembership(chat, bot.user.id)?.status !== MemberStatus.left,
      );
  }

  /**
   * Sets a bot's standing in a supergroup. Administrators get every right unless `rights`
   * takes some away; members and bots that left have none (as in Telegram, rights belong
   * to administrators).
   */
  setBot(
    chatId: number,
    userId: number,
    status: MemberStatus,
    rights: MemberRights = {},
  ): BotMembership {
    const chat = this.world.chat(chatId);
    if (chat.chat.type !== ChatType.supergroup) throw sandboxError('MEMBER_CHAT_INVALID');
    const isAdmin = status === MemberStatus.administrator;
    const membership: BotMembership = {
      status,
      can_manage_topics: isAdmin && (rights.can_manage_topics ?? true),
      can_pin_messages: isAdmin && (rights.can_pin_messages ?? true),
      can_delete_messages: isAdmin && (rights.can_delete_messages ?? true),
    };
    chat.botMembers.set(userId, membership);
    return { ...membership };
  }

  /** Every bot's standing in a supergroup (bots that never called included when set). */
  bots(chatId: number): Array<BotMembership & { userId: number }> {
    const chat = this.world.chat(chatId);
    if (chat.chat.type !== ChatType.supergroup) throw sandboxError('MEMBER_CHAT_INVALID');
    const ids = new Set([
      ...this.world.allBots().map((bot) => bot.user.id),
      ...chat.botMembers.keys(),
    ]);
    return [...ids].map((userId) => ({
      userId,
      ...(this.botMembership(chat, userId) ?? DEFAULT_BOT_MEMBERSHIP),
    }));
  }

  /**
   * Telegram's answer to a bot calling into a chat it is not in: 403 on every method.
   * Chats the sandbox does not know are left to the method ("chat not found").
   */
  requireInChat(botId: number, chatId: number): void {
    const chat = this.world.findChat(chatId);
    if (chat && this.botMembership(chat, botId)?.status === MemberStatus.left) {
      throw sandboxError('BOT_NOT_MEMBER');
    }
  }

  /** A bot's standing in a supergroup (the default when never set); undefined elsewhere. */
  botMembership(chat: ChatRecord, userId: number): BotMembership | undefined {
    if (chat.chat.type !== ChatType.supergroup) return undefined;
    const set = chat.botMembers.get(userId);
    if (set) return set;
    return this.world.bot(userId) !== undefined ? DEFAULT_BOT_MEMBERSHIP : undefined;
  }

  /** Whether a bot has an administrator right in a chat (private chats need none). */
  hasRight(chat: ChatRecord, botId: number, right: Right): boolean {
    if (chat.chat.type !== ChatType.supergroup) return true;
    return (chat.botMembers.get(botId) ?? DEFAULT_BOT_MEMBERSHIP)[right];
  }
}
