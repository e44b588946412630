import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * The e-mail address a visitor gave in the widget's pre-chat form (only where the operator
 * enabled it: the gateway's PRECHAT_FIELDS). Personal data like the name beside it: shown in
 * the topic's header, never logged, gone with the conversation when retention purges it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('conversations').addColumn('visitor_email', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('conversations').dropColumn('visitor_email').execute();
}
