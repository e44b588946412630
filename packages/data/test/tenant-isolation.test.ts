import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import * as data from '../src/index';
import { backends, useDatabase } from './backends';
import { conversationCases } from './isolation/cases-conversation';
import { peopleCases } from './isolation/cases-people';
import { settingsCases } from './isolation/cases-settings';
import { seedTenant, type Seeded } from './isolation/seed';
import {
  parameterNames,
  run,
  tenantTables,
  type IsolationCase,
  type Outcome,
} from './isolation/walk';

/**
 * The walk of issue 16: every public method of every repository, and every data function, is
 * called as tenant B with tenant A's ids (both seeded with the same natural keys), and must
 * neither read nor change anything of A. See docs/security.md, "Tenant scoping".
 */
const cases: Record<string, IsolationCase> = {
  ...peopleCases,
  ...conversationCases,
  ...settingsCases,
};

/** Exported functions over the database that hold no tenant data: the schema's own. */
const SCHEMA_FUNCTIONS = new Set(['migrateToLatest', 'pendingMigrations']);

/**
 * Repositories outside any one tenant, with the reason. `TenantRepository` is the platform's
 * table of tenants itself (no `tenant_id`: each row is a tenant), used only by the platform API
 * under PLATFORM_TOKEN and by each replica's tenant directory; its own tests are in
 * packages/core/test/tenants.test.ts.
 */
const PLATFORM_REPOSITORIES = new Set(['TenantRepository']);

type Callable = (...args: never[]) => unknown;

/** `Class.method` of every public method of the exported repositories, and the data functions. */
function walked(): Map<string, Callable> {
  const found = new Map<string, Callable>();
  for (const [name, value] of Object.entries(data)) {
    if (typeof value !== 'function') continue;
    if (PLATFORM_REPOSITORIES.has(name)) continue;
    if (name.endsWith('Repository')) {
      const prototype = (value as { prototype: object }).prototype;
      for (const method of Object.getOwnPropertyNames(prototype)) {
        const member = Object.getOwnPropertyDescriptor(prototype, method)?.value as unknown;
        if (method !== 'constructor' && typeof member === 'function')
          found.set(`${name}.${method}`, member as Callable);
      }
    } else if (/^[a-z]/.test(name) && !SCHEMA_FUNCTIONS.has(name)) {
      const [first] = parameterNames(value as Callable);
      if (first === 'db' || first === 'trx') found.set(name, value as Callable);
    }
  }
  return found;
}

/** Whatever of `tenant` an answer shows: its marker is in every text, its id in every row. */
function leaks(outcome: Outcome, tenant: Seeded): boolean {
  return JSON.stringify(outcome).toLowerCase().includes(tenant.marker.toLowerCase());
}

const errorOf = (outcome: Outcome) => ('error' in outcome ? outcome.error : undefined);

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A write's answer without what differs between any two runs (the time, new serial ids,
 * uuids and tickets): what is left may not depend on whether A's rows exist (no existence oracle).
 */
function stable(outcome: Outcome): unknown {
  return JSON.parse(
    JSON.stringify(outcome, (key, value: unknown) =>
      typeof value === 'string' && ISO_DATE.test(value)
        ? '<date>'
        : typeof value === 'string' && (UUID.test(value) || value.startsWith('SUPP-'))
          ? '<random>'
          : key === 'id' && typeof value === 'number'
            ? '<id>'
            : value,
    ),
  ) as unknown;
}

