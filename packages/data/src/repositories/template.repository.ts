import { sql, type Kysely } from 'kysely';
import type { DB, SystemTemplate } from '../schema';

export interface TemplateInput {
  tenantId: string;
  key: string;
  /** '' for the default locale. */
  locale: string;
  text: string;
  wsBanner: boolean;
  persist: boolean;
  telegram: boolean;
  pin: boolean;
  minIntervalMs: number;
}

/** Locales to try for a visitor's locale: exact, then two-letter, then the default (''). */
export function localeFallbacks(locale: string | null | undefined): string[] {
  const chain: string[] = [];
  const exact = (locale ?? '').trim();
  if (exact) chain.push(exact);
  const two = exact.slice(0, 2).toLowerCase();
  if (two.length === 2 && two !== exact) chain.push(two);
  chain.push('');
  return chain;
}

/** System message templates and the per-conversation marks that enforce their minimum interval. */
export class TemplateRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async resolve(
    tenantId: string,
    key: string,
    locale: string | null | undefined,
  ): Promise<SystemTemplate | undefined> {
    const chain = localeFallbacks(locale);
    const rows = await this.db
      .selectFrom('system_templates')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where('locale', 'in', chain)
      .execute();
    for (const candidate of chain) {
      const row = rows.find((r) => r.locale === candidate);
      if (row) return row;
    }
    return undefined;
  }

  list(tenantId: string): Promise<SystemTemplate[]> {
    return this.db
      .selectFrom('system_templates')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('key')
      .orderBy('locale')
      .execute();
  }

  upsert(input: TemplateInput): Promise<SystemTemplate> {
    const values = {
      text: input.text,
      ws_banner: input.wsBanner,
      persist: input.persist,
      telegram: input.telegram,
      pin: input.pin,
      min_interval_ms: input.minIntervalMs,
      updated_at: new Date(),
    };
    return this.db
      .insertInto('system_templates')
      .values({ tenant_id: input.tenantId, key: input.key, locale: input.locale, ...values })
      .onConflict((oc) => oc.columns(['tenant_id', 'key', 'locale']).doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async delete(tenantId: string, key: string, locale: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('system_templates')
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where('locale', '=', locale)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Records that `key` is shown in the conversation now, unless it was shown less than
   * `minIntervalMs` ago; atomic, so replicas racing for the same message show it once.
   */
  async mark(
    tenantId: string,
    conversationId: string,
    key: string,
    at: Date,
    minIntervalMs: number,
  ): Promise<boolean> {
    // Taken from the tenant's conversation row: for a conversation of another tenant (or none)
    // nothing is inserted or moved, and the answer is the same whether it exists or not.
    const row = await this.db
      .insertInto('system_message_marks')
      .columns(['tenant_id', 'conversation_id', 'key', 'last_at'])
      .expression((eb) =>
        eb
          .selectFrom('conversations')
          .select([
            'tenant_id',
            'id',
            eb.val(key).as('key'),
            sql<Date>`${at}::timestamptz`.as('last_at'),
          ])
          .where('tenant_id', '=', tenantId)
          .where('id', '=', conversationId),
      )
      .onConflict((oc) =>
        oc
          .columns(['conversation_id', 'key'])
          .doUpdateSet({ last_at: at })
          .where('system_message_marks.tenant_id', '=', tenantId)
          .where(
            'system_message_marks.last_at',
            '<=',
            sql<Date>`${at}::timestamptz - make_interval(secs => ${minIntervalMs / 1000})`,
          ),
      )
      .returning('last_at')
      .executeTakeFirst();
    return row !== undefined;
  }
}
