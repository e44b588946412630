import type { DB, Kysely } from '../../src/index';
import type { CaseContext, IsolationCase } from './walk';

type Repository<R> = new (db: Kysely<DB>) => R;
type Call<R> = (repository: R, c: CaseContext & { t: string }) => Promise<unknown>;

/** A case over one repository method; `t` is the caller's tenant, `target` whose ids it uses. */
export const on = <R>(
  kind: 'read' | 'write' | 'lock',
  Repo: Repository<R>,
  call: Call<R>,
): IsolationCase => ({
  kind,
  call: (c) => call(new Repo(c.db), { ...c, t: c.as.tenantId }),
});
export const read = <R>(Repo: Repository<R>, call: Call<R>) => on('read', Repo, call);
export const write = <R>(Repo: Repository<R>, call: Call<R>) => on('write', Repo, call);
export const sweep = <R>(
  Repo: Repository<R>,
  why: string,
  call: (r: R) => Promise<unknown>,
): IsolationCase => ({ kind: 'global', why, call: (db) => call(new Repo(db)) });

export const NOW = () => new Date();
export const FAR = new Date('2200-01-01T00:00:00Z');
export const SINCE = new Date('2025-01-01T00:00:00Z');
export const SCHEDULER = 'a scheduler sweep over every tenant; each row names its tenant';
