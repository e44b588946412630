import { createHmac, timingSafeEqual } from 'node:crypto';
import { AttachmentError, AttachmentErrorCode } from './errors';

/** What a filesystem link allows: one method on one key, until `exp` (ms since the epoch). */
export interface FileGrant {
  method: 'PUT' | 'GET';
  key: string;
  exp: number;
  /** PUT: the Content-Type it must send and the most bytes it may. */
  type: string;
  size?: number | undefined;
  /** GET: the download's file name. */
  name?: string | undefined;
}

/**
 * Signs and checks the grants of the filesystem backend's links (`/v1/files?t=<token>`): the
 * payload in base64url, a dot, its HMAC-SHA256. Like an S3 presigned URL, the link itself is
 * the permission; nothing about it is stored.
 */
export class GrantSigner {
  readonly #key: Buffer;

  constructor(secret: string) {
    // A key of its own, so a file link can never pass for anything else signed with the secret.
    this.#key = createHmac('sha256', secret).update('topicdesk attachment links').digest();
  }

  sign(grant: FileGrant): string {
    const payload = Buffer.from(JSON.stringify(grant)).toString('base64url');
    return `${payload}.${this.#mac(payload)}`;
  }

  /** The grant of a token; ATTACHMENT_URL_EXPIRED when it is altered or past its expiry. */
  verify(token: string, now = Date.now()): FileGrant {
    const [payload, mac] = token.split('.');
    const expected = payload === undefined ? '' : this.#mac(payload);
    if (
      payload === undefined ||
      mac === undefined ||
      mac.length !== expected.length ||
      !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))
    ) {
      throw new AttachmentError(AttachmentErrorCode.UrlExpired, 'this link is not valid');
    }
    const grant = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as FileGrant;
    if (grant.exp <= now)
      throw new AttachmentError(AttachmentErrorCode.UrlExpired, 'this link has expired');
    return grant;
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}
