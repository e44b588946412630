import { TemplateRepository, type DB, type Kysely } from '@topicdesk/data';
import { renderTemplate } from '../system-messages';

/** Texts the bot falls back to when an admin deleted a `telegram.*` template. */
const FALLBACK: Readonly<Record<string, string>> = {
  'telegram.start': 'Hello! Press “Live support” to talk to a person from our team.',
  'telegram.help':
    '/support — talk to a person\n/end — end the conversation\n/mydata — what is stored about you\n/forget — erase it',
  'telegram.welcome': 'You are connected to support. Your ticket: {ticket}.',
  'telegram.already_open': 'You are already connected to support (ticket {ticket}).',
  'telegram.no_conversation': 'You have no open conversation. Send /support to start one.',
  'telegram.text_only': 'Sorry, only texts, photos and documents reach our team; nothing was sent.',
  'telegram.file_refused':
    'Sorry, this file did not reach our team: {reason} ({code}). Nothing was sent.',
  'telegram.limit_conversations':
    'You have started {limit} conversations today. Please try again in about {hours} h.',
  'telegram.limit_messages':
    'You have sent {limit} messages in the last hour; this one was not sent. Please wait about {minutes} min.',
  'telegram.rate_prompt': 'How did we do? Rate this conversation ({ticket}):',
  'telegram.rated': 'Thank you for your rating!',
  'telegram.already_rated': 'You have rated this conversation already. Thank you!',
  'telegram.already_closed': 'This conversation is already closed.',
  'telegram.button_support': '💬 Live support',
  'telegram.button_end': '⛔ End',
};

/** A bot text in the user's language (exact, two-letter, default), or the built-in one. */
export async function privateChatText(
  db: Kysely<DB>,
  tenantId: string,
  language: string | null,
  key: string,
  vars: Readonly<Record<string, string | number>> = {},
): Promise<string> {
  const template = await new TemplateRepository(db).resolve(tenantId, key, language);
  return renderTemplate(template?.text ?? FALLBACK[key] ?? key, vars);
}
