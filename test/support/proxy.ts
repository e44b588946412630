import { connect, createServer, type Server, type Socket } from 'node:net';

/** One client connection through the proxy. */
export interface ProxiedConnection {
  /** Index of the upstream it went to. */
  upstream: number;
  /** The first line the client sent, e.g. `GET /v1/ws?token=… HTTP/1.1`. */
  requestLine: string;
  readonly client: Socket;
}

/**
 * A round-robin TCP load balancer on loopback, like the one in front of gateway replicas in
 * production: each new connection goes to the next upstream, skipping upstreams that refuse
 * (a stopped replica). HTTP and WebSocket pass through untouched; an upstream's close frame
 * reaches the client before the connection ends.
 */
export class RoundRobinProxy {
  readonly #server: Server;
  readonly #connections = new Set<ProxiedConnection>();
  #next = 0;
  #port = 0;

  private constructor(readonly upstreams: readonly number[]) {
    this.#server = createServer((client) => this.#handle(client));
  }

  static async start(upstreams: readonly number[]): Promise<RoundRobinProxy> {
    const proxy = new RoundRobinProxy(upstreams);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.#server.address();
    proxy.#port = typeof address === 'object' && address ? address.port : 0;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Open connections, optionally only those whose request line matches. */
  connections(requestLine?: RegExp): ProxiedConnection[] {
    return [...this.#connections].filter(
      (c) => c.upstream >= 0 && (!requestLine || requestLine.test(c.requestLine)),
    );
  }

  async close(): Promise<void> {
    for (const c of this.#connections) c.client.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(client: Socket): void {
    const record: ProxiedConnection = { upstream: -1, requestLine: '', client };
    this.#connections.add(record);
    const early: Buffer[] = [];
    let upstream: Socket | undefined;
    client.on('data', (chunk: Buffer) => {
      if (!record.requestLine) record.requestLine = chunk.toString('latin1').split('\r\n')[0] ?? '';
      if (upstream) upstream.write(chunk);
      else early.push(chunk);
    });
    client.on('end', () => upstream?.end());
    client.on('error', () => upstream?.destroy());
    client.on('close', () => {
      this.#connections.delete(record);
      upstream?.destroy();
    });

    const attempt = (tries: number) => {
      if (tries >= this.upstreams.length || client.destroyed) {
        client.destroy();
        return;
      }
      const index = this.#next++ % this.upstreams.length;
      const socket = connect(this.upstreams[index]!, '127.0.0.1');
      socket.once('connect', () => {
        upstream = socket;
        record.upstream = index;
        for (const chunk of early.splice(0)) socket.write(chunk);
        socket.pipe(client);
        socket.on('error', () => client.destroy());
        socket.on('close', () => client.end());
      });
      socket.once('error', () => {
        if (!upstream) attempt(tries + 1);
      });
    };
    attempt(0);
  }
}
