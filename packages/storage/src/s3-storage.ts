import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { AttachmentError, AttachmentErrorCode } from './errors';
import type { GetSpec, ObjectStorage, PutSpec, SignedUrl } from './storage';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server's URL (MinIO, Ceph, a test server); unset: AWS. */
  endpoint?: string | undefined;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`), which most S3-compatible servers need. */
  forcePathStyle?: boolean | undefined;
  /** Unset: the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a role...). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/**
 * The distributed mode's storage: an S3-compatible bucket through the AWS SDK v3. Browsers
 * upload and download with presigned PUT/GET URLs; Content-Type and Content-Length are part of
 * the PUT's signature, so an upload can carry neither another type nor more bytes than declared.
 */
export class S3Storage implements ObjectStorage {
  readonly kind = 's3' as const;
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(options: S3StorageOptions) {
    this.#bucket = options.bucket;
    this.#client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
    });
  }

  async signPut(key: string, spec: PutSpec): Promise<SignedUrl> {
    const expiresIn = Math.max(1, Math.floor(spec.expiresInMs / 1000));
    const command = new PutObjectCommand({
      Bucket: this.#bucket,
      Key: key,
      ContentType: spec.type,
      ContentLength: spec.size,
    });
    const url = await getSignedUrl(this.#client, command, {
      expiresIn,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return {
      url,
      method: 'PUT',
      headers: { 'content-type': spec.type },
      expiresAt: new Date(Date.now() + expiresIn * 1000),
    };
  }

  async signGet(key: string, spec: GetSpec): Promise<SignedUrl> {
    const expiresIn = Math.max(1, Math.floor(spec.expiresInMs / 1000));
    const command = new GetObjectCommand({
      Bucket: this.#bucket,
      Key: key,
      ResponseContentType: spec.type,
      ResponseContentDisposition: contentDisposition(spec.name),
    });
    const url = await getSignedUrl(this.#client, command, { expiresIn });
    return { url, method: 'GET', headers: {}, expiresAt: new Date(Date.now() + expiresIn * 1000) };
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: key }),
      );
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async read(key: string): Promise<Readable> {
    try {
      const object = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key }),
      );
      // A plain stream of the bytes: the SDK's body is an HTTP response, whose `url` field makes
      // grammY's InputFile take it for a link to fetch.
      return Readable.from(object.Body as AsyncIterable<Uint8Array>);
    } catch (error) {
      if (isMissing(error))
        throw new AttachmentError(AttachmentErrorCode.NotFound, 'no such file', { cause: error });
      throw error;
    }
  }

  async write(key: string, body: Buffer, type: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: body, ContentType: type }),
    );
  }

  async copy(from: string, to: string, type: string): Promise<void> {
    await this.#client.send(
      new CopyObjectCommand({
        Bucket: this.#bucket,
        Key: to,
        CopySource: `${this.#bucket}/${from}`,
        ContentType: type,
        MetadataDirective: 'REPLACE',
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
  }

  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }
}

/** `attachment; filename="…"; filename*=UTF-8''…` with any name, quotes and all. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof NotFound ||
    error instanceof NoSuchKey ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
}
