import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process';

interface ServerSpec {
  /** For messages: `nats-server`, `redis-server`. */
  name: string;
  binary: string;
  args(port: number, dir: string): string[];
}

/**
 * A NATS or Redis server of a test's own on a free loopback port, so the test can kill and
 * restart it without disturbing the shared servers other suites use at the same time. A missing
 * binary fails loudly (never a silent skip): install it, or point `NATS_SERVER_BIN` /
 * `REDIS_SERVER_BIN` at it.
 */
export class LocalServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  private constructor(
    private readonly spec: ServerSpec,
    readonly port: number,
    private dir: string,
  ) {}

  /** nats-server with JetStream, its file store in a temp dir that survives restarts. */
  static async nats(): Promise<LocalServer> {
    const binary = findBinary('nats-server', 'NATS_SERVER_BIN', ['/usr/sbin/nats-server']);
    return LocalServer.#start({
      name: 'nats-server',
      binary,
      args: (port, dir) => ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
    });
  }

  /** redis-server without persistence: a restart comes back empty, as a failed-over cache does. */
  static async redis(): Promise<LocalServer> {
    const binary = findBinary('redis-server', 'REDIS_SERVER_BIN', ['/usr/bin/redis-server']);
    return LocalServer.#start({
      name: 'redis-server',
      binary,
      args: (port, dir) => [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--dir',
        dir,
      ],
    });
  }

  static async #start(spec: ServerSpec): Promise<LocalServer> {
    const dir = await mkdtemp(join(tmpdir(), `${spec.name}-`));
    const server = new LocalServer(spec, await freePort(), dir);
    await server.start();
    return server;
  }

  get url(): string {
    return this.spec.name === 'nats-server'
      ? `nats://127.0.0.1:${this.port}`
      : `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs (for CPU readings). */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && !this.#child.killed;
  }

  /** Starts the server (again) on the same port and data directory; resolves once it listens. */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.running) return;
    const child = spawn(this.spec.binary, this.spec.args(this.port, this.dir), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + String(chunk)).slice(-2000)));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const failed = new Promise<never>((_resolve, reject) => {
      child.once('error', (error) =>
        reject(new Error(`could not start ${this.spec.binary}: ${error.message}`)),
      );
      child.once('exit', (code, signal) =>
        reject(
          new Error(`${this.spec.name} exited (${String(code ?? signal)}) at start: ${stderr}`),
        ),
      );
    });
    failed.catch(() => undefined);
    await Promise.race([waitForPort(this.port, timeoutMs, this.spec.name), failed]);
  }

  /** SIGKILL is a crash (nothing flushed); SIGTERM a clean stop. Resolves once it has exited. */
  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.#exited;
  }

  /** Empties the data directory of a stopped server: it starts again as one that lost its store. */
  async wipe(): Promise<void> {
    if (this.running)
      throw new Error(`${this.spec.name} is running: kill it before wiping its data`);
    await rm(this.dir, { recursive: true, force: true });
    this.dir = await mkdtemp(join(tmpdir(), `${this.spec.name}-`));
  }

  /** Kills the server and removes its data directory. */
  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function findBinary(name: string, variable: string, fallbacks: string[]): string {
  const configured = process.env[variable];
  if (configured) return configured;
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  const found = fallbacks.find((path) => existsSync(path));
  if (found) return found;
  throw new Error(
    `${name} not found on PATH (nor at ${fallbacks.join(', ')}): install it (Debian: ` +
      `apt-get install ${name === 'nats-server' ? 'nats-server' : 'redis-server'}) or set ${variable}`,
  );
}

async function waitForPort(port: number, timeoutMs: number, name: string): Promise<void> {
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
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
