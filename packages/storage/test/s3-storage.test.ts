import { afterAll, beforeAll } from 'vitest';
import { S3RVER_CREDENTIALS, startTestS3, type TestS3 } from '@topicdesk/testkit';
import { S3Storage } from '../src/index';
import { storageSuite } from './storage.suite';

let s3: TestS3;
let storage: S3Storage;
beforeAll(async () => {
  s3 = await startTestS3();
  storage = new S3Storage({
    bucket: s3.bucket,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
});
afterAll(async () => {
  await storage.close();
  await s3.stop();
});

storageSuite('S3', {
  refusesOversizedPut: false,
  storage: () => storage,
  put: async (link, body) =>
    (await fetch(link.url, { method: 'PUT', headers: link.headers, body: new Uint8Array(body) }))
      .status,
  get: async (link) => {
    const res = await fetch(link.url);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
});
