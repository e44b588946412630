import Fastify, { type FastifyInstance } from 'fastify';
import type { Limits } from './limits';
import { sandboxPlugin } from './plugin';
import { SandboxState } from './state';

// Starts a standalone sandbox: its own fastify server with the plugin at the root, so
// `url` is directly the value for TELEGRAM_API_ROOT (grammY's `apiRoot`).

export interface StartSandboxOptions {
  /** Interface to listen on; 127.0.0.1 by default. A named host is also allowed as Host. */
  host?: string;
  /** More Host names to answer to besides loopback ones (and `host`); others get 403. */
  allowedHosts?: readonly string[];
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** A JSON file that keeps the state across restarts. */
  statePath?: string;
  /** The id of the forum supergroup; -1001000000001 by default. */
  supergroupId?: number;
  limits?: Partial<Limits>;
  /** Log HTTP requests (pino, as fastify's logger); off by default. */
  logger?: boolean;
}

export interface RunningSandbox {
  /** e.g. http://127.0.0.1:8081, without a trailing slash. */
  url: string;
  state: SandboxState;
  app: FastifyInstance;
  /** Stops listening, ends long polls and webhook deliveries, saves the state. */
  close(): Promise<void>;
}

export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const state = new SandboxState({
    ...(options.statePath === undefined ? {} : { statePath: options.statePath }),
    ...(options.supergroupId === undefined ? {} : { supergroupId: options.supergroupId }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  const app = Fastify({ logger: options.logger ?? false });
  const host = options.host ?? '127.0.0.1';
  await app.register(sandboxPlugin, {
    state,
    allowedHosts: [host, ...(options.allowedHosts ?? [])],
  });
  // Long polls would hold the server open for up to 50 s; release them first.
  app.addHook('preClose', async () => {
    await state.close();
  });
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    throw new Error(`the sandbox is not listening on a TCP port (${String(address)})`);
  }
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    state,
    app,
    close: () => {
      closing ??= app.close().then(() => state.close());
      return closing;
    },
  };
}
