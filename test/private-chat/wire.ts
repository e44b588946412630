import { connect, type Socket } from 'node:net';
import { testInfra } from '@topicdesk/testkit';

// Raw wire access for the anonymity checks: what really crosses NATS, and which keys Redis
// holds, read byte for byte without a client library that could decode or hide anything.

/**
 * A core NATS subscriber on `<namespace>.>` that keeps every byte the server sends it: the
 * JetStream publishes of the services (subject, headers and payload) as they are on the wire.
 */
export class NatsWireTap {
  #raw = Buffer.alloc(0);
  readonly #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#raw = Buffer.concat([this.#raw, chunk]);
      // Keep the server from dropping us as a slow or dead client.
      if (chunk.includes('PING\r\n')) socket.write('PONG\r\n');
    });
  }

  static async start(namespace: string): Promise<NatsWireTap> {
    const url = new URL(testInfra.natsUrl);
    const socket = connect(Number(url.port || 4222), url.hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const tap = new NatsWireTap(socket);
    socket.write(
      `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, headers: true, no_responders: false, name: 'anonymity-tap' })}\r\n`,
    );
    socket.write(`SUB ${namespace}.> 1\r\nPING\r\n`);
    // PONG: the subscription is registered before anything else happens.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('NATS tap: no PONG')), 5000);
      const check = () => {
        if (tap.#raw.includes('PONG\r\n')) {
          clearTimeout(timer);
          socket.off('data', check);
          resolve();
        }
      };
      socket.on('data', check);
    });
    return tap;
  }

  /** Everything received so far, as bytes mapped 1:1 to characters. */
  get text(): string {
    return this.#raw.toString('latin1');
  }

  /** How many messages on `<namespace>.<subject>` were seen. */
  count(namespace: string, subject: string): number {
    return this.text.split(`MSG ${namespace}.${subject} `).length - 1;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** The names of the Redis keys under the namespace (KEYS, fine for a test's few keys). */
export async function redisKeys(namespace: string): Promise<string> {
  const url = new URL(testInfra.redisUrl);
  const socket = connect(Number(url.port || 6379), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`KEYS ${namespace}:*\r\n`);
  const reply = await new Promise<string>((resolve) => {
    let raw = '';
    const timer = setTimeout(() => resolve(raw), 2000);
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString('latin1');
      // A RESP array: *<n> then n bulk strings; done once n values arrived.
      const count = Number(/^\*(\d+)\r\n/.exec(raw)?.[1] ?? NaN);
      if (
        Number.isFinite(count) &&
        raw.split('\r\n$').length - 1 >= count &&
        raw.endsWith('\r\n')
      ) {
        clearTimeout(timer);
        resolve(raw);
      }
    });
  });
  socket.destroy();
  return reply;
}
