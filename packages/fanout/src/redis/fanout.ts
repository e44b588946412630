import type { Redis } from 'ioredis';
import { CoordinationError, CoordinationErrorCode } from '../errors';
import {
  deliverEvent,
  liveListeners,
  parseEvent,
  serializeEvent,
  type Subscription,
} from '../event';
import { Gate } from '../gate';
import type { CoordinationKeys } from '../keys';
import type { Logger } from '../logger';
import type { Fanout, FanoutEvent, FanoutListener, Health } from '../types';
import { validateKey } from '../validate';
import { closeRedis, connectionHealth, redisCall } from './connection';

interface Channel {
  readonly name: string;
  readonly conversationId: string;
  readonly subscriptions: Set<Subscription>;
  /** Whether the subscriber connection currently holds a subscription to this channel. */
  active: boolean;
  /** Serialises this channel's SUBSCRIBE/UNSUBSCRIBE, so they reach Redis in the order decided. */
  queue: Promise<void>;
}

export interface RedisFanoutOptions {
  /** Runs PUBLISH; may be shared with other commands. */
  publisher: Redis;
  /** Used for nothing but (UN)SUBSCRIBE; must not have ioredis' autoResubscribe on. */
  subscriber: Redis;
  keys: CoordinationKeys;
  logger: Logger;
  /** Whether close() also closes both connections. */
  ownsConnections: boolean;
}

/**
 * One Redis channel per conversation; the subscriber connection holds a channel while at least
 * one local listener wants it. The subscriber connection has ioredis' own resubscription turned
 * off: after a reconnect this class subscribes every wanted channel again and then calls the
 * onRecovered listeners, so they know the subscriptions are live before they re-read history.
 */
export class RedisFanout implements Fanout {
  private readonly channels = new Map<string, Channel>();
  private readonly recoveredListeners = new Set<() => void>();
  private readonly gate = new Gate();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly keys: CoordinationKeys;
  private readonly logger: Logger;
  private readonly ownsConnections: boolean;
  private reconnects = 0;

  constructor(options: RedisFanoutOptions) {
    this.publisher = options.publisher;
    this.subscriber = options.subscriber;
    this.keys = options.keys;
    this.logger = options.logger;
    this.ownsConnections = options.ownsConnections;
    this.subscriber.on('message', this.onMessage);
    // The subscriber is connected already, so every 'ready' from now on is a reconnect.
    this.subscriber.on('ready', this.onReconnect);
  }

  async publish(conversationId: string, event: FanoutEvent): Promise<void> {
    this.gate.assertOpen();
    validateKey('conversationId', conversationId);
    const text = serializeEvent(event);
    const channel = this.keys.conversationChannel(conversationId);
    await redisCall(this.gate, 'PUBLISH', () => this.publisher.publish(channel, text));
  }

  async subscribe(conversationId: string, listener: FanoutListener): Promise<() => Promise<void>> {
    this.gate.assertOpen();
    validateKey('conversationId', conversationId);
    const name = this.keys.conversationChannel(conversationId);
    let channel = this.channels.get(name);
    if (channel === undefined) {
      channel = {
        name,
        conversationId,
        subscriptions: new Set(),
        active: false,
        queue: Promise.resolve(),
      };
      this.channels.set(name, channel);
    }
    const subscription: Subscription = { listener, active: true };
    channel.subscriptions.add(subscription);
    try {
      await this.reconcile(channel);
    } catch (err) {
      subscription.active = false;
      channel.subscriptions.delete(subscription);
      this.forgetIfIdle(channel);
      throw err;
    }
    const joined = channel;
    let leaving: Promise<void> | undefined;
    return () => (leaving ??= this.leave(joined, subscription));
  }

  onRecovered(listener: () => void): () => void {
    this.recoveredListeners.add(listener);
    return () => {
      this.recoveredListeners.delete(listener);
    };
  }

  health(): Health {
    if (this.gate.closed) return { ok: false, detail: 'closed' };
    return connectionHealth([
      ['publisher', this.publisher],
      ['subscriber', this.subscriber],
    ]);
  }

