import { imageSize } from 'image-size';
import { sandboxError } from '../errors';
import type { Message, PhotoSize } from '../telegram.types';
import { FileKind, type Files } from './files';

/**
 * A file a person sends (an agent in a topic, a visitor in a private chat), as tests play it:
 * the bytes, and what Telegram would tell about them. A photo comes in every size Telegram
 * made of it (smallest first in the update, as Telegram orders them).
 */
export type InjectedMedia =
  | { kind: 'photo'; sizes: readonly Buffer[] }
  | { kind: 'document'; bytes: Buffer; fileName?: string; mimeType?: string }
  | { kind: 'voice'; bytes: Buffer; duration?: number; mimeType?: string }
  | {
      kind: 'video';
      bytes: Buffer;
      width?: number;
      height?: number;
      duration?: number;
      fileName?: string;
      mimeType?: string;
    };

/** The fields of a message carrying the file, in Telegram's update shapes. */
export type MediaFields = Pick<Message, 'photo' | 'document' | 'voice' | 'video'>;

/** Stores the file(s) and answers the message fields that name them. */
export function mediaFields(files: Files, media: InjectedMedia): MediaFields {
  switch (media.kind) {
    case 'photo': {
      if (media.sizes.length === 0) throw sandboxError('FILE_MISSING');
      const sizes = media.sizes.map((bytes): PhotoSize => {
        let size: { width?: number; height?: number };
        try {
          size = imageSize(bytes);
        } catch {
          throw sandboxError('IMAGE_PROCESS_FAILED');
        }
        const file = files.add(bytes, 'image/jpeg', null, FileKind.photo);
        return {
          file_id: file.fileId,
          file_unique_id: file.fileUniqueId,
          width: size.width ?? 0,
          height: size.height ?? 0,
          file_size: bytes.length,
        };
      });
      return { photo: sizes.sort((a, b) => a.width * a.height - b.width * b.height) };
    }
    case 'document': {
      const type = media.mimeType ?? 'application/octet-stream';
      const file = files.add(media.bytes, type, media.fileName ?? null, FileKind.document);
      return {
        document: {
          file_id: file.fileId,
          file_unique_id: file.fileUniqueId,
          ...(media.fileName ? { file_name: media.fileName } : {}),
          mime_type: type,
          file_size: media.bytes.length,
        },
      };
    }
    case 'voice': {
      const type = media.mimeType ?? 'audio/ogg';
      const file = files.add(media.bytes, type, null, FileKind.voice);
      return {
        voice: {
          file_id: file.fileId,
          file_unique_id: file.fileUniqueId,
          duration: media.duration ?? 1,
          mime_type: type,
          file_size: media.bytes.length,
        },
      };
    }
    case 'video': {
      const type = media.mimeType ?? 'video/mp4';
      const file = files.add(media.bytes, type, media.fileName ?? null, FileKind.video);
      return {
        video: {
          file_id: file.fileId,
          file_unique_id: file.fileUniqueId,
          width: media.width ?? 0,
          height: media.height ?? 0,
          duration: media.duration ?? 1,
          ...(media.fileName ? { file_name: media.fileName } : {}),
          mime_type: type,
          file_size: media.bytes.length,
        },
      };
    }
    default: {
      const never: never = media;
      throw new Error(`unhandled media ${JSON.stringify(never)}`);
    }
  }
}
