import type { Kysely } from 'kysely';
import type { DB } from '../schema';

/** Remembers processed Telegram update ids so that a redelivered update changes nothing. */
export class TelegramUpdateRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Records the update; false when it had been processed before. Call inside the processing transaction. */
  async markProcessed(tenantId: string, botId: string, updateId: number): Promise<boolean> {
    const row = await this.db
      .insertInto('telegram_updates')
      .values({ tenant_id: tenantId, bot_id: botId, update_id: updateId, processed_at: new Date() })
      .onConflict((oc) => oc.columns(['tenant_id', 'bot_id', 'update_id']).doNothing())
      .returning('update_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Whether the update was processed (a file's download is skipped for a redelivery). */
  async isProcessed(tenantId: string, botId: string, updateId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('telegram_updates')
      .select('update_id')
      .where('tenant_id', '=', tenantId)
      .where('bot_id', '=', botId)
      .where('update_id', '=', updateId)
      .executeTakeFirst();
    return row !== undefined;
  }
}
