import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * The system lines a visitor reads (welcome, joined, closed, reopened) in German and Arabic
 * besides the default English, so a conversation started in one of them reads in it
 * (`TemplateRepository.resolve`: exact locale, then two-letter, then default). Each new row
 * takes its flags from the tenant's default row, so an admin's choices there carry over. The
 * closing lines no longer say "write again": the widget shows a button there, not a composer.
 * A default text an admin has edited is left alone.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const [key, { before, after }] of Object.entries(REWORDED)) {
    await db
      .updateTable('system_templates')
      .set({ text: after, updated_at: sql`now()` })
      .where('key', '=', key)
      .where('locale', '=', '')
      .where('text', '=', before)
      .execute();
  }
  for (const [key, byLocale] of Object.entries(TRANSLATIONS)) {
    for (const [locale, text] of Object.entries(byLocale)) {
      await sql`
        insert into system_templates
          (tenant_id, key, locale, text, ws_banner, persist, telegram, pin, min_interval_ms)
        select tenant_id, key, ${locale}, ${text}, ws_banner, persist, telegram, pin, min_interval_ms
          from system_templates where key = ${key} and locale = ''
        on conflict do nothing`.execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [key, byLocale] of Object.entries(TRANSLATIONS)) {
    await db
      .deleteFrom('system_templates')
      .where('key', '=', key)
      .where('locale', 'in', Object.keys(byLocale))
      .execute();
  }
  for (const [key, { before, after }] of Object.entries(REWORDED)) {
    await db
      .updateTable('system_templates')
      .set({ text: before })
      .where('key', '=', key)
      .where('locale', '=', '')
      .where('text', '=', after)
      .execute();
  }
}

const REWORDED: Record<string, { before: string; after: string }> = {
  closed_note: {
    before: 'This conversation was closed. Write again any time to start a new one.',
    after: 'This conversation was closed. You can start a new one at any time.',
  },
  auto_closed: {
    before:
      'This conversation was closed after a period of inactivity. Write again any time to start a new one.',
    after:
      'This conversation was closed after a period of inactivity. You can start a new one at any time.',
  },
};

const TRANSLATIONS: Record<string, Record<string, string>> = {
  welcome: {
    de: 'Danke für Ihre Nachricht! Jemand aus unserem Team antwortet hier in Kürze. Ihr Ticket: {ticket}.',
    ar: 'شكرًا لرسالتك! سيرد عليك أحد أفراد فريقنا هنا قريبًا. رقم تذكرتك: {ticket}.',
  },
  agent_joined: {
    de: '{agent} ist dem Gespräch beigetreten.',
    ar: 'انضم {agent} إلى المحادثة.',
  },
  closed_note: {
    de: 'Dieses Gespräch wurde beendet. Sie können jederzeit ein neues beginnen.',
    ar: 'أُغلقت هذه المحادثة. يمكنك بدء محادثة جديدة في أي وقت.',
  },
  reopened: {
    de: 'Das Gespräch wurde wieder geöffnet.',
    ar: 'أُعيد فتح المحادثة.',
  },
  auto_closed: {
    de: 'Dieses Gespräch wurde nach einer Zeit ohne Nachrichten beendet. Sie können jederzeit ein neues beginnen.',
    ar: 'أُغلقت هذه المحادثة بعد فترة من عدم النشاط. يمكنك بدء محادثة جديدة في أي وقت.',
  },
};
