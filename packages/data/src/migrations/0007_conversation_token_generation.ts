import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * The generation of a conversation's visitor token: a token carries the generation it was issued
 * for, and a refresh moves the conversation on to the next one, so the token it replaced stops
 * working on every replica at once (tokens issued before this migration carry none: generation 0).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    .addColumn('token_generation', 'integer', (c) => c.notNull().defaultTo(0))
    // When the generation last moved on: a token just replaced may be refreshed again briefly.
    .addColumn('token_rotated_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    .dropColumn('token_rotated_at')
    .dropColumn('token_generation')
    .execute();
}
