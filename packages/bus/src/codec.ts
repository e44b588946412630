import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@topicdesk/contracts';
import { BusInvalidPayloadError } from './errors';

export function encode<S extends DescMessage>(schema: S, data: MessageInitShape<S>): Uint8Array {
  try {
    return toBinary(schema, create(schema, data));
  } catch (error) {
    throw new BusInvalidPayloadError(`cannot encode ${schema.typeName}: ${message(error)}`, {
      cause: error,
    });
  }
}

export function decode<S extends DescMessage>(schema: S, bytes: Uint8Array): MessageShape<S> {
  try {
    return fromBinary(schema, bytes);
  } catch (error) {
    throw new BusInvalidPayloadError(`cannot decode ${schema.typeName}: ${message(error)}`, {
      cause: error,
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
