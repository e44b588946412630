import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Data-subject requests (issue 15).
 *
 * - `conversations.erased_at`: set once a conversation's personal data is erased; the row stays
 *   (closed, its ticket and counters) so that its topic can still be renamed or deleted and the
 *   visitor's token is refused with a clear code.
 * - `conversation_tombstones`: what is left of an erased conversation — its id, ticket, when and
 *   by whom, and what happened to its topic. No foreign key: a tombstone outlives the
 *   conversation's row when retention later deletes that.
 * - The private chat's help names `/mydata` and `/forget` (a text an admin edited is left alone).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('conversations').addColumn('erased_at', 'timestamptz').execute();
  await db.schema
    .createTable('conversation_tombstones')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('conversation_id', 'uuid', (c) => c.notNull())
    .addColumn('ticket', 'text', (c) => c.notNull())
    .addColumn('erased_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('erased_by_type', 'text', (c) => c.notNull())
    .addColumn('erased_by_id', 'text')
    .addColumn('topic_policy', 'text', (c) =>
      c.notNull().check(sql`topic_policy in ('delete', 'keep')`),
    )
    .addPrimaryKeyConstraint('conversation_tombstones_pkey', ['tenant_id', 'conversation_id'])
    .execute();
  await db.schema
    .createIndex('conversation_tombstones_ticket_idx')
    .on('conversation_tombstones')
    .columns(['tenant_id', 'ticket'])
    .execute();
  await setHelp(db, 'before', 'after');
}

/** Moves the help text from one version to the other where it is still the shipped one. */
async function setHelp(db: Kysely<any>, from: 'before' | 'after', to: 'before' | 'after') {
  for (const [locale, texts] of Object.entries(HELP))
    await db
      .updateTable('system_templates')
      .set({ text: texts[to], updated_at: sql`now()` })
      .where('key', '=', 'telegram.help')
      .where('locale', '=', locale)
      .where('text', '=', texts[from])
      .execute();
}

const HELP_BEFORE = {
  '': '/support — talk to a person (or continue your conversation)\n/end — end the conversation\nAgents see only your ticket number, never your name or account. Text messages only for now.',
  de: '/support — mit einer Person schreiben (oder das Gespräch fortsetzen)\n/end — das Gespräch beenden\nUnser Team sieht nur Ihre Ticketnummer, nie Ihren Namen oder Ihr Konto. Vorerst nur Textnachrichten.',
};

const HELP: Record<string, { before: string; after: string }> = {
  '': {
    before: HELP_BEFORE[''],
    after:
      '/support — talk to a person (or continue your conversation)\n/end — end the conversation\n/mydata — get what is stored about you\n/forget — erase it\nAgents see only your ticket number, never your name or account.',
  },
  de: {
    before: HELP_BEFORE.de,
    after:
      '/support — mit einer Person schreiben (oder das Gespräch fortsetzen)\n/end — das Gespräch beenden\n/mydata — erhalten, was über Sie gespeichert ist\n/forget — es löschen\nUnser Team sieht nur Ihre Ticketnummer, nie Ihren Namen oder Ihr Konto.',
  },
};

export async function down(db: Kysely<any>): Promise<void> {
  await setHelp(db, 'after', 'before');
  await db.schema.dropTable('conversation_tombstones').execute();
  await db.schema.alterTable('conversations').dropColumn('erased_at').execute();
}