  async close(): Promise<void> {
    if (this.gate.closed) return;
    this.gate.closed = true;
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReconnect);
    const hadChannels = this.channels.size > 0;
    for (const channel of this.channels.values()) {
      for (const subscription of channel.subscriptions) subscription.active = false;
      channel.subscriptions.clear();
    }
    this.channels.clear();
    this.recoveredListeners.clear();
    if (this.ownsConnections) {
      await Promise.all([
        closeRedis(this.publisher, this.logger),
        closeRedis(this.subscriber, this.logger),
      ]);
    } else if (hadChannels && this.subscriber.status === 'ready') {
      // The owner keeps the connection open; stop Redis sending us what nobody listens to.
      await this.subscriber.unsubscribe().catch((err: unknown) => {
        this.logger.warn({ err }, 'fanout could not unsubscribe its channels on close');
      });
    }
  }

  private readonly onMessage = (channelName: string, message: string): void => {
    const channel = this.channels.get(channelName);
    // Late messages for a channel being left are expected; nobody wants them.
    if (channel === undefined || channel.subscriptions.size === 0) return;
    const event = parseEvent(message);
    if (event === undefined) {
      this.logger.warn(
        { channel: channelName, bytes: Buffer.byteLength(message) },
        'dropped a fanout message that is not a JSON object',
      );
      return;
    }
    deliverEvent(liveListeners(channel.subscriptions), event, channel.conversationId, this.logger);
  };

  private readonly onReconnect = (): void => {
    if (this.gate.closed) return;
    const attempt = ++this.reconnects;
    // A new connection holds no subscriptions. Operations still in flight were queued by ioredis
    // and run on the new connection, so they set `active` right when they finish.
    for (const channel of this.channels.values()) channel.active = false;
    void this.resubscribe(attempt);
  };

  private async resubscribe(attempt: number): Promise<void> {
    const channels = [...this.channels.values()];
    const results = await Promise.allSettled(channels.map((channel) => this.reconcile(channel)));
    if (this.gate.closed || attempt !== this.reconnects) return;
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length > 0) {
      this.logger.warn(
        {
          failed: failed.length,
          channels: channels.length,
          err: (failed[0] as PromiseRejectedResult).reason as unknown,
        },
        'fanout could not resubscribe after reconnect; retrying on the next reconnect',
      );
      return;
    }
    this.logger.info({ channels: channels.length }, 'fanout resubscribed after reconnect');
    for (const listener of [...this.recoveredListeners]) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'fanout recovery listener threw');
      }
    }
  }

  private async leave(channel: Channel, subscription: Subscription): Promise<void> {
    subscription.active = false;
    channel.subscriptions.delete(subscription);
    try {
      await this.reconcile(channel);
    } catch (err) {
      if (CoordinationError.is(err, CoordinationErrorCode.Closed)) return;
      // Harmless meanwhile: messages for a channel without listeners are dropped. The channel is
      // reconciled again on the next subscribe or reconnect.
      this.logger.warn(
        { err, conversationId: channel.conversationId },
        'fanout unsubscribe failed; the channel is dropped on the next reconnect',
      );
    }
  }

  /** Brings the subscription in Redis in line with the listeners, after earlier operations. */
  private reconcile(channel: Channel): Promise<void> {
    const run = channel.queue.then(() => this.sync(channel));
    // Keep the chain going; `run` itself carries the error to whoever asked for this operation.
    channel.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async sync(channel: Channel): Promise<void> {
    try {
      if (channel.subscriptions.size > 0 && !channel.active) {
        await redisCall(this.gate, 'SUBSCRIBE', () => this.subscriber.subscribe(channel.name));
        channel.active = true;
      } else if (channel.subscriptions.size === 0 && channel.active) {
        await redisCall(this.gate, 'UNSUBSCRIBE', () => this.subscriber.unsubscribe(channel.name));
        channel.active = false;
      }
    } finally {
      this.forgetIfIdle(channel);
    }
  }

  private forgetIfIdle(channel: Channel): void {
    if (
      channel.subscriptions.size === 0 &&
      !channel.active &&
      this.channels.get(channel.name) === channel
    ) {
      this.channels.delete(channel.name);
    }
  }
}
