import { randomUUID } from 'node:crypto';
import { topics, type Bus, type SignalSubscription, type SignalTopic } from '@topicdesk/bus';
import {
  SetupAction,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  type MiniAppVerifyReply,
  type SetupReply,
} from '@topicdesk/contracts';
import { ErrorCode, GatewayError } from './errors';

export { SetupAction };

/**
 * Asks the bridges something only they can answer (they hold the bot tokens): a request goes
 * out as a signal to the bridges' queue group; every gateway replica hears the replies and the
 * one waiting for that request id takes it. No answer within the timeout (no bridge running,
 * NATS away) is `unavailable`, a GatewayError.
 */
class BridgeRequests<Request extends DescMessage, Reply extends DescMessage> {
  readonly #waiting = new Map<string, (reply: MessageShape<Reply>) => void>();
  #subscription: SignalSubscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly request: SignalTopic<Request>,
    private readonly reply: SignalTopic<Reply>,
    private readonly timeoutMs: number,
    private readonly unavailable: () => GatewayError,
  ) {}

  async ask(
    request: Omit<MessageInitShape<Request>, 'requestId'>,
  ): Promise<MessageShape<Reply> & { requestId: string }> {
    this.#subscription ??= this.bus.onSignal(this.reply, (reply) => {
      const { requestId } = reply as MessageShape<Reply> & { requestId: string };
      this.#waiting.get(requestId)?.(reply);
    });
    await this.#subscription.ready;
    const requestId = randomUUID();
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(this.unavailable()), this.timeoutMs);
        this.#waiting.set(requestId, (reply) => {
          clearTimeout(timer);
          resolve(reply as MessageShape<Reply> & { requestId: string });
        });
        // Both requests carry `request_id` (proto/topicdesk/v1): the generic type cannot say so.
        const message = { ...request, requestId } as unknown as MessageInitShape<Request>;
        this.bus.signal(this.request, message);
      });
    } finally {
      this.#waiting.delete(requestId);
    }
  }

  close(): void {
    this.#subscription?.stop();
  }
}

/** The console's setup checks, run by a bridge (it asks Telegram with the bots' tokens). */
export class BridgeSetup {
  readonly #requests: BridgeRequests<
    (typeof topics.setupRequest)['schema'],
    (typeof topics.setupReply)['schema']
  >;

  constructor(bus: Bus, timeoutMs: number) {
    this.#requests = new BridgeRequests(
      bus,
      topics.setupRequest,
      topics.setupReply,
      timeoutMs,
      () =>
        new GatewayError(
          ErrorCode.SETUP_BRIDGE_UNAVAILABLE,
          `the telegram bridge did not answer within ${timeoutMs} ms; is it running?`,
        ),
    );
  }

  /** Runs `action` with the tenant's bots (the bridges serving that tenant answer). */
  ask(tenantId: string, action: SetupAction): Promise<SetupReply> {
    return this.#requests.ask({ tenantId, action });
  }

  close(): void {
    this.#requests.close();
  }
}

/** A Mini App's initData, verified by a bridge: only it holds the bot token that signs it. */
export class BridgeMiniApp {
  readonly #requests: BridgeRequests<
    (typeof topics.miniAppVerifyRequest)['schema'],
    (typeof topics.miniAppVerifyReply)['schema']
  >;

  constructor(bus: Bus, timeoutMs: number) {
    this.#requests = new BridgeRequests(
      bus,
      topics.miniAppVerifyRequest,
      topics.miniAppVerifyReply,
      timeoutMs,
      () =>
        new GatewayError(
          ErrorCode.MINI_APP_UNAVAILABLE,
          `the telegram bridge did not answer within ${timeoutMs} ms; sign in with a link meanwhile`,
        ),
    );
  }

  /**
   * Verified by the tenant's bot. The Mini App's initData names no tenant: the console route
   * asks for the default tenant (a Mini App of another tenant's bot is not served yet).
   */
  verify(tenantId: string, initData: string): Promise<MiniAppVerifyReply> {
    return this.#requests.ask({ tenantId, initData });
  }

  close(): void {
    this.#requests.close();
  }
}
