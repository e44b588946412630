import {
  readTopicState,
  readTopicStates,
  type DB,
  type Kysely,
  type TopicState,
} from '@topicdesk/data';

type Waiter = {
  resolve: (state: TopicState | undefined) => void;
  reject: (error: unknown) => void;
};

/**
 * Topic states read together: the reads asked for in one turn of the event loop — syncs that
 * started together, their locks answered in one Redis reply — go to Postgres as one statement
 * per tenant when the turn ends, instead of one statement (and one pooled connection) each. A
 * read alone is the one precompiled statement it always was. Every read still sees what was
 * committed before it was asked for: the statement runs after the asking.
 */
export class TopicStateReads {
  #waiting = new Map<string, Map<string, Waiter[]>>();
  #scheduled = false;

  constructor(private readonly db: () => Kysely<DB>) {}

  read(tenantId: string, conversationId: string): Promise<TopicState | undefined> {
    return new Promise((resolve, reject) => {
      let tenant = this.#waiting.get(tenantId);
      if (!tenant) this.#waiting.set(tenantId, (tenant = new Map<string, Waiter[]>()));
      const waiters = tenant.get(conversationId);
      if (waiters) waiters.push({ resolve, reject });
      else tenant.set(conversationId, [{ resolve, reject }]);
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const waiting = this.#waiting;
    this.#waiting = new Map();
    this.#scheduled = false;
    for (const [tenantId, byConversation] of waiting)
      void this.#readTenant(tenantId, byConversation);
  }

  async #readTenant(tenantId: string, byConversation: Map<string, Waiter[]>): Promise<void> {
    const ids = [...byConversation.keys()];
    try {
      const [only] = ids;
      const states =
        ids.length === 1 && only !== undefined
          ? new Map([[only, await readTopicState(this.db(), tenantId, only)]])
          : await readTopicStates(this.db(), tenantId, ids);
      for (const [id, waiters] of byConversation) {
        const state = states.get(id);
        for (const waiter of waiters) waiter.resolve(state);
      }
    } catch (error) {
      for (const waiters of byConversation.values())
        for (const waiter of waiters) waiter.reject(error);
    }
  }
}
