import { randomBytes } from 'node:crypto';

/** A file a bot uploaded, as the sandbox keeps it (in memory: files are not saved with the state). */
export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  bytes: Buffer;
  mimeType: string;
  fileName: string | null;
}

/** Uploaded files by `file_id`, so a later call (or the agent page) can use them again. */
export class Files {
  readonly #files = new Map<string, StoredFile>();

  add(bytes: Buffer, mimeType: string, fileName: string | null): StoredFile {
    const file: StoredFile = {
      // Telegram's ids are opaque; these only need to be unique and URL-safe.
      fileId: `sbx-${randomBytes(12).toString('base64url')}`,
      fileUniqueId: randomBytes(8).toString('base64url'),
      bytes,
      mimeType,
      fileName,
    };
    this.#files.set(file.fileId, file);
    return file;
  }

  get(fileId: string): StoredFile | undefined {
    return this.#files.get(fileId);
  }
}
