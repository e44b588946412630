import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Files in the bot's private chat (issue 17): photos and documents now reach the agents, so the
 * refusal of everything else no longer says "only text", and a refused file is explained with
 * its code (`telegram.file_refused`, `{reason}` and `{code}`). A text an admin edited is left
 * alone; the new template is the default tenant's, like the other `telegram.*` ones.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const [locale, { before, after }] of Object.entries(TEXT_ONLY)) {
    await db
      .updateTable('system_templates')
      .set({ text: after, updated_at: sql`now()` })
      .where('key', '=', 'telegram.text_only')
      .where('locale', '=', locale)
      .where('text', '=', before)
      .execute();
  }
  await db
    .insertInto('system_templates')
    .values(
      Object.entries(FILE_REFUSED).map(([locale, text]) => ({
        tenant_id: 'default',
        key: 'telegram.file_refused',
        locale,
        text,
        ws_banner: false,
        persist: false,
        telegram: false,
        pin: false,
        min_interval_ms: 0,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('system_templates').where('key', '=', 'telegram.file_refused').execute();
  for (const [locale, { before, after }] of Object.entries(TEXT_ONLY)) {
    await db
      .updateTable('system_templates')
      .set({ text: before })
      .where('key', '=', 'telegram.text_only')
      .where('locale', '=', locale)
      .where('text', '=', after)
      .execute();
  }
}

const TEXT_ONLY: Record<string, { before: string; after: string }> = {
  '': {
    before:
      'Sorry, only text messages reach our team for now. Please describe it in words; nothing was sent.',
    after:
      'Sorry, only texts, photos and documents reach our team. Please describe it in words; nothing was sent.',
  },
  de: {
    before:
      'Leider erreichen vorerst nur Textnachrichten unser Team. Bitte beschreiben Sie es in Worten; es wurde nichts gesendet.',
    after:
      'Leider erreichen nur Texte, Fotos und Dokumente unser Team. Bitte beschreiben Sie es in Worten; es wurde nichts gesendet.',
  },
};

const FILE_REFUSED: Record<string, string> = {
  '': 'Sorry, this file did not reach our team: {reason} ({code}). Nothing was sent.',
  de: 'Leider hat diese Datei unser Team nicht erreicht ({code}). Es wurde nichts gesendet.',
};
