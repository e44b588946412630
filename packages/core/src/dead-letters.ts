import {
  topics,
  type Bus,
  type DeadLetter,
  type DurableTopic,
  type TopicName,
} from '@topicdesk/bus';
import { fromBinary } from '@topicdesk/contracts';
import { DeadLetterRepository, type DB, type DeadLetterRow, type Kysely } from '@topicdesk/data';
import type { Logger } from '@topicdesk/telemetry';

/**
 * Keeps a message a consumer gave up on (bounded retries: see the bridge's consumers), so an
 * operator can see it and publish it again once the cause is fixed. Never throws: a record that
 * cannot be written is logged with everything but the payload.
 */
export async function storeDeadLetter(
  db: Kysely<DB>,
  logger: Logger,
  input: {
    tenantId: string;
    topic: TopicName;
    deadLetter: DeadLetter;
    conversationId?: string | undefined;
  },
): Promise<void> {
  const { deadLetter } = input;
  const fields = {
    topic: input.topic,
    durable: deadLetter.durable,
    reason: deadLetter.reason,
    deliveries: deadLetter.deliveryCount,
    errorCode: deadLetter.error.code,
    conversationId: input.conversationId,
  };
  try {
    const row = await new DeadLetterRepository(db).add({
      tenant_id: input.tenantId,
      topic: input.topic,
      durable: deadLetter.durable,
      reason: deadLetter.reason,
      deliveries: deadLetter.deliveryCount,
      error_code: deadLetter.error.code,
      error: deadLetter.error.message.slice(0, 2000),
      payload: Buffer.from(deadLetter.payload).toString('base64'),
      conversation_id: input.conversationId ?? null,
    });
    logger.error(
      { ...fields, deadLetterId: row.id },
      'gave up on a bus message; kept as a dead letter (GET /v1/admin/dead-letters to replay)',
    );
  } catch (error) {
    logger.error(
      { ...fields, err: error },
      'gave up on a bus message; the dead letter was not stored',
    );
  }
}

/** Thrown when a dead letter names a topic this version no longer has. */
export class DeadLetterTopicError extends Error {
  override readonly name = 'DeadLetterTopicError';
}

/**
 * Publishes a dead letter's payload again on its topic, with a new message id per replay so the
 * bus's dedupe window does not swallow it (the admin service records the replay).
 */
export async function publishDeadLetter(bus: Bus, row: DeadLetterRow): Promise<void> {
  const topic = (topics as Record<string, DurableTopic | { kind: 'signal' }>)[row.topic];
  if (!topic || topic.kind !== 'durable')
    throw new DeadLetterTopicError(`dead letter ${row.id} names an unknown topic ${row.topic}`);
  const message = fromBinary(topic.schema, Buffer.from(row.payload, 'base64'));
  await bus.publish(topic, message, { msgId: `replay-${row.id}-${row.replays + 1}` });
}
