import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Routing by segment (issue 19): a support group may list the roles or segments a bot channel's
 * plugin passes (client, provider, vip…). A new conversation of such a segment goes to a level-1
 * group listing it before the locale rule is tried. Empty (every group before this): none.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('support_groups')
    .addColumn('segments', sql`text[]`, (c) =>
      c
        .notNull()
        .defaultTo(sql`'{}'::text[]`)
        .check(sql`array_position(segments, null) is null`),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('support_groups').dropColumn('segments').execute();
}
