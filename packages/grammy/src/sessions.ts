/**
 * Who is in support, as far as this bot knows. Topicdesk is the source of truth: at start (and
 * after a failed attempt, at the next update) the list comes from `GET /v1/channels/bot/users`,
 * so a restart of the bot loses nothing; every answer of Topicdesk then says whether its user
 * is in support. A conversation that agents closed is learnt at the user's next message
 * (Topicdesk answers `inSupport: false` and the message goes to the bot's own handlers).
 */
export class SupportSessions {
  readonly #users = new Set<number>();
  #loaded: Promise<void> | undefined;

  constructor(private readonly load: () => Promise<number[]>) {}

  /**
   * Loads the list once; a failure is remembered only until the next call (Topicdesk may be
   * back by then). Throws the load's error.
   */
  ready(): Promise<void> {
    this.#loaded ??= this.load().then(
      (ids) => {
        for (const id of ids) this.#users.add(id);
      },
      (error: unknown) => {
        this.#loaded = undefined;
        throw error;
      },
    );
    return this.#loaded;
  }

  has(userId: number): boolean {
    return this.#users.has(userId);
  }

  /** What Topicdesk said after a call about this user. */
  set(userId: number, inSupport: boolean): void {
    if (inSupport) this.#users.add(userId);
    else this.#users.delete(userId);
  }
}
