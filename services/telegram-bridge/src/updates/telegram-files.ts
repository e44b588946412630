import { setTimeout as delay } from 'node:timers/promises';
import {
  AttachmentError,
  AttachmentErrorCode,
  type Attachment,
  type AttachmentService,
} from '@topicdesk/core';
import type { Logger } from '@topicdesk/telemetry';
import { GrammyError, type Api } from 'grammy';
import type { Message } from 'grammy/types';
import { BridgeErrorCode } from '../errors';

/** The Bot API's download limit: getFile refuses larger files ("file is too big"). */
export const TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024;

/** A file a Telegram message carries, as the update names it. */
export interface TelegramFileRef {
  fileId: string;
  fileUniqueId: string;
  /** What the visitor sees it called: a document's own name, else one made from its kind. */
  name: string;
  /** The type Telegram tells (a hint: the bytes decide). */
  type: string;
  /** What Telegram says it weighs, when it says. */
  size?: number | undefined;
}

/**
 * The file of a message: the largest size of a photo (Telegram sends several, smallest first),
 * a document, a voice note or a video; undefined for a text or anything else (stickers…).
 */
export function fileOf(message: Message): TelegramFileRef | undefined {
  const stamp = new Date(message.date * 1000).toISOString().slice(0, 10);
  if (message.photo?.length) {
    const largest = [...message.photo].sort((a, b) => a.width * a.height - b.width * b.height)[
      message.photo.length - 1
    ];
    if (!largest) return undefined;
    return {
      fileId: largest.file_id,
      fileUniqueId: largest.file_unique_id,
      name: `photo-${stamp}.jpg`,
      type: 'image/jpeg',
      size: largest.file_size,
    };
  }
  const other = message.document ?? message.video ?? message.voice;
  if (!other) return undefined;
  const kind = message.document ? 'document' : message.video ? 'video' : 'voice';
  const named = 'file_name' in other ? other.file_name : undefined;
  // Voice notes are Ogg Opus even when Telegram leaves the type out.
  const type = other.mime_type ?? (kind === 'voice' ? 'audio/ogg' : 'application/octet-stream');
  return {
    fileId: other.file_id,
    fileUniqueId: other.file_unique_id,
    name: named ?? `${kind}-${stamp}${EXTENSIONS[type] ?? ''}`,
    type,
    size: other.file_size,
  };
}

const EXTENSIONS: Record<string, string> = {
  'audio/ogg': '.ogg',
  'audio/mpeg': '.mp3',
  'video/mp4': '.mp4',
  'application/pdf': '.pdf',
};

/** A file taken in, or why not (a stable code and words for the person who sent it). */
export type FileIntake =
  { ok: true; attachment: Attachment } | { ok: false; code: string; reason: string };

export interface TelegramFilesOptions {
  /** The main bot's API (file ids belong to the bot that received them) and its token. */
  api: Api;
  token: string;
  /** TELEGRAM_API_ROOT: downloads are `<root>/file/bot<token>/<file_path>`. */
  apiRoot: string;
  attachments: Pick<AttachmentService, 'receive'>;
  /** ATTACHMENTS_MAX_FILE_BYTES. */
  maxFileBytes: number;
  logger: Logger;
  /** Tries of a download that fails on the network or with a 5xx (default 3). */
  tries?: number;
  /** How long one download may take (default 60 s). */
  timeoutMs?: number;
}

/**
 * Files from Telegram into a conversation (issue 17): `getFile`, the download from the Bot API's
 * file URL (never more than the limit, read as it arrives), then core's checks. Every outcome is
 * final here — a refusal the sender is told about, never an update retried for hours (the update
 * stream waits on each update in turn): network trouble is retried a few times, then refused.
 */
export class TelegramFiles {
  readonly #limit: number;

  constructor(private readonly options: TelegramFilesOptions) {
    this.#limit = Math.min(options.maxFileBytes, TELEGRAM_DOWNLOAD_LIMIT);
  }

