import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** s3rver's fixed credentials: it checks every signature against them. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The environment of a service that uses it (path-style, as for MinIO). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** A bucket CORS rule that lets pages of any origin PUT (with Content-Type) and GET, as a site needs. */
const OPEN_CORS = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

/**
 * An S3-compatible server on loopback (s3rver, from npm) with one bucket, its files in a
 * temporary folder. It checks signatures and expiries of presigned URLs like S3 (not the
 * signed Content-Length: the checks measure what was stored anyway). With `cors`, browsers may
 * upload and download from any page (the widget's browser tests).
 */
export async function startTestS3(
  bucket = 'attachments',
  options: { cors?: boolean } = {},
): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'topicdesk-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: options.cors ? [OPEN_CORS] : [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
