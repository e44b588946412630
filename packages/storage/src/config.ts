import { join, resolve } from 'node:path';
import { env } from '@topicdesk/config';
import { z } from 'zod';
import { ClamdScanner } from './clamd';
import { FsStorage } from './fs-storage';
import { AttachmentInspector, ScanPolicy, type AttachmentLimits } from './inspect';
import { S3Storage } from './s3-storage';
import type { ObjectStorage } from './storage';

const DEFAULT_TYPES = 'image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain';
/** Agents also send voice notes and videos from Telegram. */
const DEFAULT_AGENT_TYPES = `${DEFAULT_TYPES},audio/ogg,audio/mpeg,audio/mp4,video/mp4,video/quicktime,video/webm`;

const typeList = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/**
 * The attachment settings every service that touches files reads (gateway, bridge): spread
 * into its env schema. Documented in .env.example and docs/contract.md.
 */
export const attachmentEnv = {
  /** S3 bucket of attachments; unset: the filesystem under DATA_DIR/attachments (one process only). */
  S3_BUCKET: env.optionalString(),
  /** The bucket's region. */
  S3_REGION: env.optionalString().default('us-east-1'),
  /** An S3-compatible server's URL (MinIO, Ceph...); unset: AWS. */
  S3_ENDPOINT: env.url(),
  /** Path-style bucket URLs (`<endpoint>/<bucket>/<key>`), which most S3-compatible servers need. */
  S3_FORCE_PATH_STYLE: env.boolean(false),
  /** Credentials of the bucket; unset: the AWS SDK's default chain (AWS_* variables, a role). */
  S3_ACCESS_KEY_ID: env.optionalString(),
  S3_SECRET_ACCESS_KEY: env.optionalString(),
  /**
   * The gateway's public base URL, for the filesystem backend's links
   * (`<PUBLIC_URL>/v1/files?t=…`); unset: `http://localhost:<PORT>`.
   */
  PUBLIC_URL: env.url(),
  /** ClamAV's clamd, `tcp://host:3310`; unset: no scanner (then ATTACHMENTS_SCAN decides). */
  CLAMAV_URL: env
    .url()
    .refine(
      (url) => url === undefined || new URL(url).protocol === 'tcp:',
      'clamd speaks TCP: tcp://host:port',
    ),
  /** `required`: no file is shown unscanned; `optional`: without a scanner files pass unscanned. */
  ATTACHMENTS_SCAN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum([ScanPolicy.required, ScanPolicy.optional]).default(ScanPolicy.optional),
  ),
  /** Largest file, in bytes (Telegram takes photos up to 10 MB, documents up to 50 MB). */
  ATTACHMENTS_MAX_FILE_BYTES: env.int(10 * 1024 * 1024, 1),
  /** All of one conversation's files together, in bytes. */
  ATTACHMENTS_MAX_CONVERSATION_BYTES: env.int(50 * 1024 * 1024, 1),
  /** Comma-separated MIME types a file may really be (sniffed from its bytes). */
  ATTACHMENTS_ALLOWED_TYPES: env.optionalString().default(DEFAULT_TYPES).transform(typeList),
  /**
   * Comma-separated MIME types a file agents post in a topic may really be (the bridge downloads
   * it from Telegram and checks it like an upload); the visitor's types plus voice and video.
   */
  ATTACHMENTS_AGENT_ALLOWED_TYPES: env
    .optionalString()
    .default(DEFAULT_AGENT_TYPES)
    .transform(typeList),
  /** Largest image, in pixels (a small file can decode to gigabytes). */
  ATTACHMENTS_MAX_IMAGE_PIXELS: env.int(40_000_000, 1),
  /** How long upload and download links stay valid. */
  ATTACHMENTS_URL_TTL: env.duration('15m'),
  /** Uploads (`POST …/attachments`) per conversation per hour, shared by every replica. */
  LIMIT_UPLOADS_PER_HOUR: env.int(30, 1),
};

export type AttachmentConfig = z.output<z.ZodObject<typeof attachmentEnv>>;

export interface AttachmentRuntime {
  storage: ObjectStorage;
  inspector: AttachmentInspector;
  limits: AttachmentLimits;
}

/**
 * The storage, checks and limits a config describes. `secret` signs the filesystem backend's
 * links (a service that only reads files, the bridge, has none); `port` makes its default
 * public URL.
 */
export function createAttachmentRuntime(
  config: AttachmentConfig,
  place: { dataDir: string; port: number; secret?: string | undefined },
): AttachmentRuntime {
  const storage: ObjectStorage = config.S3_BUCKET
    ? new S3Storage({
        bucket: config.S3_BUCKET,
        region: config.S3_REGION,
        endpoint: config.S3_ENDPOINT,
        forcePathStyle: config.S3_FORCE_PATH_STYLE,
        credentials:
          config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
            ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
            : undefined,
      })
    : new FsStorage({
        root: join(resolve(place.dataDir), 'attachments'),
        publicUrl: config.PUBLIC_URL ?? `http://localhost:${place.port}`,
        secret: place.secret,
      });
  const limits: AttachmentLimits = {
    maxFileBytes: config.ATTACHMENTS_MAX_FILE_BYTES,
    maxConversationBytes: config.ATTACHMENTS_MAX_CONVERSATION_BYTES,
    allowedTypes: config.ATTACHMENTS_ALLOWED_TYPES,
    agentAllowedTypes: config.ATTACHMENTS_AGENT_ALLOWED_TYPES,
    maxImagePixels: config.ATTACHMENTS_MAX_IMAGE_PIXELS,
  };
  const scanner = config.CLAMAV_URL ? new ClamdScanner(config.CLAMAV_URL) : undefined;
  return {
    storage,
    limits,
    inspector: new AttachmentInspector(storage, limits, scanner, config.ATTACHMENTS_SCAN),
  };
}
