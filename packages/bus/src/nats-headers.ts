import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { HeaderRecord } from './tracing';

// Message headers (trace context, msg ids) as plain records on our side, MsgHdrs on the wire.

export function toMsgHdrs(record: HeaderRecord): MsgHdrs {
  const msgHdrs = natsHeaders();
  for (const [key, value] of Object.entries(record)) msgHdrs.set(key, value);
  return msgHdrs;
}

export function toRecord(msgHdrs: MsgHdrs | undefined): HeaderRecord {
  const record: HeaderRecord = {};
  if (!msgHdrs) return record;
  for (const key of msgHdrs.keys()) record[key] = msgHdrs.get(key);
  return record;
}
