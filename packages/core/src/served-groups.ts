import { DEFAULT_TENANT_ID, SupportGroupRepository, type DB, type Kysely } from '@topicdesk/data';

const CACHE_MS = 30_000;
const FRESH_MS = 5_000;

/**
 * The support groups a bridge serves: SUPPORT_GROUP_ID and every group registered through the
 * admin API, active or not (a deactivated group still holds open conversations). Read again
 * every 30 s, and at once for a chat not seen yet, so a group added after start is served.
 */
export class ServedGroups {
  #cache: { at: number; ids: Set<number> } | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    readonly defaultGroupId: number,
    private readonly tenantId: string = DEFAULT_TENANT_ID,
  ) {}

  async all(): Promise<number[]> {
    return [...(await this.#ids(false))];
  }

  async has(chatId: number): Promise<boolean> {
    if (chatId === this.defaultGroupId) return true;
    if ((await this.#ids(false)).has(chatId)) return true;
    // A group registered a moment ago: look once more (at most every few seconds, so updates
    // from chats that are not ours cost no query each).
    if (this.#cache && Date.now() - this.#cache.at < FRESH_MS) return false;
    return (await this.#ids(true)).has(chatId);
  }

  async #ids(fresh: boolean): Promise<Set<number>> {
    if (!fresh && this.#cache && Date.now() - this.#cache.at < CACHE_MS) return this.#cache.ids;
    const registered = await new SupportGroupRepository(this.db).list(this.tenantId);
    const ids = new Set([this.defaultGroupId, ...registered.map((group) => group.chat_id)]);
    this.#cache = { at: Date.now(), ids };
    return ids;
  }
}
