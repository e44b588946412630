import { context } from '@opentelemetry/api';
import type { DescMessage, MessageShape } from '@topicdesk/contracts';
import type { BusLogger } from './bus';
import { decode } from './codec';
import type { SignalTopic } from './topics';
import { extractTraceContext, type HeaderRecord } from './tracing';

/**
 * Hands one received signal to its handler inside the sender's trace context. Signals are
 * ephemeral: a payload that does not decode, or a handler that fails, is logged and dropped.
 */
export function dispatchSignal<S extends DescMessage>(
  topic: SignalTopic<S>,
  handler: (data: MessageShape<S>) => void | Promise<void>,
  payload: Uint8Array,
  headers: HeaderRecord,
  logger: BusLogger,
): void {
  let data: MessageShape<S>;
  try {
    data = decode(topic.schema, payload);
  } catch (error) {
    logger.warn({ subject: topic.subject, err: error }, 'signal dropped: invalid payload');
    return;
  }
  const failed = (error: unknown): void =>
    logger.error({ subject: topic.subject, err: error }, 'signal handler failed');
  try {
    const result = context.with(extractTraceContext(headers), () => handler(data));
    if (result instanceof Promise) result.catch(failed);
  } catch (error) {
    failed(error);
  }
}
