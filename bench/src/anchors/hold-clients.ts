// A child process that opens WebSocket connections and holds them, so the benchmark process
// itself stays under the per-process open-files limit. Told what to open through its
// environment; reports progress to its parent; exits when told to.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const url = process.env['URL']!;
const localAddress = process.env['LOCAL_ADDRESS'];
const tokens = JSON.parse(readFileSync(process.env['TOKENS_FILE']!, 'utf8')) as string[];
const concurrency = Number(process.env['CONCURRENCY'] ?? '200');

let connected = 0;
let failed = 0;
const failures = new Map<string, number>();
const sockets: WebSocket[] = [];

function open(token: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      ...(localAddress ? { localAddress } : {}),
      handshakeTimeout: 30_000,
    });
    const fail = (reason: string) => {
      failed += 1;
      failures.set(reason, (failures.get(reason) ?? 0) + 1);
      socket.terminate();
      resolve();
    };
    socket.once('message', () => {
      connected += 1;
      sockets.push(socket);
      resolve();
    });
    socket.once('unexpected-response', (_request, response) => fail(`HTTP ${response.statusCode}`));
    socket.once('error', (error) => fail(error.message));
    socket.on('close', () => {
      if (sockets.includes(socket)) connected -= 1;
    });
  });
}

const report = (done: boolean) =>
  process.send?.({ connected, failed, failures: Object.fromEntries(failures), done });

const timer = setInterval(() => report(false), 500);
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < tokens.length) await open(tokens[next++]!);
  }),
);
clearInterval(timer);
report(true);
process.on('message', (message) => {
  if (message === 'exit') {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});
