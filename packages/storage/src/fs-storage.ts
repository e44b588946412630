import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { AttachmentError, AttachmentErrorCode } from './errors';
import { GrantSigner, type FileGrant } from './signed-token';
import type { GetSpec, ObjectStorage, PutSpec, SignedUrl } from './storage';

export interface FsStorageOptions {
  /** Where the files go (`<DATA_DIR>/attachments`). */
  root: string;
  /** The gateway's public base URL: links are `<publicUrl>/v1/files?t=<token>`. */
  publicUrl: string;
  /** Signs the links (derived from the gateway's secret); a reader only (the bridge) has none. */
  secret?: string | undefined;
}

/** The route the gateway serves the filesystem backend's links on: `/v1/files?t=<token>`. */
export const FILE_ROUTE = '/v1/files';

/**
 * One-process mode's storage: files under a folder, links to the gateway's own `/v1/files`
 * route, which streams the bytes in and out (never a whole file in memory).
 */
export class FsStorage implements ObjectStorage {
  readonly kind = 'fs' as const;
  readonly #root: string;
  readonly #signer: GrantSigner | undefined;

  constructor(private readonly options: FsStorageOptions) {
    this.#root = resolve(options.root);
    this.#signer = options.secret === undefined ? undefined : new GrantSigner(options.secret);
  }

  signPut(key: string, spec: PutSpec): Promise<SignedUrl> {
    return Promise.resolve(
      this.#link(
        {
          method: 'PUT',
          key,
          type: spec.type,
          size: spec.size,
          exp: Date.now() + spec.expiresInMs,
        },
        { 'content-type': spec.type },
      ),
    );
  }

  signGet(key: string, spec: GetSpec): Promise<SignedUrl> {
    return Promise.resolve(
      this.#link(
        {
          method: 'GET',
          key,
          type: spec.type,
          name: spec.name,
          exp: Date.now() + spec.expiresInMs,
        },
        {},
      ),
    );
  }

  /** The grant behind a `/v1/files?t=<token>` link (ATTACHMENT_URL_EXPIRED when not valid). */
  grant(token: string, method: 'PUT' | 'GET'): FileGrant {
    const grant = this.#signing().verify(token);
    if (grant.method !== method)
      throw new AttachmentError(AttachmentErrorCode.UrlExpired, `this link is not for ${method}`);
    return grant;
  }

  /**
   * Takes an upload as a stream: refused with ATTACHMENT_TOO_LARGE as soon as it passes the
   * grant's size (nothing is kept), written under a temporary name and renamed when complete.
   */
  async receive(grant: FileGrant, body: Readable): Promise<number> {
    const limit = grant.size ?? 0;
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (received > limit)
          done(
            new AttachmentError(
              AttachmentErrorCode.TooLarge,
              `more than the declared ${limit} bytes`,
            ),
          );
        else done(null, chunk);
      },
    });
    const path = this.#path(grant.key);
    const partial = `${path}.${randomUUID()}.part`;
    await mkdir(dirname(path), { recursive: true });
    try {
      await pipeline(body, counter, createWriteStream(partial, { flags: 'wx' }));
      await rename(partial, path);
      return received;
    } finally {
      await rm(partial, { force: true });
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.#path(key))).size;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async read(key: string): Promise<Readable> {
    const path = this.#path(key);
    if ((await this.size(key)) === undefined)
      throw new AttachmentError(AttachmentErrorCode.NotFound, 'no such file');
    return createReadStream(path);
  }

  /** The type is not kept: links name it (the GET grant carries the type checked). */
  async write(key: string, body: Buffer, _type?: string): Promise<void> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }

  async copy(from: string, to: string, _type?: string): Promise<void> {
    const path = this.#path(to);
    await mkdir(dirname(path), { recursive: true });
    await copyFile(this.#path(from), path);
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #link(grant: FileGrant, headers: Record<string, string>): SignedUrl {
    const base = this.options.publicUrl.replace(/\/+$/, '');
    return {
      // In the query: a path parameter this long is over the router's limit.
      url: `${base}${FILE_ROUTE}?t=${this.#signing().sign(grant)}`,
      method: grant.method,
      headers,
      expiresAt: new Date(grant.exp),
    };
  }

  #signing(): GrantSigner {
    if (!this.#signer) throw new Error('this FsStorage has no secret: it reads files only');
    return this.#signer;
  }

  /** Keys are ours (`uploads/<conversation>/<id>`), but a key never leaves the root anyway. */
  #path(key: string): string {
    const path = resolve(join(this.#root, key));
    if (!path.startsWith(this.#root + sep)) throw new Error(`key outside the storage root: ${key}`);
    return path;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
