import type { Readable } from 'node:stream';

/** A link a browser uses directly (upload or download), valid until `expiresAt`. */
export interface SignedUrl {
  url: string;
  method: 'PUT' | 'GET';
  /** Headers the request must carry as they are (they are part of the signature). */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface PutSpec {
  /** The declared MIME type; the upload must send it as Content-Type. */
  type: string;
  /** The declared size in bytes; the upload may not send more. */
  size: number;
  expiresInMs: number;
}

export interface GetSpec {
  /** The file's name as the visitor gave it (Content-Disposition of the download). */
  name: string;
  type: string;
  expiresInMs: number;
}

/**
 * Where attachments' bytes live: S3-compatible object storage in the distributed mode, the
 * filesystem under DATA_DIR in one process. Browsers move the bytes themselves through signed
 * links; the services only read what they check and write what they re-encode, as streams.
 */
export interface ObjectStorage {
  readonly kind: 's3' | 'fs';
  signPut(key: string, spec: PutSpec): Promise<SignedUrl>;
  signGet(key: string, spec: GetSpec): Promise<SignedUrl>;
  /** The object's size, or undefined when there is none. */
  size(key: string): Promise<number | undefined>;
  /** The object's bytes as a stream (throws ATTACHMENT_NOT_FOUND when there is none). */
  read(key: string): Promise<Readable>;
  write(key: string, body: Buffer, type: string): Promise<void>;
  /** Copies an object without passing its bytes through this process where the backend can. */
  copy(from: string, to: string, type: string): Promise<void>;
  /** Deletes an object; no error when there is none. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
