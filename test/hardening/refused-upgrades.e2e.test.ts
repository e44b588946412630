import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConversation } from '@topicdesk/testkit';
import { startGateway, type GatewayUnderTest } from './gateway-process';

// Issue 12, item 1: a WebSocket upgrade the gateway refuses (a foreign origin, an unknown route,
// a bad token) used to leave its TCP socket open for good — 200 refusals, 200 more open files —
// and a SIGTERM then never finished. Every refusal must close its socket, and shutdown must end
// within SHUTDOWN_TIMEOUT whatever sockets are still open.

let gateway: GatewayUnderTest;

beforeAll(async () => {
  gateway = await startGateway({
    ALLOWED_ORIGINS: 'https://shop.example',
    SHUTDOWN_TIMEOUT: '3s',
  });
}, 90_000);

afterAll(async () => {
  await gateway?.cleanup();
});

interface Answer {
  status: number;
  /** Whether the server closed the connection after answering. */
  closedByServer: boolean;
}

/** A raw upgrade request; waits for the answer and for the server to close (up to 3 s). */
function upgrade(path: string, headers: Record<string, string>): Promise<Answer> {
  const { port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    let closedByServer = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), closedByServer });
    };
    const timer = setTimeout(done, 3_000);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => {
      closedByServer = true;
      done();
    });
    socket.on('error', reject);
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

async function settledOpenFiles(atMost: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const count = gateway.openFiles();
    if (count <= atMost || Date.now() > deadline) return count;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a refused WebSocket upgrade', () => {
  it('is answered and its socket closed, whatever the reason; 200 refusals leave no open files behind', async () => {
    const { token } = await startConversation(gateway.url);
    const before = gateway.openFiles();
    const refusals: Array<{ path: string; headers: Record<string, string>; status: number }> = [
      { path: '/v1/ws', headers: { Origin: 'https://evil.example' }, status: 403 },
      { path: '/v1/ws', headers: { Authorization: 'Bearer nope' }, status: 401 },
      { path: '/v1/no-such-route', headers: {}, status: 404 },
      {
        path: '/v1/ws',
        headers: { Origin: 'https://evil.example', Authorization: `Bearer ${token}` },
        status: 403,
      },
    ];
    for (let round = 0; round < 50; round++) {
      const answers = await Promise.all(refusals.map((r) => upgrade(r.path, r.headers)));
      answers.forEach((answer, i) => {
        expect(answer).toEqual({ status: refusals[i]!.status, closedByServer: true });
      });
    }
    const after = await settledOpenFiles(before + 10);
    expect(after - before).toBeLessThanOrEqual(10);
  });
});

describe('graceful shutdown', () => {
  it('finishes within SHUTDOWN_TIMEOUT with an idle TCP connection, a half-sent request and a socket that never answers the close', async () => {
    const { token } = await startConversation(gateway.url, {});
    const { port } = new URL(gateway.url);
    const idle: Socket[] = [];
    for (let i = 0; i < 5; i++) idle.push(connect(Number(port), '127.0.0.1'));
    const half = connect(Number(port), '127.0.0.1');
    half.write('POST /v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{');
    let tcp: Socket | undefined;
    const deaf = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    deaf.on('upgrade', (response) => (tcp = response.socket));
    deaf.on('error', () => undefined);
    await new Promise((resolve) => deaf.once('open', resolve));
    // The client stops reading: it never sees the 1012 close frame, never answers it.
    tcp!.pause();
    for (const s of [...idle, half]) s.on('error', () => undefined);

    const { code, ms } = await gateway.terminate();
    expect(code).toBe(0);
    // 3 s deadline, plus the process's own start-up of its exit path.
    expect(ms).toBeLessThan(4_500);
    for (const s of [...idle, half]) s.destroy();
    deaf.terminate();
  });
});