  async receive(
    conversation: { tenant_id: string; id: string },
    file: TelegramFileRef,
    from: 'agent' | 'visitor',
  ): Promise<FileIntake> {
    if (file.size !== undefined && file.size > this.#limit) return this.#tooLarge();
    let bytes: Buffer;
    try {
      bytes = await this.#download(file);
    } catch (error) {
      if (AttachmentError.is(error, AttachmentErrorCode.TooLarge)) return this.#tooLarge();
      this.options.logger.warn(
        { err: error, conversationId: conversation.id, fileUniqueId: file.fileUniqueId },
        'could not download a file from Telegram',
      );
      return {
        ok: false,
        code: BridgeErrorCode.BRIDGE_FILE_UNAVAILABLE,
        reason: 'Telegram did not hand the file over',
      };
    }
    try {
      const attachment = await this.options.attachments.receive(
        conversation.tenant_id,
        conversation.id,
        { name: file.name, type: file.type, bytes },
        from,
      );
      return { ok: true, attachment };
    } catch (error) {
      if (!AttachmentError.is(error)) throw error;
      return { ok: false, code: error.code, reason: REASONS[error.code] };
    }
  }

  /** The file's bytes: getFile, then its URL, tried again after network trouble or a 5xx. */
  async #download(file: TelegramFileRef): Promise<Buffer> {
    const tries = this.options.tries ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#downloadOnce(file);
      } catch (error) {
        if (attempt >= tries || !transient(error)) throw error;
        await delay(500 * 2 ** attempt);
      }
    }
  }

  async #downloadOnce(file: TelegramFileRef): Promise<Buffer> {
    const { api, token, apiRoot } = this.options;
    let path: string | undefined;
    try {
      const found = await api.getFile(file.fileId);
      if (found.file_size !== undefined && found.file_size > this.#limit) throw tooLarge();
      path = found.file_path;
    } catch (error) {
      if (error instanceof GrammyError && /file is too big/i.test(error.description))
        throw tooLarge();
      throw error;
    }
    if (!path) throw new Error('getFile answered no file_path');
    const response = await fetch(`${apiRoot.replace(/\/+$/, '')}/file/bot${token}/${path}`, {
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
    });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new DownloadError(response.status);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > this.#limit) {
      await response.body.cancel();
      throw tooLarge();
    }
    // Read as it arrives: a file over the limit is cut off there, never held whole.
    const chunks: Buffer[] = [];
    let total = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks);
      total += value.length;
      if (total > this.#limit) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(Buffer.from(value));
    }
  }

  #tooLarge(): FileIntake {
    return {
      ok: false,
      code: AttachmentErrorCode.TooLarge,
      reason: `it is larger than ${formatBytes(this.#limit)}`,
    };
  }
}

class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(readonly status: number) {
    super(`the file download answered ${status}`);
  }
}

function tooLarge(): AttachmentError {
  return new AttachmentError(AttachmentErrorCode.TooLarge, 'the file is larger than allowed');
}

/** Network trouble and 5xx are worth another try; a 4xx or a refusal is not. */
function transient(error: unknown): boolean {
  if (AttachmentError.is(error)) return false;
  if (error instanceof GrammyError) return error.error_code >= 500 || error.error_code === 429;
  if (error instanceof DownloadError) return error.status >= 500;
  return true;
}

/** Words for each refusal, after "This file did not reach the visitor: …". */
const REASONS: Record<AttachmentErrorCode, string> = {
  [AttachmentErrorCode.TooLarge]: 'it is larger than allowed',
  [AttachmentErrorCode.TotalExceeded]: "the conversation's files take all the room allowed",
  [AttachmentErrorCode.TypeNotAllowed]: 'files of this type are not allowed',
  [AttachmentErrorCode.Invalid]: 'it could not be read (broken, or too many pixels)',
  [AttachmentErrorCode.Infected]: 'the malware scanner found something in it',
  [AttachmentErrorCode.ScanUnavailable]: 'the malware scanner is not available; try again later',
  [AttachmentErrorCode.UrlExpired]: 'its link expired',
  [AttachmentErrorCode.NotFound]: 'it could not be stored',
};

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}
