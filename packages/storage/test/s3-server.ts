import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { S3Storage } from '../src/index';

/** s3rver's fixed credentials: it checks every signature against them. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  bucket: string;
  storage: S3Storage;
  stop(): Promise<void>;
}

/**
 * An S3-compatible server on loopback (s3rver, from npm) with one bucket, its files in a
 * temporary folder, and an S3Storage pointed at it (path-style, as for MinIO).
 */
export async function startTestS3(bucket = 'attachments'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'topicdesk-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const storage = new S3Storage({
    bucket,
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
  return {
    endpoint,
    bucket,
    storage,
    stop: async () => {
      await storage.close();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
