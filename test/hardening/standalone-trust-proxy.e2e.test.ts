import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort, ServiceProcess } from '@topicdesk/testkit';

// Issue 12, item 7: one-process mode ignored TRUST_PROXY, so behind a proxy every visitor shared
// the proxy's address and one 5-a-day bucket of new conversations.

const workDir = mkdtempSync(join(tmpdir(), 'topicdesk-trust-proxy-'));
let app: ServiceProcess | undefined;

afterAll(async () => {
  await app?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

it('counts new conversations per visitor address from X-Forwarded-For when TRUST_PROXY is set', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  app = new ServiceProcess({
    name: 'standalone-trust-proxy',
    script: 'services/standalone/src/main.ts',
    url: base,
    env: { PORT: String(port), TRUST_PROXY: 'true', LIMIT_CONVERSATIONS_PER_DAY: '1' },
    cwd: workDir,
    cleanEnv: true,
  });
  await app.start(90_000);
  const start = (forwardedFor: string) =>
    fetch(`${base}/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: '{}',
    });
  expect((await start('203.0.113.1')).status).toBe(201);
  expect((await start('203.0.113.2')).status).toBe(201);
  const again = await start('203.0.113.1');
  expect(again.status).toBe(429);
  expect(await again.json()).toMatchObject({ error: { code: 'CONVERSATION_LIMIT' } });
});
