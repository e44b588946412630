import { randomBytes } from 'node:crypto';

/** Where Telegram files a file (the first part of its `file_path`). */
export const FileKind = {
  photo: 'photos',
  document: 'documents',
  voice: 'voice',
  video: 'videos',
} as const;
export type FileKind = (typeof FileKind)[keyof typeof FileKind];

/** A file a bot uploaded or a person sent, as the sandbox keeps it (in memory, never saved). */
export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  /** What getFile answers and the download route serves, e.g. `photos/file_3.jpg`. */
  filePath: string;
  bytes: Buffer;
  mimeType: string;
  fileName: string | null;
}

/** The Bot API's getFile limit: larger files cannot be downloaded by bots. */
export const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'audio/ogg': 'oga',
  'video/mp4': 'mp4',
};

/** Files by `file_id` and by `file_path`, so a later call, a download or the agent page finds them. */
export class Files {
  readonly #files = new Map<string, StoredFile>();
  readonly #byPath = new Map<string, StoredFile>();
  #count = 0;

  add(
    bytes: Buffer,
    mimeType: string,
    fileName: string | null,
    kind: FileKind = mimeType.startsWith('image/') ? FileKind.photo : FileKind.document,
  ): StoredFile {
    this.#count += 1;
    const extension = EXTENSIONS[mimeType] ?? /\.([A-Za-z0-9]{1,8})$/.exec(fileName ?? '')?.[1];
    const file: StoredFile = {
      // Telegram's ids are opaque; these only need to be unique and URL-safe.
      fileId: `sbx-${randomBytes(12).toString('base64url')}`,
      fileUniqueId: randomBytes(8).toString('base64url'),
      filePath: `${kind}/file_${this.#count}${extension ? `.${extension}` : ''}`,
      bytes,
      mimeType,
      fileName,
    };
    this.#files.set(file.fileId, file);
    this.#byPath.set(file.filePath, file);
    return file;
  }

  get(fileId: string): StoredFile | undefined {
    return this.#files.get(fileId);
  }

  byPath(filePath: string): StoredFile | undefined {
    return this.#byPath.get(filePath);
  }
}
