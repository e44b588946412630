import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Bot, GrammyError } from 'grammy';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from '../src/index';

export const TOKEN = '123456:TEST-token_abc';
export const BOT_ID = 123456;
export const AGENT = { id: 7001, first_name: 'Alice', username: 'alice_agent' };
export const VISITOR = { id: 424242, first_name: 'Visitor' };

export interface Harness {
  sandbox: RunningSandbox;
  bot: Bot;
  group: number;
}

/** A real sandbox on a free port and a grammY bot pointed at it. */
export async function startHarness(options: StartSandboxOptions = {}): Promise<Harness> {
  const sandbox = await startSandbox({ port: 0, ...options });
  const bot = new Bot(TOKEN, { client: { apiRoot: sandbox.url } });
  return { sandbox, bot, group: sandbox.state.supergroupId };
}

/** The GrammyError a call fails with. */
export async function failure(call: Promise<unknown>): Promise<GrammyError> {
  const error: unknown = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof GrammyError))
    throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: { update_id: number; [key: string]: unknown };
  at: number;
}

/** A webhook endpoint that answers each delivery with the next status of `statuses` (200 after). */
export async function startWebhookReceiver(statuses: number[] = []): Promise<{
  url: string;
  received: ReceivedDelivery[];
  close(): Promise<void>;
}> {
  const received: ReceivedDelivery[] = [];
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (raw += chunk));
    request.on('end', () => {
      received.push({
        headers: request.headers,
        body: JSON.parse(raw) as ReceivedDelivery['body'],
        at: Date.now(),
      });
      response.statusCode = statuses.shift() ?? 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('receiver has no port');
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A raw Bot API call, for what grammY would not send (bad tokens, form encoding). */
export async function rawCall(
  url: string,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
