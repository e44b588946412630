import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, repoRoot, type TestDatabase } from '@topicdesk/testkit';

const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const fixture = join(repoRoot, 'packages', 'core', 'test', 'support', 'pg-metrics.fixture.ts');

// Issue 13: with no trace exporter, a span, a context and a duration metric for every query
// and Redis command were a tenth of the services' CPU per visitor message; pg and ioredis are
// then not instrumented at all. In a process of its own, as a service runs (the SDK's hooks
// see a package's loading, which the test runner's module loader bypasses).
describe('telemetry without a trace exporter', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('otel');
  });
  afterAll(async () => {
    await testDb.drop();
  });

  const metricsOf = async (env: Record<string, string>) => {
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')),
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', tsxLoader, fixture],
      { env: { ...base, DATABASE_URL: testDb.url, ...env }, timeout: 60_000 },
    );
    return stdout;
  };

  it('leaves Postgres queries uninstrumented (no db client metric), unlike a sampled process', async () => {
    expect(await metricsOf({})).not.toMatch(/db_client_operation_duration/);
    // A sampler set (spans may be recorded): the instrumentation is there and measures queries.
    expect(await metricsOf({ OTEL_TRACES_SAMPLER: 'always_off' })).toMatch(
      /db_client_operation_duration/,
    );
  }, 120_000);
});
