import { MemberStatus, type BotMembership, type InjectedUser } from './records';
import type { BotUser, Chat, ChatMember, User } from '../telegram.types';

// People and bots as Telegram shows them: the User objects in messages and the
// ChatMember answers of getChatMember and getChatAdministrators.

/** The User Telegram puts in a message: only the fields it knows. */
export function toUser(from: InjectedUser | User): User {
  return {
    id: from.id,
    is_bot: from.is_bot ?? false,
    first_name: from.first_name,
    ...(from.last_name ? { last_name: from.last_name } : {}),
    ...(from.username ? { username: from.username } : {}),
    ...(from.language_code ? { language_code: from.language_code } : {}),
  };
}

export function privateChatUser(chat: Chat): User {
  return {
    id: chat.id,
    is_bot: false,
    first_name: chat.first_name ?? '',
    ...(chat.last_name ? { last_name: chat.last_name } : {}),
    ...(chat.username ? { username: chat.username } : {}),
  };
}

/** The bot Telegram would know for a token's id (the sandbox knows every id). */
export function botUser(botId: number): BotUser {
  return {
    id: botId,
    is_bot: true,
    first_name: 'Sandbox Bot',
    username: `sandbox_${botId}_bot`,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

/** A bot's ChatMember: Telegram's administrator shape with its rights, or a plain member / left. */
export function botMember(user: User, membership: BotMembership): ChatMember {
  const { status } = membership;
  switch (status) {
    case MemberStatus.administrator:
      return {
        ...adminMember(user),
        can_manage_topics: membership.can_manage_topics,
        can_pin_messages: membership.can_pin_messages,
        can_delete_messages: membership.can_delete_messages,
      };
    case MemberStatus.member:
    case MemberStatus.left:
      return { status, user: plainUser(user) };
    default: {
      const unknownStatus: never = status;
      throw new Error(`unhandled member status ${String(unknownStatus)}`);
    }
  }
}

export function plainUser(user: User): User {
  return {
    id: user.id,
    is_bot: user.is_bot,
    first_name: user.first_name,
    ...(user.last_name ? { last_name: user.last_name } : {}),
    ...(user.username ? { username: user.username } : {}),
  };
}

export function adminMember(user: User): ChatMember {
  return {
    status: 'administrator',
    user: plainUser(user),
    can_be_edited: false,
    is_anonymous: false,
    can_manage_chat: true,
    can_delete_messages: true,
    can_manage_video_chats: true,
    can_restrict_members: true,
    can_promote_members: false,
    can_change_info: true,
    can_invite_users: true,
    can_post_stories: false,
    can_edit_stories: false,
    can_delete_stories: false,
    can_pin_messages: true,
    can_manage_topics: true,
  };
}
