import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy } from './tcp-proxy';

/** An echo server on a free loopback port. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `text` and resolves with what comes back within `ms`, or null when nothing does. */
function roundTrip(socket: Socket, text: string, ms = 300): Promise<string | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    socket.once('data', (data) => {
      clearTimeout(timer);
      resolve(data.toString('utf8'));
    });
    socket.write(text);
  });
}

/** Resolves with how the socket ended: 'close' (with or without an error) or 'open'. */
function ended(socket: Socket, ms = 1000): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve('closed');
    const timer = setTimeout(() => resolve('open'), ms);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('TcpProxy', () => {
  it('forwards, cuts open and new connections, and forwards again after restore', async () => {
    const echo = await echoServer();
    const proxy = await TcpProxy.start({ target: { host: '127.0.0.1', port: echo.port } });
    cleanup.push(
      () => new Promise((r) => echo.server.close(r)),
      () => proxy.close(),
    );

    const first = await connect(proxy.port);
    expect(await roundTrip(first, 'hello')).toBe('hello');
    expect(proxy.connections).toBe(1);

    const firstEnded = ended(first);
    proxy.cut();
    expect(await firstEnded).toBe('closed');
    // A new connection is accepted by the kernel and reset at once: nothing gets through.
    const refused = await connect(proxy.port).catch(() => undefined);
    if (refused) expect(await ended(refused)).toBe('closed');

    proxy.restore();
    const second = await connect(proxy.port);
    cleanup.push(() => second.destroy());
    expect(await roundTrip(second, 'again')).toBe('again');
  });

  it('stalls: connections stay open but nothing comes back until restore resets them', async () => {
    const echo = await echoServer();
    const proxy = await TcpProxy.start({ target: { host: '127.0.0.1', port: echo.port } });
    cleanup.push(
      () => new Promise((r) => echo.server.close(r)),
      () => proxy.close(),
    );

    const open = await connect(proxy.port);
    cleanup.push(() => open.destroy());
    expect(await roundTrip(open, 'a')).toBe('a');
    proxy.stall();
    expect(await roundTrip(open, 'b')).toBeNull();
    const late = await connect(proxy.port);
    cleanup.push(() => late.destroy());
    expect(await roundTrip(late, 'c')).toBeNull();
    expect(await ended(late, 200)).toBe('open');

    // Like a hung server restarted: the stalled connections are reset, new ones work.
    const openEnded = ended(open);
    proxy.restore();
    expect(await openEnded).toBe('closed');
    const fresh = await connect(proxy.port);
    cleanup.push(() => fresh.destroy());
    expect(await roundTrip(fresh, 'd')).toBe('d');
  });
});
