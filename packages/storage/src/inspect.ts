import { Transform, type Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { AttachmentError, AttachmentErrorCode } from './errors';
import { ScannerUnavailableError, type Scanner } from './clamd';
import type { ObjectStorage } from './storage';

export const ScanPolicy = {
  /** No file becomes visible unless a scanner said it is clean. */
  required: 'required',
  /** Scan when a scanner is configured; without one, files pass unscanned. */
  optional: 'optional',
} as const;
export type ScanPolicy = (typeof ScanPolicy)[keyof typeof ScanPolicy];

export interface AttachmentLimits {
  /** Largest file, in bytes. */
  maxFileBytes: number;
  /** All of one conversation's files together, in bytes. */
  maxConversationBytes: number;
  /** MIME types a file may really be (sniffed from its bytes). */
  allowedTypes: readonly string[];
  /** MIME types a file agents send from Telegram may really be (ATTACHMENTS_AGENT_ALLOWED_TYPES). */
  agentAllowedTypes: readonly string[];
  /** Largest image, in pixels (width × height): a tiny file can decode to gigabytes. */
  maxImagePixels: number;
}

export interface InspectInput {
  /** Where the browser uploaded it. */
  uploadKey: string;
  /** Where the checked (and, for images, re-encoded) file goes. */
  storedKey: string;
  declaredType: string;
  declaredSize: number;
  /** The types this file may be; default: the limits' `allowedTypes` (visitors' files). */
  allowedTypes?: readonly string[] | undefined;
}

/** A file that passed: its real type, size and (images) dimensions. */
export interface InspectedFile {
  type: string;
  size: number;
  width?: number | undefined;
  height?: number | undefined;
}

/** Image types that are re-encoded (which drops EXIF, GPS and every other metadata). */
const REENCODED_IMAGES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
]);

/** Enough of the head for every signature file-type knows. */
const SNIFF_BYTES = 4100;

/**
 * The checks an uploaded file passes before anyone sees it: its size (what was really stored),
 * a malware scan, its real type sniffed from its bytes (never the name or the declared type),
 * and for images their dimensions, then a re-encode that keeps the pixels and drops the
 * metadata (a phone photo's GPS position is the visitor's personal data). A file that fails
 * throws an AttachmentError with the reason's code; the caller deletes the upload.
 */
export class AttachmentInspector {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly limits: AttachmentLimits,
    private readonly scanner: Scanner | undefined,
    private readonly scanPolicy: ScanPolicy,
  ) {}

  async inspect(input: InspectInput): Promise<InspectedFile> {
    const size = await this.storage.size(input.uploadKey);
    if (size === undefined)
      throw new AttachmentError(
        AttachmentErrorCode.NotFound,
        'nothing was uploaded for this attachment',
      );
    if (size > input.declaredSize || size > this.limits.maxFileBytes)
      throw new AttachmentError(
        AttachmentErrorCode.TooLarge,
        `the file has ${size} bytes, more than allowed`,
      );
    if (size === 0) throw new AttachmentError(AttachmentErrorCode.Invalid, 'the file is empty');

    const head = await this.#scanAndSniff(input.uploadKey);
    const type = await realType(head, input.declaredType);
    const allowed = input.allowedTypes ?? this.limits.allowedTypes;
    if (type === undefined || !allowed.includes(type))
      throw new AttachmentError(
        AttachmentErrorCode.TypeNotAllowed,
        type === undefined
          ? 'the type of this file could not be told'
          : `files of type ${type} are not allowed`,
      );
    if (!REENCODED_IMAGES.has(type)) {
      await this.storage.copy(input.uploadKey, input.storedKey, type);
      return { type, size };
    }
    return this.#reencode(input, type);
  }

  /** One pass over the upload: the scanner gets every byte, the first few are kept to sniff. */
  async #scanAndSniff(key: string): Promise<Buffer> {
    const body = await this.storage.read(key);
    const kept: Buffer[] = [];
    let keptBytes = 0;
    // A pass-through that keeps the head: nothing flows until the scanner (or the loop) reads.
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (keptBytes < SNIFF_BYTES) {
          kept.push(chunk.subarray(0, SNIFF_BYTES - keptBytes));
          keptBytes += Math.min(chunk.length, SNIFF_BYTES - keptBytes);
        }
        done(null, chunk);
      },
    });
    body.on('error', (error) => tap.destroy(error));
    body.pipe(tap);
    if (!this.scanner) {
      if (this.scanPolicy === ScanPolicy.required)
        throw new AttachmentError(
          AttachmentErrorCode.ScanUnavailable,
          'no malware scanner is configured',
        );
      for await (const _chunk of tap) if (keptBytes >= SNIFF_BYTES) break;
      body.destroy();
      return Buffer.concat(kept);
    }
    let verdict;
    try {
      verdict = await this.scanner.scan(tap);
    } catch (error) {
      if (error instanceof ScannerUnavailableError && this.scanPolicy === ScanPolicy.optional) {
        // The operator chose availability over the scan; the file goes on unscanned.
        return Buffer.concat(kept);
      }
      if (error instanceof ScannerUnavailableError)
        throw new AttachmentError(
          AttachmentErrorCode.ScanUnavailable,
          'the malware scanner is not available; try again later',
          { cause: error },
        );
      throw error;
    }
    if (verdict.infected)
      throw new AttachmentError(
        AttachmentErrorCode.Infected,
        `the malware scanner found ${verdict.signature}`,
      );
    return Buffer.concat(kept);
  }

  async #reencode(input: InspectInput, type: string): Promise<InspectedFile> {
    const original = await readAll(
      await this.storage.read(input.uploadKey),
      this.limits.maxFileBytes,
    );
    try {
      const image = sharp(original, {
        limitInputPixels: this.limits.maxImagePixels,
        animated: type === 'image/gif' || type === 'image/webp',
      });
      // rotate() applies the EXIF orientation to the pixels before the metadata goes.
      const { data, info } = await image.rotate().toBuffer({ resolveWithObject: true });
      await this.storage.write(input.storedKey, data, type);
      return { type, size: data.length, width: info.width, height: info.pageHeight ?? info.height };
    } catch (error) {
      throw new AttachmentError(
        AttachmentErrorCode.Invalid,
        'the image could not be read (broken, or too many pixels)',
        { cause: error },
      );
    }
  }
}

/**
 * The type the bytes say. file-type knows binary formats only: plain text (no signature) is
 * taken as declared `text/plain` when its head has no NUL byte and is valid UTF-8.
 */
export async function realType(head: Buffer, declaredType: string): Promise<string | undefined> {
  const sniffed = await fileTypeFromBuffer(head);
  // `audio/ogg; codecs=opus` (a Telegram voice note) is listed and served as `audio/ogg`.
  if (sniffed) return sniffed.mime.split(';')[0]?.trim();
  if (declaredType !== 'text/plain' || head.includes(0)) return undefined;
  try {
    // The head may end inside a character: drop up to 3 bytes of it.
    new TextDecoder('utf-8', { fatal: true }).decode(
      head.subarray(0, Math.max(0, head.length - 3)),
    );
    return 'text/plain';
  } catch {
    return undefined;
  }
}

async function readAll(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      body.destroy();
      throw new AttachmentError(AttachmentErrorCode.TooLarge, 'the file is larger than allowed');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
