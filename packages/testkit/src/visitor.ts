import WebSocket from 'ws';
import { waitFor } from './waiters';

export type Frame = Record<string, unknown> & { type: string };

export interface StartedConversation {
  conversationId: string;
  ticket: string;
  token: string;
  expiresAt: string;
}

/** POST /v1/conversations against a gateway. */
export async function startConversation(
  gatewayUrl: string,
  body: Record<string, unknown> = {},
): Promise<StartedConversation> {
  const response = await fetch(`${gatewayUrl}/v1/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201)
    throw new Error(`start conversation: ${response.status} ${await response.text()}`);
  return (await response.json()) as StartedConversation;
}

/** A visitor's WebSocket, recording every frame it receives. */
export class VisitorClient {
  readonly frames: Frame[] = [];
  readonly #waiters = new Set<() => void>();
  closeCode: number | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(
        JSON.parse(
          Buffer.isBuffer(data)
            ? data.toString('utf8')
            : Buffer.from(data as ArrayBuffer).toString('utf8'),
        ) as Frame,
      );
      for (const wake of this.#waiters) wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      for (const wake of this.#waiters) wake();
    });
  }

  static connect(
    gatewayUrl: string,
    token: string,
    options: { viaQuery?: boolean } = {},
  ): Promise<VisitorClient> {
    const url = `${gatewayUrl.replace(/^http/, 'ws')}/v1/ws${options.viaQuery ? `?token=${encodeURIComponent(token)}` : ''}`;
    const socket = new WebSocket(
      url,
      options.viaQuery ? {} : { headers: { authorization: `Bearer ${token}` } },
    );
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new VisitorClient(socket)));
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  send(frame: Record<string, unknown> | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  sendMessage(clientId: string, text: string): void {
    this.send({ type: 'message', clientId, text });
  }

  of(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Resolves with the first frame (from now or already received) that matches. */
  waitFor<T = Frame>(
    predicate: (frame: Frame) => boolean,
    timeoutMs = 10_000,
    description = 'frame',
  ): Promise<T> {
    return this.waitUntil(
      () => this.frames.find(predicate) as T | undefined,
      timeoutMs,
      description,
    );
  }

  /** Resolves once `check` returns something; re-checked on every frame and every 100 ms. */
  waitUntil<T>(
    check: () => T | undefined | false,
    timeoutMs = 10_000,
    description = 'condition',
  ): Promise<T> {
    return waitFor(
      this.#waiters,
      check,
      timeoutMs,
      () =>
        `timed out waiting for ${description}; frames: ${JSON.stringify(this.frames).slice(-2000)}`,
    );
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
