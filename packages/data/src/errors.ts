/** Errors of the data layer, with stable codes that callers branch on. */
export class DataError extends Error {
  override readonly name: string = 'DataError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ConversationNotFoundError extends DataError {
  override readonly name = 'ConversationNotFoundError';
  constructor(conversationId: string) {
    super('DATA_CONVERSATION_NOT_FOUND', `conversation ${conversationId} does not exist`);
  }
}

/** A message looked up by id in a tenant that does not hold it (or no longer at all). */
export class MessageNotFoundError extends DataError {
  override readonly name = 'MessageNotFoundError';
  constructor(messageId: number) {
    super('DATA_MESSAGE_NOT_FOUND', `message ${messageId} does not exist`);
  }
}

export class ConversationClosedError extends DataError {
  override readonly name = 'ConversationClosedError';
  constructor(conversationId: string) {
    super('DATA_CONVERSATION_CLOSED', `conversation ${conversationId} is closed`);
  }
}

export class SchemaOutOfDateError extends DataError {
  override readonly name = 'SchemaOutOfDateError';
  constructor(pending: readonly string[]) {
    super('DATA_SCHEMA_OUT_OF_DATE', `migrations not applied: ${pending.join(', ')}`);
  }
}

export class MigrationFailedError extends DataError {
  override readonly name = 'MigrationFailedError';
  constructor(migration: string | undefined, cause: unknown) {
    super('DATA_MIGRATION_FAILED', `migration ${migration ?? '(unknown)'} failed`, { cause });
  }
}
