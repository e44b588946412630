import { DEFAULT_TENANT_ID, SupportGroupRepository, type DB, type Kysely } from '@topicdesk/data';

const CACHE_MS = 30_000;
/** How long a chat found not to be ours is believed without asking again. */
const UNKNOWN_MS = 1_000;
/** Chats remembered as not ours at most (the oldest is forgotten first). */
const UNKNOWN_MAX = 1_000;

/**
 * The support groups a bridge serves: SUPPORT_GROUP_ID and every group registered through the
 * admin API, active or not (a deactivated group still holds open conversations). The list is
 * read again every 30 s; a chat not in it is looked up by its id at once, so the first update
 * from a group registered a moment ago is served. A chat found not to be ours is believed for a
 * second, so a busy group that is not ours costs at most one lookup a second.
 */
export class ServedGroups {
  #cache: { at: number; ids: Set<number> } | undefined;
  readonly #unknown = new Map<number, number>();

  constructor(
    private readonly db: Kysely<DB>,
    readonly defaultGroupId: number,
    private readonly tenantId: string = DEFAULT_TENANT_ID,
  ) {}

  async all(): Promise<number[]> {
    return [...(await this.#ids())];
  }

  async has(chatId: number): Promise<boolean> {
    if (chatId === this.defaultGroupId) return true;
    const ids = await this.#ids();
    if (ids.has(chatId)) return true;
    const now = Date.now();
    const lookedAt = this.#unknown.get(chatId);
    if (lookedAt !== undefined && now - lookedAt < UNKNOWN_MS) return false;
    const group = await new SupportGroupRepository(this.db).find(this.tenantId, chatId);
    if (group) {
      this.#unknown.delete(chatId);
      ids.add(chatId);
      return true;
    }
    this.#unknown.delete(chatId);
    this.#unknown.set(chatId, now);
    if (this.#unknown.size > UNKNOWN_MAX) this.#unknown.delete(this.#unknown.keys().next().value!);
    return false;
  }

  async #ids(): Promise<Set<number>> {
    if (this.#cache && Date.now() - this.#cache.at < CACHE_MS) return this.#cache.ids;
    const registered = await new SupportGroupRepository(this.db).list(this.tenantId);
    const ids = new Set([this.defaultGroupId, ...registered.map((group) => group.chat_id)]);
    this.#cache = { at: Date.now(), ids };
    return ids;
  }
}
