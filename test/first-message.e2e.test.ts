import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  freePort,
  ServiceProcess,
  startConversation,
  VisitorClient,
  type StartedConversation,
} from '@topicdesk/testkit';
import { scrape, series, type Sample } from './observability/support';

// Issue 18: in one-process mode the first visitor message took seconds to its `delivered`
// receipt while later ones took milliseconds — the header (which carries the first text) waited
// out the one-a-second chat window its own topic creation had just opened. Run with the
// defaults of `pnpm start` (the bridge's Telegram budgets untouched), the sandbox enforcing
// Telegram's limits, a visitor who writes like the widget does: the conversation is created by
// the first message, the next ones come at a human pace.

const workDir = mkdtempSync(join(tmpdir(), 'topicdesk-first-message-'));
let app: ServiceProcess;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  app = new ServiceProcess({
    name: 'first-message',
    script: 'services/standalone/src/main.ts',
    url: base,
    env: { PORT: String(port) },
    cwd: workDir,
    cleanEnv: true,
  });
  await app.start(90_000);
  const limits = await fetch(`${base}/telegram-sandbox/sandbox/limits`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: true }),
  });
  expect(limits.ok).toBe(true);
}, 120_000);

afterAll(async () => {
  await app?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** Milliseconds from `since` (default: sending the message) to its `delivered` receipt. */
async function timeToDelivered(
  visitor: VisitorClient,
  clientId: string,
  text: string,
  since = Date.now(),
): Promise<number> {
  visitor.sendMessage(clientId, text);
  const ack = await visitor.waitFor((f) => f.type === 'ack' && f['clientId'] === clientId);
  await visitor.waitFor(
    (f) => f.type === 'receipt' && f['seq'] === ack['seq'] && f['state'] === 'delivered',
    15_000,
  );
  return Date.now() - since;
}

/** The sender's queue waits of normal calls: how many, and how many within `le` seconds. */
function normalWaits(samples: readonly Sample[], le: string): { count: number; within: number } {
  const sum = (name: string, labels: Record<string, string>) =>
    series(samples, name, { priority: 'normal', ...labels }).reduce((n, s) => n + s.value, 0);
  return {
    count: sum('topicdesk_telegram_send_wait_seconds_count', {}),
    within: sum('topicdesk_telegram_send_wait_seconds_bucket', { le }),
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** As the widget does it: the first message starts the conversation, then goes on the socket. */
async function firstMessage(
  name: string,
  text: string,
): Promise<{ visitor: VisitorClient; ms: number }> {
  const started = Date.now();
  const conversation: StartedConversation = await startConversation(base, { name });
  const visitor = await VisitorClient.connect(base, conversation.token);
  return { visitor, ms: await timeToDelivered(visitor, 'first', text, started) };
}

it('delivers the first message of a new conversation without a budget wait, about as fast as the third', async () => {
  // A server that has served a visitor before: the process's very first request, socket and
  // insert are slow for reasons of their own (cold code), not the first message's.
  const earlier = await firstMessage('Earlier', 'an earlier visitor');
  await earlier.visitor.close();
  await pause(3_500);
  const before = normalWaits(await scrape(base), '0.5');

  const { visitor, ms: first } = await firstMessage('First', 'hello, is anyone there?');
  // The first message's path — the topic, the header carrying the text, or the text on its
  // own — waited for no budget: no normal call spent more than half a second in the queue
  // (before: the header waited the 1.25 s chat window the topic's creation opened).
  const afterFirst = normalWaits(await scrape(base), '0.5');
  expect(afterFirst.count).toBeGreaterThanOrEqual(before.count + 2);
  expect(afterFirst).toEqual({ count: afterFirst.count, within: afterFirst.count });

  // A visitor types a while before the next message.
  await pause(3_500);
  await timeToDelivered(visitor, 'second', 'I have a question about my order');
  await pause(3_500);
  const third = await timeToDelivered(visitor, 'third', 'it has not arrived yet');
  const afterThird = normalWaits(await scrape(base), '0.5');
  expect(afterThird).toEqual({ count: afterThird.count, within: afterThird.count });
  expect(afterThird.count).toBeGreaterThanOrEqual(afterFirst.count + 2);

  // Wall time on a loaded machine, with room for the topic's two extra calls.
  expect(first, `first ${first} ms, third ${third} ms`).toBeLessThanOrEqual(1.5 * third + 500);

  // Telegram's limits held: the sandbox refused nothing.
  const calls = (await (await fetch(`${base}/telegram-sandbox/sandbox/calls`)).json()) as {
    calls: Array<{ method: string; status: number }>;
  };
  expect(calls.calls.filter((c) => c.status === 429)).toEqual([]);
  expect(calls.calls.some((c) => c.method === 'createForumTopic' && c.status === 200)).toBe(true);
  await visitor.close();
});
