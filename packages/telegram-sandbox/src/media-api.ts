import { imageSize } from 'image-size';
import { sandboxError } from './errors';
import { isRecord, optionalInt, optionalString, requiredChatId, type Params } from './params';
import type { MethodContext } from './bot-api';
import type { Message } from './telegram.types';
import { MAX_DOWNLOAD_BYTES, type StoredFile } from './world/files';

// sendPhoto and sendDocument as Telegram takes them: the file as a multipart/form-data part
// (directly, or named by `attach://<part>` as grammY sends it) or a `file_id` sent before;
// limits as documented (photos 10 MB, width + height at most 10,000, a side at most 20 times the
// other; other files 50 MB); a caption of at most 1,024 characters under the file.

export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
export const MAX_DOCUMENT_BYTES = 50 * 1024 * 1024;
export const MAX_CAPTION_LENGTH = 1024;

/** A part of a multipart request, as the sandbox's body parser hands it on. */
export interface UploadedPart {
  upload: true;
  bytes: Buffer;
  fileName: string;
  mimeType: string;
}

export function isUploadedPart(value: unknown): value is UploadedPart {
  return isRecord(value) && value['upload'] === true && Buffer.isBuffer(value['bytes']);
}

export const mediaHandlers = {
  // getFile as Telegram answers it: the file's path under /file/bot<token>/, valid for the
  // download route; files over 20 MB are refused (bots cannot download them).
  getFile: ({ params, world }: MethodContext) => {
    const fileId = optionalString(params, 'file_id');
    const file = fileId ? world.files.get(fileId) : undefined;
    if (!file) throw sandboxError('FILE_ID_INVALID');
    if (file.bytes.length > MAX_DOWNLOAD_BYTES) throw sandboxError('FILE_TOO_BIG_TO_DOWNLOAD');
    return {
      file_id: file.fileId,
      file_unique_id: file.fileUniqueId,
      file_size: file.bytes.length,
      file_path: file.filePath,
    };
  },

  sendPhoto: ({ bot, params, world }: MethodContext): Message => {
    const chatId = requiredChatId(params);
    world.chat(chatId);
    const file = readInputFile(params, 'photo', world.files, MAX_PHOTO_BYTES, 'PHOTO_TOO_BIG');
    let size: { width?: number; height?: number };
    try {
      size = imageSize(file.bytes);
    } catch {
      throw sandboxError('IMAGE_PROCESS_FAILED');
    }
    const { width = 0, height = 0 } = size;
    if (width + height > 10_000 || Math.max(width, height) > 20 * Math.min(width, height))
      throw sandboxError('PHOTO_INVALID_DIMENSIONS');
    return world.messages.sendMediaBot(bot.user.id, chatId, {
      ...placement(params),
      caption: readCaption(params),
      media: {
        photo: [
          {
            file_id: file.fileId,
            file_unique_id: file.fileUniqueId,
            width,
            height,
            file_size: file.bytes.length,
          },
        ],
      },
    });
  },

  sendDocument: ({ bot, params, world }: MethodContext): Message => {
    const chatId = requiredChatId(params);
    world.chat(chatId);
    const file = readInputFile(params, 'document', world.files, MAX_DOCUMENT_BYTES, 'FILE_TOO_BIG');
    return world.messages.sendMediaBot(bot.user.id, chatId, {
      ...placement(params),
      caption: readCaption(params),
      media: {
        document: {
          file_id: file.fileId,
          file_unique_id: file.fileUniqueId,
          ...(file.fileName ? { file_name: file.fileName } : {}),
          mime_type: file.mimeType,
          file_size: file.bytes.length,
        },
      },
    });
  },
};

function placement(params: Params) {
  const threadId = optionalInt(params, 'message_thread_id');
  return threadId === undefined ? {} : { threadId };
}

function readCaption(params: Params): string | undefined {
  const caption = optionalString(params, 'caption');
  if (caption !== undefined && caption.length > MAX_CAPTION_LENGTH)
    throw sandboxError('CAPTION_TOO_LONG');
  return caption === '' ? undefined : caption;
}

/** The file of parameter `name`: an uploaded part (itself or `attach://<part>`) or a file_id. */
function readInputFile(
  params: Params,
  name: string,
  files: {
    add(bytes: Buffer, mimeType: string, fileName: string | null): StoredFile;
    get(id: string): StoredFile | undefined;
  },
  maxBytes: number,
  tooBig: 'PHOTO_TOO_BIG' | 'FILE_TOO_BIG',
): StoredFile {
  let value = params[name];
  if (typeof value === 'string' && value.startsWith('attach://'))
    value = params[value.slice('attach://'.length)];
  if (isUploadedPart(value)) {
    if (value.bytes.length === 0) throw sandboxError('FILE_MISSING');
    if (value.bytes.length > maxBytes) throw sandboxError(tooBig);
    return files.add(value.bytes, value.mimeType, value.fileName || null);
  }
  if (typeof value === 'string' && value !== '') {
    const known = files.get(value);
    // URLs are not fetched by the sandbox (it has no network); like an unknown id, refused.
    if (!known) throw sandboxError('FILE_ID_INVALID');
    return known;
  }
  throw sandboxError('FILE_MISSING');
}
