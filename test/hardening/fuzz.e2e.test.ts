import { connect } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConversation } from '@topicdesk/testkit';
import { startGateway, type GatewayUnderTest } from './gateway-process';

// Issue 12, "Done when": a few thousand random and hostile requests and frames at the visitor
// and admin APIs. Whatever arrives: no 5xx, no crash, every error in the documented shape
// (docs/errors.md), the process within its file budget, and a shutdown within its deadline.
// Seeded, so a failure can be replayed; bounded to well under a minute; loopback only.

const SEED = Number(process.env['FUZZ_SEED'] ?? 12);
const REQUESTS = 2_400;
const FRAMES = 1_200;
/** Open files the gateway may hold above its idle count while the fuzz runs. */
const FILE_BUDGET = 200;
const CODES = new Set([
  'INVALID_JSON',
  'INVALID_REQUEST',
  'MESSAGE_TOO_LONG',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'TOKEN_MISSING',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONVERSATION_CLOSED',
  'RATE_LIMITED',
]);

let gateway: GatewayUnderTest;

beforeAll(async () => {
  gateway = await startGateway({
    LIMIT_CONVERSATIONS_PER_DAY: '100000',
    LIMIT_MESSAGES_PER_HOUR: '100000',
    LIMIT_PROFILE_CHANGES_PER_HOUR: '100000',
    WS_RATE_BURST: '100000',
    WS_RATE_PER_SEC: '100000',
    SHUTDOWN_TIMEOUT: '4s',
  });
}, 90_000);

afterAll(async () => {
  await gateway?.cleanup();
});

