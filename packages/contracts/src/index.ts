/**
 * @topicdesk/contracts: every payload that crosses NATS, generated from proto/ by protobuf-es,
 * plus the few protobuf-es helpers the other packages use, so they import only this package.
 */

// Schemas (`ConversationSyncSchema`, ...), message types and enums, one module per .proto file.
export * from './gen/index';

export {
  create,
  clone,
  equals,
  isMessage,
  toBinary,
  fromBinary,
  toJson,
  fromJson,
  toJsonString,
  fromJsonString,
} from '@bufbuild/protobuf';
export type {
  DescEnum,
  DescMessage,
  JsonValue,
  Message,
  MessageInitShape,
  MessageShape,
  MessageJsonType,
} from '@bufbuild/protobuf';

// google.protobuf.Timestamp and its conversions (TelegramUpdate.received_at).
export {
  TimestampSchema,
  timestampDate,
  timestampFromDate,
  timestampFromMs,
  timestampMs,
  timestampNow,
} from '@bufbuild/protobuf/wkt';
export type { Timestamp } from '@bufbuild/protobuf/wkt';