for (const backend of backends) {
  describe(`tenant isolation (${backend.name})`, () => {
    const database = useDatabase(backend);
    let alpha: Seeded;
    let bravo: Seeded;
    let tables: string[];

    beforeAll(async () => {
      const suffix = randomUUID().slice(0, 8);
      alpha = await seedTenant(database.db, `iso-alpha-${suffix}`, 'ALPHA');
      bravo = await seedTenant(database.db, `iso-bravo-${suffix}`, 'BRAVO');
      tables = await tenantTables(database.db);
    });

    it('has an isolation case for every public repository method and data function', () => {
      const methods = walked();
      const missing = [...methods.keys()]
        .filter((name) => !(name in cases))
        .map((name) => `no isolation case for ${name}`);
      expect(missing).toEqual([]);
      expect(Object.keys(cases).filter((name) => !methods.has(name))).toEqual([]);
      // The reflection found them all: every repository the package exports has its methods here.
      const repositories = Object.keys(data).filter(
        (name) => name.endsWith('Repository') && !PLATFORM_REPOSITORIES.has(name),
      );
      expect(repositories.length).toBeGreaterThanOrEqual(24);
      for (const repository of repositories)
        expect([...methods.keys()].some((n) => n.startsWith(`${repository}.`))).toBe(true);
    });

    for (const [name, isolation] of Object.entries(cases)) {
      if (isolation.kind === 'global') {
        it(`${name} sweeps every tenant by design (${isolation.why}), naming each row's tenant`, async () => {
          const method = walked().get(name);
          expect(method, `${name} is not a method`).toBeDefined();
          expect(parameterNames(method!)).not.toContain('tenantId');
          const swept = await run(database.db, tables, alpha.tenantId, isolation.call);
          expect(errorOf(swept.outcome)).toBeUndefined();
          const value = 'value' in swept.outcome ? swept.outcome.value : undefined;
          for (const row of Array.isArray(value) ? (value as unknown[]) : []) {
            if (typeof row === 'object' && row !== null)
              expect(Object.keys(row).some((k) => k === 'tenant_id' || k === 'tenantId')).toBe(
                true,
              );
            else expect(typeof row).toBe('string');
          }
        });
        continue;
      }

      it(`${name} as tenant B with tenant A's ids neither reads nor changes A`, async () => {
        const { db } = database;
        const asBravo = () =>
          run(db, tables, alpha.tenantId, (trx) =>
            isolation.call({ db: trx, as: bravo, target: alpha }),
          );
        const asAlpha = (withoutAlpha = false) =>
          run(
            db,
            tables,
            alpha.tenantId,
            (trx) => isolation.call({ db: trx, as: alpha, target: alpha }),
            withoutAlpha,
          );

        const walk = await asBravo();
        expect(walk.after, `${name} as B changed A's rows`).toEqual(walk.before);
        expect(walk.crossReferences, `${name} as B joined its rows to A's`).toEqual([]);
        expect(leaks(walk.outcome, alpha), `${name} as B answered with A's data`).toBe(false);

        // The control: as A with its own ids the case must reach A's rows, or it proves nothing.
        const control = await asAlpha();
        expect(errorOf(control.outcome), `${name} fails as A`).toBeUndefined();
        switch (isolation.kind) {
          case 'read': {
            const alone = await run(
              db,
              tables,
              alpha.tenantId,
              (trx) => isolation.call({ db: trx, as: bravo, target: alpha }),
              true,
            );
            expect(walk.outcome, `${name} as B answers differently when A exists`).toEqual(
              alone.outcome,
            );
            const controlAlone = await asAlpha(true);
            expect(control.outcome, `${name} reads nothing of A as A`).not.toEqual(
              controlAlone.outcome,
            );
            break;
          }
          case 'write': {
            const alone = await run(
              db,
              tables,
              alpha.tenantId,
              (trx) => isolation.call({ db: trx, as: bravo, target: alpha }),
              true,
            );
            expect(stable(walk.outcome), `${name} as B answers differently when A exists`).toEqual(
              stable(alone.outcome),
            );
            expect(control.after, `${name} changes nothing of A as A`).not.toEqual(control.before);
            break;
          }
          case 'lock': {
            const keys = (outcome: Outcome) =>
              'value' in outcome ? (outcome.value as string[]) : [];
            expect(keys(control.outcome).length).toBeGreaterThan(0);
            expect(keys(walk.outcome).filter((k) => keys(control.outcome).includes(k))).toEqual([]);
            break;
          }
          default: {
            const never: never = isolation;
            throw new Error(`unknown case ${String(never)}`);
          }
        }
      });
    }
  });
}
