import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ConversationPriority, DB, PriorityRule } from '../schema';

export interface PriorityRuleInput {
  pageUrlPrefix?: string | null | undefined;
  locale?: string | null | undefined;
  segment?: string | null | undefined;
  priority: ConversationPriority;
}

/**
 * A new conversation's priority by the rules, as an expression of its INSERT (no statement of
 * its own): the first rule by position whose page prefix and locale match, else `normal`.
 */
export function priorityByRules(
  tenantId: string,
  pageUrl: string | null,
  locale: string | null,
  segment: string | null = null,
): RawBuilder<ConversationPriority> {
  const page = pageUrl ?? '';
  const role = segment ?? '';
  const tag = (locale ?? '').toLowerCase();
  return sql<ConversationPriority>`coalesce((select r.priority from priority_rules r
    where r.tenant_id = ${tenantId}
      and (r.page_url_prefix is null or starts_with(${page}::text, r.page_url_prefix))
      and (r.locale is null or ${tag}::text = lower(r.locale)
        or starts_with(${tag}::text, lower(r.locale) || '-'))
      and (r.segment is null or r.segment = ${role}::text)
    order by r.position limit 1), 'normal')`;
}

/** Priority rules (admin API): replaced as a whole, read in order. */
export class PriorityRuleRepository {
  constructor(private readonly db: Kysely<DB>) {}

  list(tenantId: string): Promise<PriorityRule[]> {
    return this.db
      .selectFrom('priority_rules')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('position')
      .execute();
  }

  /** Replaces every rule of the tenant with `rules`, in this order. */
  async replace(tenantId: string, rules: readonly PriorityRuleInput[]): Promise<PriorityRule[]> {
    await this.db.deleteFrom('priority_rules').where('tenant_id', '=', tenantId).execute();
    if (rules.length === 0) return [];
    return this.db
      .insertInto('priority_rules')
      .values(
        rules.map((r, position) => ({
          tenant_id: tenantId,
          position,
          page_url_prefix: r.pageUrlPrefix ?? null,
          locale: r.locale ?? null,
          segment: r.segment ?? null,
          priority: r.priority,
        })),
      )
      .returningAll()
      .execute();
  }
}
