import pg from 'pg';

/** Statements with more parameters vary in length (batch deletes, multi-row inserts): unnamed. */
const MAX_PREPARED_PARAMETERS = 32;
/** Distinct texts named per process; beyond it, statements run unnamed (planned every time). */
const MAX_PREPARED_TEXTS = 1_000;
/** SQLSTATE of "cached plan must not change result type" (a column added under a `select *`). */
const FEATURE_NOT_SUPPORTED = '0A000';

/** A plain BEGIN as kysely sends it (not one with an isolation level: those wait as usual). */
const BEGIN = /^\s*begin\s*;?\s*$/i;

const names = new Map<string, string>();

/** The statement name of a query text, the same for every connection of the process. */
function nameOf(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined || names.size >= MAX_PREPARED_TEXTS) return known;
  const name = `td${names.size.toString(36)}`;
  names.set(text, name);
  return name;
}

function changedResultType(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === FEATURE_NOT_SUPPORTED &&
    error.message.includes('must not change result type')
  );
}

/**
 * A pg client that runs parameterised queries as named prepared statements: Postgres parses
 * each text once per connection and, after a few runs, reuses its plan, instead of parsing and
 * planning every statement of every message (about as much of the backends' CPU as running
 * them). A migration that changes a prepared `select *`'s columns makes Postgres refuse the old
 * statement: the connection then names its statements anew, and a query outside a transaction
 * is run again at once (inside one it fails once, like any error of its transaction).
 */
export class PreparedClient extends pg.Client {
  #generation = 0;
  #inTransaction = false;
  /** A BEGIN sent and not answered yet: the statement after it waits for its answer too. */
  #begun: Promise<unknown> | undefined;
  /** Lets the BEGIN held back by #begin go (once). */
  #uncork: () => void = () => undefined;

  // Pipeline mode lets a BEGIN go out with the statement after it (see #begin); every other
  // statement is still sent after the one before it was answered, as its caller awaits it.
  constructor(config?: string | pg.ClientConfig) {
    super(
      typeof config === 'string'
        ? { connectionString: config, pipeline: true }
        : { ...config, pipeline: true },
    );
  }

  // pg's overloads (callbacks, submittables) pass through; kysely's (text, values) is named.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    if (typeof text !== 'string' || args.length !== 2 || !Array.isArray(values))
      return (super.query as (...a: unknown[]) => never)(...args);
    if (values.length === 0) {
      this.#track(text);
      if (BEGIN.test(text) && this.getTransactionStatus() === 'I')
        return this.#begin(text) as never;
      return this.#afterBegin(() => super.query(text, values)) as never;
    }
    const name = values.length <= MAX_PREPARED_PARAMETERS ? nameOf(text) : undefined;
    if (name === undefined) return this.#afterBegin(() => super.query(text, values)) as never;
    return this.#afterBegin(() => this.#named(name, text, values)) as never;
  }

  /**
   * A transaction's BEGIN, answered at once and sent ahead of its first statement: one round
   * trip per transaction fewer. On an idle connection (checked above) BEGIN fails only with the
   * connection, which then fails the statement behind it too; that statement's answer waits
   * for BEGIN's all the same, so nothing builds on a transaction that did not start.
   */
  #begin(text: string): Promise<pg.QueryResult> {
    // Held back (corked) until the first statement is written too, so that both leave in one
    // write; at the latest when this tick's promise reactions have run.
    const { stream } = this.connection;
    stream.cork();
    let corked = true;
    this.#uncork = () => {
      if (corked) stream.uncork();
      corked = false;
    };
    process.nextTick(this.#uncork);
    const begun = super.query(text, []);
    // Seen through the next statement; a BEGIN no statement follows must not go unhandled.
    begun.catch(() => undefined);
    this.#begun = begun;
    return Promise.resolve({ command: 'BEGIN', rowCount: null, oid: 0, fields: [], rows: [] });
  }

  async #afterBegin<T>(run: () => Promise<T>): Promise<T> {
    const begun = this.#begun;
    if (begun === undefined) return run();
    this.#begun = undefined;
    const result = run();
    this.#uncork();
    result.catch(() => undefined);
    await begun;
    return result;
  }

  async #named(name: string, text: string, values: unknown[]): Promise<pg.QueryResult> {
    const generation = this.#generation;
    const run = () => super.query({ name: `${name}_${this.#generation}`, text, values });
    try {
      return await run();
    } catch (error) {
      if (!changedResultType(error)) throw error;
      if (this.#generation === generation) this.#generation += 1;
      if (this.#inTransaction) throw error;
      return run();
    }
  }

  /** Whether later statements run inside a transaction (kysely's begin / commit / rollback). */
  #track(text: string): void {
    const word = /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase();
    if (word === 'begin' || word === 'start') this.#inTransaction = true;
    else if (word === 'commit' || word === 'rollback' || word === 'end')
      this.#inTransaction = false;
  }
}
