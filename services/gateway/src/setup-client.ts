import { randomUUID } from 'node:crypto';
import { topics, type Bus, type SignalSubscription } from '@topicdesk/bus';
import { SetupAction, type SetupReply } from '@topicdesk/contracts';
import { DEFAULT_TENANT_ID } from '@topicdesk/core';
import { ErrorCode, GatewayError } from './errors';

export { SetupAction };

/**
 * Asks the bridge for the setup checks: it holds the bot tokens, so only it asks Telegram. A
 * request goes out as a signal to the bridges' queue group; every gateway replica hears the
 * replies and the one waiting for that request id takes it. No answer within the timeout (no
 * bridge running, NATS away) is SETUP_BRIDGE_UNAVAILABLE.
 */
export class BridgeSetup {
  readonly #waiting = new Map<string, (reply: SetupReply) => void>();
  #subscription: SignalSubscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly timeoutMs: number,
  ) {}

  async ask(action: SetupAction): Promise<SetupReply> {
    this.#subscription ??= this.bus.onSignal(topics.setupReply, (reply) => {
      this.#waiting.get(reply.requestId)?.(reply);
    });
    await this.#subscription.ready;
    const requestId = randomUUID();
    try {
      return await new Promise<SetupReply>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new GatewayError(
                ErrorCode.SETUP_BRIDGE_UNAVAILABLE,
                `the telegram bridge did not answer within ${this.timeoutMs} ms; is it running?`,
              ),
            ),
          this.timeoutMs,
        );
        this.#waiting.set(requestId, (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        this.bus.signal(topics.setupRequest, { requestId, tenantId: DEFAULT_TENANT_ID, action });
      });
    } finally {
      this.#waiting.delete(requestId);
    }
  }

  close(): void {
    this.#subscription?.stop();
  }
}
