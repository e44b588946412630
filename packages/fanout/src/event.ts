import { InvalidCoordinationArgumentError } from './errors';
import type { Logger } from './logger';
import type { FanoutEvent, FanoutListener } from './types';

/** One listener's membership; `active` turns false the moment it leaves. */
export interface Subscription {
  readonly listener: FanoutListener;
  active: boolean;
}

/** A snapshot, re-checked one by one: a listener may unsubscribe another while we deliver. */
export function* liveListeners(subscriptions: Iterable<Subscription>): Generator<FanoutListener> {
  for (const subscription of [...subscriptions]) {
    if (subscription.active) yield subscription.listener;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON text of an event; refuses what would not survive the trip through Redis. */
export function serializeEvent(event: FanoutEvent): string {
  if (!isPlainObject(event)) {
    throw new InvalidCoordinationArgumentError('a fanout event must be a JSON object');
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(event);
  } catch (err) {
    throw new InvalidCoordinationArgumentError('a fanout event must be JSON-serialisable', {
      cause: err,
    });
  }
  if (typeof text !== 'string') {
    throw new InvalidCoordinationArgumentError('a fanout event must be JSON-serialisable');
  }
  return text;
}

/** The event in a channel message, or undefined when it is not a JSON object. */
export function parseEvent(text: string): FanoutEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Malformed input is reported by the caller, which knows the channel.
    return undefined;
  }
  return isPlainObject(value) ? value : undefined;
}

/** Calls every listener; one that throws (or rejects) is logged and does not stop the others. */
export function deliverEvent(
  listeners: Iterable<FanoutListener>,
  event: FanoutEvent,
  conversationId: string,
  logger: Logger,
): void {
  for (const listener of listeners) {
    try {
      // Typed void, but an async function fits that type too; its rejection must not go unhandled.
      const result: unknown = listener(event);
      if (isPromiseLike(result)) {
        result.then(undefined, (err: unknown) => {
          logger.error({ err, conversationId }, 'fanout listener rejected');
        });
      }
    } catch (err) {
      logger.error({ err, conversationId }, 'fanout listener threw');
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
