import { afterAll, beforeAll } from 'vitest';
import { startTestS3, type TestS3 } from './s3-server';
import { storageSuite } from './storage.suite';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3.stop();
});

storageSuite('S3', {
  refusesOversizedPut: false,
  storage: () => s3.storage,
  put: async (link, body) =>
    (await fetch(link.url, { method: "PUT", headers: link.headers, body: new Uint8Array(body) })).status,
  get: async (link) => {
    const res = await fetch(link.url);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  },
});
