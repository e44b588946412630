import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Files visitors attach (issue 17). A row is made when the gateway hands out an upload link
 * (`pending`, with what the visitor declared); the checks make it `ready` (the real type, size
 * and dimensions) or `refused` (with its code); a message that references it sets
 * `message_id`. The bytes live in object storage under keys derived from the id.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('attachments')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('conversation_id', 'uuid', (c) =>
      c.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('message_id', 'bigint', (c) => c.references('messages.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('declared_type', 'text', (c) => c.notNull())
    .addColumn('declared_size', 'bigint', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('type', 'text')
    .addColumn('size', 'bigint')
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('refused_code', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('checked_at', 'timestamptz')
    .addCheckConstraint('attachments_state', sql`state in ('pending', 'ready', 'refused')`)
    .execute();
  await db.schema
    .createIndex('attachments_conversation')
    .on('attachments')
    .columns(['tenant_id', 'conversation_id'])
    .execute();
  await db.schema
    .createIndex('attachments_message')
    .on('attachments')
    .column('message_id')
    .where(sql.ref('message_id'), 'is not', null)
    .execute();
  // The orphan sweep's: uploads never attached to a message, oldest first.
  await db.schema
    .createIndex('attachments_unattached')
    .on('attachments')
    .column('created_at')
    .where(sql.ref('message_id'), 'is', null)
    .execute();
  // How many files a message carries: the bridge sends such a message on its own (a photo or
  // document with its caption), never merged with other texts, without reading attachments.
  await db.schema
    .alterTable('messages')
    .addColumn('attachment_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('attachment_count').execute();
  await db.schema.dropTable('attachments').execute();
}
