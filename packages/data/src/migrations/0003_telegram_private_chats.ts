import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * The second visitor channel: Telegram users who ask for help in the bot's private chat.
 * Their Telegram id is stored only encrypted (AES-256-GCM) and found again by a keyed hash
 * (HMAC-SHA256); both keys derive from TELEGRAM_USER_KEY, which never reaches the database.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('telegram_users')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    // HMAC-SHA256 (hex) of the Telegram user id under the lookup key of `key_id`.
    .addColumn('lookup_hash', 'text', (c) => c.notNull())
    // Which key encrypted `ciphertext` and keyed `lookup_hash` (a fingerprint, not the key).
    .addColumn('key_id', 'text', (c) => c.notNull())
    // AES-256-GCM of the Telegram user id (= their private chat id), base64: nonce, then
    // ciphertext with its tag; the row id is the associated data.
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    // Only to pick the language of the bot's answers; never shown to agents.
    .addColumn('language_code', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('telegram_users_lookup_unique', ['tenant_id', 'lookup_hash'])
    .execute();
  await db.schema
    .createIndex('telegram_users_key_idx')
    .on('telegram_users')
    .columns(['key_id'])
    .execute();

  // A conversation of the `telegram` channel, its user, and what that user has been sent.
  await db.schema
    .createTable('telegram_conversations')
    .addColumn('conversation_id', 'uuid', (c) =>
      c.primaryKey().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('telegram_user_id', 'uuid', (c) =>
      c.notNull().references('telegram_users.id').onDelete('cascade'),
    )
    // Agent and system messages up to this seq have been sent to the private chat.
    .addColumn('delivered_seq', 'integer', (c) => c.notNull().defaultTo(0))
    // The message whose copy in the private chat carries the "End" button (the welcome).
    .addColumn('end_button_seq', 'integer')
    .addColumn('rating_prompted_at', 'timestamptz')
    .addColumn('rating', 'smallint', (c) => c.check(sql`rating between 1 and 5`))
    .addColumn('rated_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('telegram_conversations_user_idx')
    .on('telegram_conversations')
    .columns(['telegram_user_id', 'created_at'])
    .execute();

  // The bot's copy of an agent or system message in the private chat, to follow edits and
  // retractions (the Telegram message id of a private chat says nothing about its user).
  await db.schema
    .createTable('telegram_private_messages')
    .addColumn('message_id', 'bigint', (c) =>
      c.primaryKey().references('messages.id').onDelete('cascade'),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('conversation_id', 'uuid', (c) =>
      c.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('telegram_message_id', 'bigint', (c) => c.notNull())
    // The edit of the message that the private copy shows (null: the original text).
    .addColumn('synced_edit_at', 'timestamptz')
    .addColumn('retracted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .createIndex('telegram_private_messages_conversation_idx')
    .on('telegram_private_messages')
    .columns(['conversation_id'])
    .execute();

  await db
    .insertInto('system_templates')
    .values(
      PRIVATE_CHAT_TEMPLATES.flatMap((t) =>
        Object.entries(t.text).map(([locale, text]) => ({
          tenant_id: 'default',
          key: t.key,
          locale: locale === 'en' ? '' : locale,
          text,
          ws_banner: false,
          persist: false,
          telegram: false,
          pin: false,
          min_interval_ms: 0,
        })),
      ),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['telegram_private_messages', 'telegram_conversations', 'telegram_users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await db
    .deleteFrom('system_templates')
    .where(
      'key',
      'in',
      PRIVATE_CHAT_TEMPLATES.map((t) => t.key),
    )
    .execute();
}

/**
 * What the bot says in private chats (English is the default locale ''), editable through the
 * admin API like every template. The flags are unused: the bridge sends these itself.
 */
const PRIVATE_CHAT_TEMPLATES = [
  {
    key: 'telegram.start',
    text: {
      en: 'Hello! Press “Live support” to talk to a person from our team. Agents see only your ticket number, never your name or account.',
      de: 'Hallo! Tippen Sie auf „Live-Support“, um mit einer Person aus unserem Team zu schreiben. Unser Team sieht nur Ihre Ticketnummer, nie Ihren Namen oder Ihr Konto.',
    },
  },
  {
    key: 'telegram.help',
    text: {
      en: '/support — talk to a person (or continue your conversation)\n/end — end the conversation\nAgents see only your ticket number, never your name or account. Text messages only for now.',
      de: '/support — mit einer Person schreiben (oder das Gespräch fortsetzen)\n/end — das Gespräch beenden\nUnser Team sieht nur Ihre Ticketnummer, nie Ihren Namen oder Ihr Konto. Vorerst nur Textnachrichten.',
    },
  },
  {
    key: 'telegram.welcome',
    text: {
      en: 'You are connected to support. Your ticket: {ticket}. Write your question here; an agent will answer in this chat.',
      de: 'Sie sind mit dem Support verbunden. Ihr Ticket: {ticket}. Schreiben Sie Ihre Frage hier; jemand aus unserem Team antwortet in diesem Chat.',
    },
  },
  {
    key: 'telegram.already_open',
    text: {
      en: 'You are already connected to support (ticket {ticket}). Just write your message here.',
      de: 'Sie sind bereits mit dem Support verbunden (Ticket {ticket}). Schreiben Sie Ihre Nachricht einfach hier.',
    },
  },
  {
    key: 'telegram.no_conversation',
    text: {
      en: 'You have no open conversation. Send /support to start one.',
      de: 'Sie haben kein offenes Gespräch. Senden Sie /support, um eines zu beginnen.',
    },
  },
  {
    key: 'telegram.text_only',
    text: {
      en: 'Sorry, only text messages reach our team for now. Please describe it in words; nothing was sent.',
      de: 'Leider erreichen vorerst nur Textnachrichten unser Team. Bitte beschreiben Sie es in Worten; es wurde nichts gesendet.',
    },
  },
  {
    key: 'telegram.limit_conversations',
    text: {
      en: 'You have started {limit} conversations today, the most we allow. Please try again in about {hours} h.',
      de: 'Sie haben heute {limit} Gespräche begonnen, mehr sind nicht möglich. Bitte versuchen Sie es in etwa {hours} Std. erneut.',
    },
  },
  {
    key: 'telegram.limit_messages',
    text: {
      en: 'You have sent {limit} messages in the last hour, the most we allow. This message was not sent; please write again in about {minutes} min.',
      de: 'Sie haben in der letzten Stunde {limit} Nachrichten gesendet, mehr sind nicht möglich. Diese Nachricht wurde nicht gesendet; bitte schreiben Sie in etwa {minutes} Min. wieder.',
    },
  },
  {
    key: 'telegram.rate_prompt',
    text: {
      en: 'How did we do? Rate this conversation ({ticket}):',
      de: 'Wie zufrieden waren Sie? Bewerten Sie dieses Gespräch ({ticket}):',
    },
  },
  {
    key: 'telegram.rated',
    text: {
      en: 'Thank you for your rating!',
      de: 'Vielen Dank für Ihre Bewertung!',
    },
  },
  {
    key: 'telegram.already_closed',
    text: {
      en: 'This conversation is already closed.',
      de: 'Dieses Gespräch ist bereits beendet.',
    },
  },
  {
    key: 'telegram.button_support',
    text: { en: '💬 Live support', de: '💬 Live-Support' },
  },
  {
    key: 'telegram.button_end',
    text: { en: '⛔ End', de: '⛔ Beenden' },
  },
] as const;