/** mulberry32: small, seeded, good enough to pick cases. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

const rng = random(SEED);

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202Eevil\u202C',
  '\u200B\u200B',
  '\uD800',
  '😀'.repeat(5000),
  'x'.repeat(70_000),
  '<script>alert(1)</script>',
  "'; drop table messages; --",
  '%00%ff%',
  '../../etc/passwd',
  'en' + '-abcdefgh'.repeat(2000),
  'pt-BR',
  '__proto__',
  '{"$gt":""}',
  '9007199254740993',
];

function hostileValue(depth = 0): unknown {
  switch (rng.int(depth > 3 ? 6 : 9)) {
    case 0:
      return rng.pick(HOSTILE_STRINGS);
    case 1:
      return rng.pick([0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, Number.NaN]);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return String.fromCharCode(...Array.from({ length: rng.int(40) }, () => rng.int(0xffff)));
    case 4:
      return rng.pick(['Ada', 'https://shop.example/cart', 'de-AT', 'message']);
    case 5:
      return { __proto__: { polluted: true }, constructor: { prototype: { x: 1 } } };
    case 6:
      return Array.from({ length: rng.int(5) }, () => hostileValue(depth + 1));
    default: {
      const keys = ['name', 'locale', 'page', 'url', 'title', 'text', 'displayName', 'key', 'role'];
      return Object.fromEntries(
        Array.from({ length: rng.int(5) }, () => [rng.pick(keys), hostileValue(depth + 1)]),
      );
    }
  }
}

function hostileBody(): { body: string | Uint8Array | undefined; type: string | undefined } {
  const type = rng.pick([
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    undefined,
  ]);
  switch (rng.int(6)) {
    case 0:
      return { body: undefined, type };
    case 1:
      return { body: 'null', type };
    case 2:
      return { body: '{"name": ', type };
    case 3:
      return { body: Uint8Array.from({ length: rng.int(300) }, () => rng.int(256)), type };
    case 4:
      return { body: '['.repeat(5000) + ']'.repeat(5000), type };
    default:
      return { body: JSON.stringify(hostileValue()), type };
  }
}

interface Answer {
  status: number;
  text: string;
  path: string;
}

function check(answer: Answer, failures: string[]): void {
  const where = `${answer.status} ${answer.path.slice(0, 120)}: ${answer.text.slice(0, 200)}`;
  if (answer.status >= 500 || answer.status === 0) {
    failures.push(where);
    return;
  }
  if (answer.status < 400) return;
  try {
    const json = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    if (
      typeof json.error?.code !== 'string' ||
      typeof json.error.message !== 'string' ||
      !CODES.has(json.error.code)
    )
      failures.push(`shape: ${where}`);
  } catch {
    failures.push(`not JSON: ${where}`);
  }
}

it('answers thousands of random and hostile requests and frames without a 5xx, in the documented shape, within its file budget, and shuts down in time', async () => {
  const started = Date.now();
  const baseline = gateway.openFiles();
  const mine = await startConversation(gateway.url, { name: 'Fuzz' });
  const tokens = [
    mine.token,
    'not-a-token',
    `${mine.token}x`,
    gateway.serviceToken,
    'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    '',
  ];
  const ids = [
    mine.conversationId,
    '00000000-0000-0000-0000-000000000000',
    'SUPP-1',
    'x'.repeat(300),
    '%E0%A4%A',
    '..%2f..%2f',
    '%00',
  ];
  const paths = () => {
    const id = rng.pick(ids);
    return rng.pick([
      '/v1/conversations',
      `/v1/conversations/${id}`,
      `/v1/conversations/${id}/token`,
      `/v1/conversations/${id}/profile`,
      `/v1/conversations/${id}/messages?after=${rng.pick(['0', '-1', '2147483648', 'abc', '1&after=2', '%zz'])}&limit=${rng.pick(['1', '501', 'x'])}`,
      `/v1/conversations/${id}/messages?token=${mine.token}`,
      '/v1/admin/agents',
      `/v1/admin/agents/${rng.pick(['7001', '-1', '1e400', 'abc', '9007199254740993'])}`,
      '/v1/admin/templates',
      `/v1/admin/templates/${rng.pick(['welcome', 'x'.repeat(200), '%ff'])}?locale=${rng.pick(['en', 'en&locale=de', ''])}`,
      `/v1/admin/audit?limit=${rng.pick(['1', '0', '1&limit=2'])}&before=${rng.pick(['1', '-5', 'x'])}`,
      '/v1/nothing-here',
      `/v1/${'a/'.repeat(200)}`,
    ]);
  };

  const failures: string[] = [];
  const one = async (): Promise<Answer> => {
    const path = paths();
    const method = rng.pick(['GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
    const { body, type } =
      method === 'GET' || method === 'OPTIONS'
        ? { body: undefined, type: undefined }
        : hostileBody();
    const token = rng.pick(tokens);
    const headers: Record<string, string> = {};
    if (type) headers['content-type'] = type;
    if (token && rng.next() < 0.8) headers['authorization'] = `Bearer ${token}`;
    if (rng.next() < 0.2)
      headers['origin'] = rng.pick(['https://evil.example', 'null', 'https://shop.example']);
    if (rng.next() < 0.1) headers['x-request-id'] = rng.pick(['x'.repeat(500), '\u00ff', 'abc']);
    try {
      const response = await fetch(`${gateway.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: body as BodyInit }),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, text: await response.text(), path: `${method} ${path}` };
    } catch (error) {
      return { status: 0, text: String(error), path: `${method} ${path}` };
    }
  };
  for (let done = 0; done < REQUESTS; done += 40) {
    const answers = await Promise.all(Array.from({ length: 40 }, one));
    for (const answer of answers) check(answer, failures);
    expect(gateway.openFiles() - baseline).toBeLessThan(FILE_BUDGET);
  }

  // Requests a fetch cannot make: broken HTTP on a raw socket, answered 400 in the same shape.
  const { port } = new URL(gateway.url);
  const raw = async (request: string): Promise<Answer> =>
    new Promise((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        resolve({
          status,
          text: text.slice(text.indexOf('\r\n\r\n') + 4),
          path: request.split('\r\n')[0]!,
        });
      });
      socket.end(request);
    });
  for (const request of [
    'POST /v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
    'GET /v1/conversations/%E0%A4%A/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    'POST /v1/conversations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}',
    'GARBAGE\r\n\r\n',
  ]) {
    const answer = await raw(request);
    check(answer, failures);
  }

  // Frames: three sockets on one conversation, a thousand random and hostile frames.
  const frames = (): string | Buffer => {
    switch (rng.int(7)) {
      case 0:
        return Buffer.from(Array.from({ length: rng.int(64) }, () => rng.int(256)));
      case 1:
        return '{"type":"message"';
      case 2:
        return JSON.stringify({
          type: 'resume',
          afterSeq: rng.pick([-1, 0, 2 ** 31, 2 ** 53, 1.5, '3']),
        });
      case 3:
        return JSON.stringify({
          type: 'message',
          clientId: rng.pick(['a', '', 'x'.repeat(200)]),
          text: hostileValue(),
        });
      case 4:
        return JSON.stringify({ type: rng.pick(['typing', 'rating', '__proto__', null]) });
      case 5:
        return JSON.stringify(hostileValue());
      default:
        return JSON.stringify({
          type: 'message',
          clientId: `f-${rng.int(50)}`,
          text: rng.pick(HOSTILE_STRINGS),
        });
    }
  };
  const sockets = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise<{ ws: WebSocket; got: string[] }>((resolve, reject) => {
          const ws = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/v1/ws`, {
            headers: { authorization: `Bearer ${mine.token}` },
          });
          const got: string[] = [];
          ws.on('message', (data: Buffer) => got.push(data.toString('utf8')));
          ws.once('open', () => resolve({ ws, got }));
          ws.once('error', reject);
        }),
    ),
  );
  for (let i = 0; i < FRAMES; i++) {
    const frame = frames();
    rng.pick(sockets).ws.send(frame, { binary: Buffer.isBuffer(frame) });
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
  }
  const ping = sockets[0]!;
  ping.ws.send(JSON.stringify({ type: 'message', clientId: 'fuzz-last', text: 'still alive' }));
  const deadline = Date.now() + 15_000;
  while (!ping.got.some((f) => f.includes('"fuzz-last"')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  for (const { ws, got } of sockets) {
    expect(ws.readyState).toBe(WebSocket.OPEN);
    for (const text of got) {
      const frame = JSON.parse(text) as { type: string; code?: string; message?: unknown };
      if (frame.type !== 'error') continue;
      if (!CODES.has(frame.code ?? '') || typeof frame.message !== 'string')
        failures.push(`frame: ${text.slice(0, 200)}`);
    }
  }
  expect(ping.got.find((f) => f.includes('"fuzz-last"'))).toContain('"ack"');

  expect(failures.slice(0, 20)).toEqual([]);
  expect(gateway.process.running).toBe(true);
  expect(gateway.openFiles() - baseline).toBeLessThan(FILE_BUDGET);
  const { code, ms } = await gateway.terminate();
  for (const { ws } of sockets) ws.terminate();
  expect(code).toBe(0);
  expect(ms).toBeLessThan(5_500);
  expect(Date.now() - started).toBeLessThan(60_000);
}, 90_000);
