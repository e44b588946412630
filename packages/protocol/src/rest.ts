import { z } from 'zod';
import { emailField, localeField, nameField, pageUrlField, titleField } from './fields';
import { conversationStatusSchema, historyMessageSchema } from './server-frames';
import {
  charCount,
  hasControlCharacters,
  isBlank,
  MAX_NAME_CHARS,
  MAX_PAGE_TITLE_CHARS,
  MAX_PAGE_URL_CHARS,
  MAX_RATING_COMMENT_CHARS,
  MAX_ATTACHMENT_NAME_CHARS,
  MAX_SEQ,
} from './text-rules';

/**
 * The visitor REST API (`/v1/conversations…`): what the widget sends, parsed by the gateway with
 * these schemas (a mismatch is `400 INVALID_REQUEST` listing the issues), and what it answers.
 * Types named `…Body` are what the gateway has after parsing (names trimmed, titles cut);
 * `…Request` the JSON a client sends.
 */

/** A site key is `pk_` and 32 base64url characters; room to spare, no more. */
export const MAX_SITE_KEY_CHARS = 128;

/** `:id` of `/v1/conversations/:id/…`. */
export const conversationParamsSchema = z.object({ id: z.string().uuid() });
export type ConversationParams = z.infer<typeof conversationParamsSchema>;

/**
 * `POST /v1/conversations`: who and where, all optional; unknown fields are refused. `email`
 * (the pre-chat form's) is taken only where the operator enabled it (the gateway's
 * `PRECHAT_FIELDS`); elsewhere it is refused with INVALID_REQUEST naming that setting.
 * `siteKey` (the snippet's `data-site-key`) names the site's tenant; without it, the default one.
 */
export const startConversationSchema = z
  .object({
    siteKey: z
      .string()
      .min(1)
      .max(MAX_SITE_KEY_CHARS)
      .regex(/^[A-Za-z0-9_-]+$/, 'a site key (pk_…)')
      .optional(),
    name: nameField(MAX_NAME_CHARS).optional(),
    email: emailField.optional(),
    locale: localeField.optional(),
    page: z
      .object({
        url: pageUrlField(MAX_PAGE_URL_CHARS),
        title: titleField(MAX_PAGE_TITLE_CHARS).optional(),
      })
      .optional(),
  })
  .strict();
export type StartConversationRequest = z.input<typeof startConversationSchema>;
export type StartConversationBody = z.output<typeof startConversationSchema>;

/** `GET /v1/conversations/:id/messages?after=SEQ&limit=N` (query strings read as integers). */
export const historyQuerySchema = z.object({
  after: z.coerce.number().int().min(0).max(MAX_SEQ).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

/** `POST /v1/conversations/:id/profile`: the name the visitor goes by; null (or blank) for none. */
export const profileSchema = z
  .object({
    name: nameField(MAX_NAME_CHARS, 0)
      .nullable()
      .transform((v) => (v ? v : null)),
  })
  .strict();
export type ProfileRequest = z.input<typeof profileSchema>;
export type ProfileBody = z.output<typeof profileSchema>;

/**
 * `POST /v1/conversations/:id/attachments`: the file the visitor is about to upload, as the
 * browser describes it. Checked against the limits before any byte moves; the bytes are
 * checked again (real type, size, scan) when a message references the attachment.
 */
export const attachmentRequestSchema = z
  .object({
    name: nameField(MAX_ATTACHMENT_NAME_CHARS),
    type: z
      .string()
      .max(255)
      .regex(/^[\w.+-]+\/[\w.+-]+$/, 'a MIME type such as image/png')
      .transform((v) => v.toLowerCase()),
    size: z.number().int().min(1),
  })
  .strict();
export type AttachmentRequest = z.input<typeof attachmentRequestSchema>;
export type AttachmentRequestBody = z.output<typeof attachmentRequestSchema>;

/**
 * `201` of `POST /v1/conversations/:id/attachments`: send the file's bytes as the body of
 * `method` to `uploadUrl` with exactly `headers`, before `expiresAt`; then reference `id` in a
 * `message` frame's `attachments`.
 */
export const uploadTicketSchema = z.strictObject({
  id: z.string().uuid(),
  uploadUrl: z.string().url(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.iso.datetime(),
});
export type UploadTicket = z.infer<typeof uploadTicketSchema>;

/** A conversation token and when it expires: `POST /v1/conversations/:id/token` answers this. */
export const issuedTokenSchema = z.strictObject({
  token: z.string(),
  expiresAt: z.iso.datetime(),
});
export type IssuedToken = z.infer<typeof issuedTokenSchema>;

/** `201` of `POST /v1/conversations`; `ticket` is the visitor's public id (`SUPP-…`). */
export const conversationStartedSchema = issuedTokenSchema.extend({
  conversationId: z.string().uuid(),
  ticket: z.string(),
});
export type ConversationStarted = z.infer<typeof conversationStartedSchema>;

/** `GET /v1/conversations/:id/messages`: one page of the history, oldest first. */
export const historyPageSchema = z.strictObject({
  status: conversationStatusSchema,
  ticket: z.string(),
  messages: z.array(historyMessageSchema),
});
export type HistoryPage = z.infer<typeof historyPageSchema>;

/**
 * `POST /v1/conversations/:id/rating` (CSAT): the visitor's rating of their closed conversation,
 * once. `score` 1–5; `comment` optional, at most MAX_RATING_COMMENT_CHARS code points, line
 * breaks and tabs allowed, no other control character; trimmed, blank is none.
 */
export const ratingSchema = z
  .object({
    score: z.number().int().min(1).max(5),
    comment: z
      .string()
      .refine((v) => !hasControlCharacters(v), 'must not contain control characters')
      .refine(
        (v) => charCount(v) <= MAX_RATING_COMMENT_CHARS,
        `at most ${MAX_RATING_COMMENT_CHARS} characters`,
      )
      .transform((v) => (isBlank(v) ? null : v.trim()))
      .nullish()
      .transform((v) => v ?? null),
  })
  .strict();
export type RatingRequest = z.input<typeof ratingSchema>;
export type RatingBody = z.output<typeof ratingSchema>;

/** A conversation's rating as the visitor gave it; `201` of `POST …/rating`. */
export const ratingViewSchema = z.strictObject({
  score: z.number().int().min(1).max(5),
  comment: z.string().nullable(),
  at: z.iso.datetime(),
});
export type RatingView = z.infer<typeof ratingViewSchema>;

/**
 * `GET /v1/conversations/:id` and `POST /v1/conversations/:id/profile`. `rating` is null until
 * the visitor rated the conversation: a closed conversation without one is asked for one.
 */
export const conversationProfileSchema = z.strictObject({
  conversationId: z.string().uuid(),
  ticket: z.string(),
  status: conversationStatusSchema,
  name: z.string().nullable(),
  rating: ratingViewSchema.nullable(),
});
export type ConversationProfile = z.infer<typeof conversationProfileSchema>;

/** Every refused request: a stable `code` (docs/errors.md), a message for people. */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    /** `issues` for INVALID_REQUEST: what did not match, by field. */
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
