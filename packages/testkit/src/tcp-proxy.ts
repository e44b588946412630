import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxyOptions {
  /** Where connections are forwarded, e.g. the shared Postgres on 127.0.0.1:5432. */
  target: { host: string; port: number };
  /** Loopback port to listen on; 0 (the default) picks a free one. */
  port?: number;
}

/**
 * A TCP proxy on loopback in front of a shared dependency, so a test can take that dependency
 * away from one service without stopping it for everyone else: `cut()` destroys every proxied
 * connection and refuses new ones (accepted and reset at once), `stall()` keeps accepting but
 * forwards nothing (a hung server), `restore()` forwards again.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #mode: 'forward' | 'cut' | 'stall' = 'forward';
  readonly #stalled = new Set<Socket>();

  private constructor(
    server: Server,
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {
    this.#server = server;
  }

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const proxy = new TcpProxy(server, port, options.target);
    server.on('connection', (client) => proxy.#accept(client));
    return proxy;
  }

  /** `host:port` of the proxy, to put into a URL in place of the target's. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get mode(): 'forward' | 'cut' | 'stall' {
    return this.#mode;
  }

  /** Connections currently forwarded. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** The target is gone: open connections are reset, new ones are reset on arrival. */
  cut(): void {
    this.#mode = 'cut';
    for (const [client, upstream] of this.#pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.#pairs.clear();
    for (const socket of this.#stalled) socket.resetAndDestroy();
    this.#stalled.clear();
  }

  /** The target hangs: open connections stop forwarding, new ones are accepted and ignored. */
  stall(): void {
    this.#mode = 'stall';
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /**
   * Forwards new connections again. Connections stalled by `stall()` are reset, as when a hung
   * server is restarted: clients notice, drop them and connect again.
   */
  restore(): void {
    this.#mode = 'forward';
    for (const [client, upstream] of this.#pairs) {
      if (!client.isPaused()) continue;
      client.resetAndDestroy();
      upstream.destroy();
    }
    for (const socket of this.#stalled) socket.resetAndDestroy();
    this.#stalled.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.#mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    if (this.#mode === 'stall') {
      this.#stalled.add(client);
      client.pause();
      client.once('close', () => this.#stalled.delete(client));
      return;
    }
    const upstream = createConnection(this.target);
    upstream.on('error', () => undefined);
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const drop = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', drop);
    upstream.once('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
