import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A free TCP port on loopback (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A nats-server of the test's own (JetStream, file store in a temp dir), so a test can kill and
 * restart it without disturbing the shared one. Needs `nats-server` on PATH (or NATS_SERVER_BIN).
 */
export class LocalNatsServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<LocalNatsServer> {
    const server = new LocalNatsServer(
      await freePort(),
      await mkdtemp(path.join(tmpdir(), 'bus-nats-')),
    );
    await server.spawn();
    return server;
  }

  async restart(options: { wipeStore?: boolean } = {}): Promise<void> {
    if (options.wipeStore) {
      await rm(this.storeDir, { recursive: true, force: true });
      this.storeDir = await mkdtemp(path.join(tmpdir(), 'bus-nats-'));
    }
    await this.spawn();
  }

  /** SIGTERM shuts down cleanly (state flushed); SIGKILL is a crash. */
  async kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.storeDir, { recursive: true, force: true });
  }

  private async spawn(): Promise<void> {
    const binary = process.env['NATS_SERVER_BIN'] ?? 'nats-server';
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir];
    this.child = spawn(binary, args, { stdio: 'ignore' });
    const child = this.child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`nats-server exited with ${String(code)}`)));
    });
    await Promise.race([waitForPort(this.port), failed]);
  }
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
