import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort, ServiceProcess, startConversation, VisitorClient } from '@topicdesk/testkit';

const GROUP = -1001000000001;
const workDir = mkdtempSync(join(tmpdir(), 'topicdesk-standalone-'));
let app: ServiceProcess | undefined;

afterAll(async () => {
  await app?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

async function sandbox(base: string, path: string, body?: unknown) {
  const response = await fetch(
    `${base}/telegram-sandbox/sandbox/${path}`,
    body === undefined
      ? {}
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
  );
  expect(response.ok).toBe(true);
  return response.json() as Promise<unknown>;
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether a bot message in the topic shows `text`: as itself, or carried by the header. */
function shown(message: string | null, text: string): boolean {
  if (message === null) return false;
  return message === text || message.split('\n\n💬 ').slice(1).join('\n\n💬 ') === text;
}

it('runs everything in one process with no configuration, round-trips a message and keeps data across a restart', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Nothing but PATH, HOME and a free port: embedded Postgres, in-process bus, the sandbox.
  app = new ServiceProcess({
    name: 'standalone',
    script: 'services/standalone/src/main.ts',
    url: base,
    env: { PORT: String(port) },
    cwd: workDir,
    cleanEnv: true,
  });
  await app.start(90_000);
  expect(app.output).toContain(`${base}/demo`);
  expect(app.output).toContain(`${base}/telegram-sandbox/`);
  expect((await fetch(`${base}/demo`)).status).toBe(200);
  expect((await fetch(`${base}/telegram-sandbox/`)).status).toBe(200);

  const conversation = await startConversation(base, { name: 'Smoke' });
  const visitor = await VisitorClient.connect(base, conversation.token);
  visitor.sendMessage('one', 'hello from the widget');
  await visitor.waitFor((f) => f.type === 'ack');
  type Topic = { threadId: number; name: string };
  const topic = await until(async () => {
    const state = (await sandbox(base, 'state')) as { topics: Topic[] };
    return state.topics.find((t) => t.name.includes(conversation.ticket));
  });
  await until(async () => {
    const messages = (await sandbox(
      base,
      `messages?chatId=${GROUP}&threadId=${topic.threadId}&fromBot=true`,
    )) as Array<{ text: string | null }>;
    // Alone or under the topic's header (which carries the first texts after its 💬 line).
    return messages.some((m) => shown(m.text, 'hello from the widget')) || undefined;
  });
  await sandbox(base, 'messages', {
    chatId: GROUP,
    messageThreadId: topic.threadId,
    text: 'hello from an agent',
    from: { id: 7001, first_name: 'Alice' },
  });
  expect(await visitor.waitFor((f) => f.type === 'message' && f['kind'] === 'agent')).toMatchObject(
    { seq: 3, text: 'hello from an agent', author: 'Support' },
  );
  await visitor.close();

  // Restart: the same data directory, the same conversation, the same topic.
  expect(await app.stop()).toBe(0);
  await app.start(90_000);
  const history = (await (
    await fetch(`${base}/v1/conversations/${conversation.conversationId}/messages`, {
      headers: { authorization: `Bearer ${conversation.token}` },
    })
  ).json()) as { messages: Array<{ seq: number; text: string }> };
  expect(history.messages.map((m) => [m.seq, m.text])).toEqual([
    [1, 'hello from the widget'],
    [2, 'Support joined the conversation.'],
    [3, 'hello from an agent'],
  ]);
  const again = await VisitorClient.connect(base, conversation.token);
  again.sendMessage('two', 'still there?');
  expect(await again.waitFor((f) => f.type === 'ack')).toMatchObject({ seq: 4 });
  await until(async () => {
    const messages = (await sandbox(
      base,
      `messages?chatId=${GROUP}&threadId=${topic.threadId}&fromBot=true`,
    )) as Array<{ text: string | null }>;
    return messages.some((m) => shown(m.text, 'still there?')) || undefined;
  });
  await again.close();
});
