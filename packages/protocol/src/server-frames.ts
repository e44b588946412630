import { z } from 'zod';
import { MAX_SEQ } from './text-rules';

/**
 * The frames the gateway sends on `GET /v1/ws` (JSON text, one object per frame), and the
 * events behind them. Built by the gateway and core, typed by these schemas; the schemas are
 * strict, so a test that parses a frame also catches a field that should not be there.
 */

/** A message's position in its conversation: per conversation, gap-free, from 1. */
export const seqSchema = z.number().int().min(1).max(MAX_SEQ);

export const messageKindSchema = z.enum(['visitor', 'agent', 'system']);
export type MessageKind = z.infer<typeof messageKindSchema>;

export const conversationStatusSchema = z.enum(['open', 'closed']);
export type ConversationStatus = z.infer<typeof conversationStatusSchema>;

/** A moment as ISO 8601 in UTC (`2025-05-06T07:08:09.123Z`). */
const instant = z.iso.datetime();

/**
 * A checked file a message carries (docs/contract.md, "Attachments"): `type` and `size` are what
 * the checks found in the bytes, `width`/`height` an image's, `url` a short-lived signed GET link
 * (fetch the history again for a fresh one after `urlExpiresAt`).
 */
export const attachmentSchema = z.strictObject({
  id: z.string().uuid(),
  name: z.string(),
  type: z.string(),
  size: z.number().int().min(0),
  width: z.number().int().min(1).optional(),
  height: z.number().int().min(1).optional(),
  url: z.string().url(),
  urlExpiresAt: instant,
});
export type Attachment = z.infer<typeof attachmentSchema>;

/** A stored message as the visitor sees it: an item of the history, the body of a `message` frame. */
export const historyMessageSchema = z.strictObject({
  seq: seqSchema,
  kind: messageKindSchema,
  text: z.string(),
  /** The agent's display name (or a system message's author); never a visitor's. */
  author: z.string().optional(),
  at: instant,
  editedAt: instant.optional(),
  /** Retracted by an agent: the text is gone. */
  deleted: z.literal(true).optional(),
  /** Files it carries (absent when none); `text` is then their caption and may be empty. */
  attachments: z.array(attachmentSchema).optional(),
});
export type HistoryMessage = z.infer<typeof historyMessageSchema>;

/** Where the conversation stands: the first frame of every socket, and each change after. */
export const statusFrameSchema = z.strictObject({
  type: z.literal('status'),
  status: conversationStatusSchema,
});

/** To the socket that sent a `message` frame: it is stored as `seq` (instead of an echo). */
export const ackFrameSchema = z.strictObject({
  type: z.literal('ack'),
  clientId: z.string(),
  seq: seqSchema,
});

/** A message the socket does not hold yet (another tab's, an agent's, a system message). */
export const messageFrameSchema = historyMessageSchema.extend({
  type: z.literal('message'),
  /** Shown as a banner too (a system message whose template has the WS-banner flag). */
  banner: z.literal(true).optional(),
});

/** An agent edited or retracted (`deleted`, `text` empty) a message. */
export const editFrameSchema = z.strictObject({
  type: z.literal('edit'),
  seq: seqSchema,
  text: z.string(),
  editedAt: instant,
  deleted: z.literal(true).optional(),
});

/** A system banner that is not kept in the history (its template does not persist). */
export const systemFrameSchema = z.strictObject({
  type: z.literal('system'),
  key: z.string(),
  text: z.string(),
  banner: z.literal(true),
});

/** Where a visitor message stands toward the agents; `failed` carries a code (docs/errors.md). */
export const receiptFrameSchema = z.strictObject({
  type: z.literal('receipt'),
  seq: seqSchema,
  state: z.enum(['delivered', 'retrying', 'failed']),
  code: z.string().optional(),
});

/** A frame was refused or failed; the socket stays open. `code` is stable (docs/errors.md). */
export const errorFrameSchema = z.strictObject({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  /** The `message` frame it is about. */
  clientId: z.string().optional(),
  /** RATE_LIMITED by the hourly quota: when to send again. */
  retryAfterMs: z.number().int().min(0).optional(),
  /** TENANT_QUOTA_EXCEEDED: which of the site's plan limits (`messagesPerHour`, `concurrentSockets`). */
  limit: z.string().optional(),
  /** INVALID_REQUEST for a frame that does not match: what did not, by field. */
  issues: z.array(z.string()).optional(),
  /** INVALID_REQUEST for a resume beyond the conversation's last message. */
  afterSeq: z.number().int().optional(),
  /** INVALID_REQUEST for a read beyond the conversation's last message. */
  seq: z.number().int().optional(),
  lastSeq: z.number().int().min(0).optional(),
});

export const serverFrameSchema = z.discriminatedUnion('type', [
  statusFrameSchema,
  ackFrameSchema,
  messageFrameSchema,
  editFrameSchema,
  systemFrameSchema,
  receiptFrameSchema,
  errorFrameSchema,
]);
export type StatusFrame = z.infer<typeof statusFrameSchema>;
export type AckFrame = z.infer<typeof ackFrameSchema>;
export type MessageFrame = z.infer<typeof messageFrameSchema>;
export type EditFrame = z.infer<typeof editFrameSchema>;
export type SystemFrame = z.infer<typeof systemFrameSchema>;
export type ReceiptFrame = z.infer<typeof receiptFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;

/**
 * What travels on a conversation's fanout channel (Redis pub/sub, through the outbox): the
 * server frames every socket of the conversation gets, a `message` marked with `origin`, the
 * socket that sent it, which gets an `ack` instead and never sees `origin` (nor `files`).
 */
export const conversationEventSchema = z.discriminatedUnion('type', [
  messageFrameSchema.extend({
    origin: z.string().optional(),
    /**
     * The message carries this many files whose links the publisher could not sign (the bridge
     * stores agents' files; only the gateway signs): each gateway reads the message from the
     * log, with fresh links, instead of sending the event as it is. Never sent to a socket.
     */
    files: z.number().int().min(1).optional(),
  }),
  editFrameSchema,
  systemFrameSchema,
  receiptFrameSchema,
  statusFrameSchema,
]);
export type ConversationEvent = z.infer<typeof conversationEventSchema>;
