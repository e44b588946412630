import {
  OutboxRepository,
  type DB,
  type Kysely,
  type OutboxInput,
  type OutboxRow,
} from '@topicdesk/data';
import type { Logger } from '@topicdesk/telemetry';

/** Hands committed outbox rows on (the relay publishes them; the sweeper retries what it could not). */
export interface Publisher {
  publish(rows: readonly OutboxRow[]): Promise<void>;
}

/** A change being made: its transaction, and the outbox rows that will announce it. */
export interface Work {
  /** The transaction every write of this change goes through. */
  readonly trx: Kysely<DB>;
  /** Announces the change once it is committed (the rows are written in the same transaction). */
  emit(...rows: readonly OutboxInput[]): void;
  /** Runs `fn` once the change is committed (a metric of what happened); never on a rollback. */
  afterCommit(fn: () => void): void;
}

/**
 * The one place that commits a change and publishes its outbox rows: `fn` runs in a
 * transaction, the rows it emitted are written in that transaction, and only after the commit
 * are they handed to the publisher. Nothing is announced that is not durable; what the
 * publisher cannot send stays in the outbox for the sweeper.
 */
export class UnitOfWork {
  constructor(
    readonly db: Kysely<DB>,
    private readonly publisher: Publisher,
  ) {}

  async run<T>(fn: (work: Work) => Promise<T>): Promise<T> {
    const committed: Array<() => void> = [];
    const { value, rows } = await this.db.transaction().execute(async (trx) => {
      const emitted: OutboxInput[] = [];
      const value = await fn({
        trx,
        emit: (...rows) => void emitted.push(...rows),
        afterCommit: (then) => void committed.push(then),
      });
      return { value, rows: await new OutboxRepository(trx).add(emitted) };
    });
    for (const then of committed) then();
    if (rows.length > 0) await this.publisher.publish(rows);
    return value;
  }

  /**
   * A change that is one statement and announces nothing (no outbox row): Postgres commits a
   * lone statement atomically, so it runs without BEGIN and COMMIT, two round trips fewer than
   * `run` (the bridge records every delivery this way). `fn` must send exactly one statement
   * through `db`; a change of more than one, or one that emits, goes through `run`.
   */
  one<T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T> {
    return fn(this.db);
  }

  /**
   * A change that one statement makes whole, its outbox rows included (a function of the
   * database writes them with the change: `appendVisitorMessage`): it runs without BEGIN and
   * COMMIT, and the rows it wrote and returns are published after it, as `run` publishes its.
   */
  async single<T>(
    fn: (db: Kysely<DB>) => Promise<{ value: T; rows: readonly OutboxRow[] }>,
  ): Promise<T> {
    const { value, rows } = await fn(this.db);
    if (rows.length > 0) await this.publisher.publish(rows);
    return value;
  }

  /** The same writes, publishing through another publisher (e.g. one that does not wait). */
  with(publisher: Publisher): UnitOfWork {
    return new UnitOfWork(this.db, publisher);
  }
}

/**
 * A publisher that does not wait: the caller's answer (a visitor's ack) goes out as soon as
 * the change is committed; a publish that fails is logged and left to the sweeper.
 */
export function detachedPublisher(publisher: Publisher, logger: Logger): Publisher {
  return {
    publish: (rows) => {
      publisher.publish(rows).catch((error: unknown) => {
        logger.warn({ err: error }, 'outbox publish failed; the sweeper publishes the rows');
      });
      return Promise.resolve();
    },
  };
}
