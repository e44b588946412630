import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (testkit lives in packages/testkit/src). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** tsx's loader as a URL, so services start from any working directory. */
export const tsxLoader = pathToFileURL(
  join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
).href;

/** A free TCP port on loopback, right now. */
/** Ports this process has handed out: the OS may offer a just-closed port again at once. */
const handedOut = new Set<number>();

/**
 * A loopback port nobody listens on now, never one this process handed out before: two
 * services of one cluster given the same port would have one answer for the other (a gateway
 * URL answered by a scheduler's /healthz).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolvePort, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const found = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolvePort(found));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface ServiceProcessOptions {
  name: string;
  /** Script path relative to the repository root, e.g. services/gateway/src/main.ts. */
  script: string;
  env: Record<string, string | undefined>;
  /** Base URL whose /readyz (or /healthz) says the process is up. */
  url: string;
  readyPath?: string;
  cwd?: string;
  /** Inherit nothing from the test's environment but PATH and HOME. */
  cleanEnv?: boolean;
}

/**
 * One service as its own OS process (node + tsx), with its output in
 * test-results/logs/<name>.log, and kill/restart for failure tests.
 */
export class ServiceProcess {
  #child: ChildProcess | undefined;
  #log: WriteStream | undefined;
  #output = '';
  #exit: Promise<number | null> | undefined;

  constructor(readonly options: ServiceProcessOptions) {}

  get url(): string {
    return this.options.url;
  }
  get output(): string {
    return this.#output;
  }
  get running(): boolean {
    return (
      this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
    );
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const logDir = join(repoRoot, 'test-results', 'logs');
    mkdirSync(logDir, { recursive: true });
    this.#log = createWriteStream(join(logDir, `${this.options.name}.log`), { flags: 'a' });
    const base = this.options.cleanEnv
      ? { PATH: process.env['PATH'], HOME: process.env['HOME'] }
      : process.env;
    const child = spawn(
      process.execPath,
      ['--import', tsxLoader, join(repoRoot, this.options.script)],
      {
        cwd: this.options.cwd ?? repoRoot,
        env: { ...base, LOG_LEVEL: 'info', ...this.options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.#child = child;
    const collect = (chunk: Buffer) => {
      this.#log?.write(chunk);
      this.#output = (this.#output + chunk.toString('utf8')).slice(-200_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.#exit = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    await this.waitReady(timeoutMs);
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const path = this.options.readyPath ?? '/readyz';
    for (;;) {
      if (!this.running) {
        throw new Error(
          `${this.options.name} exited before it was ready:\n${this.#output.slice(-4000)}`,
        );
      }
      try {
        const response = await fetch(`${this.options.url}${path}`, {
          signal: AbortSignal.timeout(2000),
        });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(
          `${this.options.name} not ready after ${timeoutMs} ms:\n${this.#output.slice(-4000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGSTOP: the process freezes (a hung VM); its sockets stay open but nothing is answered. */
  pause(): void {
    if (this.running) this.#child?.kill('SIGSTOP');
  }

  /** SIGCONT after `pause()`. */
  unpause(): void {
    if (this.running) this.#child?.kill('SIGCONT');
  }

  /** The OS process id while running (for CPU and memory readings). */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  /** SIGKILL: no shutdown hooks, no drain — as if the machine died. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child?.kill('SIGKILL');
    await this.#exit;
  }

  /** SIGTERM and wait for a graceful exit (SIGKILL after the timeout). */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (!this.running) return this.#child?.exitCode ?? null;
    this.#child?.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), timeoutMs);
    const code = await this.#exit;
    clearTimeout(timer);
    this.#log?.end();
    return code ?? null;
  }
}
