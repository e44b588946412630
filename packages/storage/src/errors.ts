/**
 * Why a file was refused, as stable codes (docs/errors.md, "Attachments"). Clients branch on
 * these, never on messages; the gateway answers each with its HTTP status.
 */
export const AttachmentErrorCode = {
  /** Over the per-file size (ATTACHMENTS_MAX_FILE_BYTES), or more bytes than were declared. */
  TooLarge: 'ATTACHMENT_TOO_LARGE',
  /** The conversation's files would go over ATTACHMENTS_MAX_CONVERSATION_BYTES. */
  TotalExceeded: 'ATTACHMENT_TOTAL_EXCEEDED',
  /** The declared type, or the type sniffed from the bytes, is not in ATTACHMENTS_ALLOWED_TYPES. */
  TypeNotAllowed: 'ATTACHMENT_TYPE_NOT_ALLOWED',
  /** The bytes are not what they claim (a broken image, an image over the pixel limit). */
  Invalid: 'ATTACHMENT_INVALID',
  /** The malware scanner found something. */
  Infected: 'ATTACHMENT_INFECTED',
  /** A scan is required (ATTACHMENTS_SCAN=required) and no scanner answered. */
  ScanUnavailable: 'ATTACHMENT_SCAN_UNAVAILABLE',
  /** A signed upload or download link past its expiry, or altered. */
  UrlExpired: 'ATTACHMENT_URL_EXPIRED',
  /** No such attachment in this conversation, or nothing was uploaded for it. */
  NotFound: 'ATTACHMENT_NOT_FOUND',
} as const;
export type AttachmentErrorCode = (typeof AttachmentErrorCode)[keyof typeof AttachmentErrorCode];

const CODES: ReadonlySet<string> = new Set(Object.values(AttachmentErrorCode));

/** A file refused for a reason the visitor is told (its `code`). */
export class AttachmentError extends Error {
  override name = 'AttachmentError';
  constructor(
    readonly code: AttachmentErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** True for any error of this package, optionally of one code (works across module copies). */
  static is(err: unknown, code?: AttachmentErrorCode): err is AttachmentError {
    if (typeof err !== 'object' || err === null) return false;
    const candidate = (err as { code?: unknown }).code;
    if (typeof candidate !== 'string' || !CODES.has(candidate)) return false;
    return code === undefined || candidate === code;
  }
}
