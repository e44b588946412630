// The production build, run the way the images run it (deploy/docker/Dockerfile) but without
// Docker: `pnpm build` bundles the gateway, `pnpm deploy --prod` (hoisted) and the pruner make
// its node_modules, and the result is laid out as in the image (/app/node_modules,
// /app/services/gateway/dist, /app/packages/widget/dist) and started with plain node against
// the local Postgres, Redis and NATS.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  cleanupNats,
  cleanupRedis,
  createTestDatabase,
  freePort,
  repoRoot,
  testInfra,
  uniqueName,
  type TestDatabase,
} from '@topicdesk/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'topicdesk-image-'));
const app = join(work, 'app');
const serviceDir = join(app, 'services', 'gateway');
const namespace = uniqueName('tdimage');
let database: TestDatabase | undefined;
let gateway: ChildProcess | undefined;
let output = '';
let base = '';

function run(command: string, args: string[], cwd = repoRoot, env = process.env): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  run('sh', ['deploy/build.sh', 'gateway']);
  const deployed = join(work, 'deploy');
  run('pnpm', [
    '--config.inject-workspace-packages=true',
    '--config.node-linker=hoisted',
    '--filter',
    '@topicdesk/gateway',
    'deploy',
    '--prod',
    '--offline',
    deployed,
  ]);
  run('sh', ['deploy/docker/prune-node-modules.sh', deployed]);
  cpSync(join(deployed, 'node_modules'), join(app, 'node_modules'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  cpSync(join(repoRoot, 'services/gateway/dist'), join(serviceDir, 'dist'), { recursive: true });
  const widget = join(repoRoot, 'packages/widget/dist');
  if (existsSync(widget)) cpSync(widget, join(app, 'packages/widget/dist'), { recursive: true });

  database = await createTestDatabase('tdimage');
  const env = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    DATABASE_URL: database.url,
  };
  expect(run(process.execPath, ['dist/migrate.mjs'], serviceDir, env)).toMatch(
    /applied|up to date/,
  );

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = spawn(process.execPath, ['dist/main.mjs'], {
    cwd: serviceDir,
    env: {
      ...env,
      NATS_URL: testInfra.natsUrl,
      REDIS_URL: testInfra.redisUrl,
      NAMESPACE: namespace,
      CONVERSATION_JWT_SECRET: 'bundle-test-secret-of-at-least-32-characters',
      PORT: String(port),
      HOST: '127.0.0.1',
      OTEL_TRACES_EXPORTER: 'none',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  gateway.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gateway.exitCode !== null) throw new Error(`gateway exited:\n${output}`);
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`gateway not ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL');
  await database?.drop();
  await cleanupNats(namespace);
  await cleanupRedis(namespace);
  rmSync(work, { recursive: true, force: true });
});

it('serves the visitor API, the demo page and the widget from the bundle', async () => {
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  expect((await fetch(`${base}/demo`)).status).toBe(200);
  if (existsSync(join(app, 'packages/widget/dist/widget.js')))
    expect((await fetch(`${base}/widget.js`)).status).toBe(200);
  const created = await fetch(`${base}/v1/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bundle' }),
  });
  expect(created.status).toBe(201);
  expect(await (await fetch(`${base}/metrics`)).text()).toContain('topicdesk_outbox_pending');
});

it('keeps only the externals in node_modules and loads pg and ioredis after telemetry starts', () => {
  const modules = join(app, 'node_modules');
  for (const kept of ['pg', 'ioredis', 'pino', '@opentelemetry/instrumentation'])
    expect(existsSync(join(modules, kept)), kept).toBe(true);
  for (const bundled of ['fastify', 'zod', 'kysely', '@nats-io/transport-node'])
    expect(existsSync(join(modules, bundled)), bundled).toBe(false);
  // What main.mjs imports statically runs before its first line: pg and ioredis must not be in
  // that set, or they load before OpenTelemetry's hooks and go untraced.
  const loaded = new Set<string>();
  const visit = (file: string) => {
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^import\s(?:[^'"]*?\sfrom\s*)?["']([^"']+)["'];?$/gm)) {
      const specifier = m[1]!;
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else loaded.add(specifier);
    }
  };
  visit(join(serviceDir, 'dist', 'main.mjs'));
  expect(loaded).toContain('@opentelemetry/api');
  expect([...loaded].filter((s) => /^(pg|pg-pool|ioredis)$/.test(s))).toEqual([]);
});

it('shuts down cleanly on SIGTERM', async () => {
  const exited = new Promise<number | null>((resolve) => gateway!.once('exit', resolve));
  gateway!.kill('SIGTERM');
  expect(await exited).toBe(0);
});
