import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * What the visitor has read, and what the topic shows of it: the widget tells the gateway the
 * highest seq the visitor has seen (`read` frame), and the bridge marks the newest agent message
 * up to it with a 👀 reaction in the topic, once (the seq that got it). Both only grow.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    .addColumn('visitor_read_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('seen_reaction_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    .dropColumn('seen_reaction_seq')
    .dropColumn('visitor_read_seq')
    .execute();
}
