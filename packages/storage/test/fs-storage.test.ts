import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { FsStorage, type SignedUrl } from '../src/index';
import { storageSuite } from './storage.suite';

let root: string;
let storage: FsStorage;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'topicdesk-fs-'));
  storage = new FsStorage({ root, publicUrl: 'http://gateway.test', secret: 'x'.repeat(32) });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** What the gateway's /v1/files?t=<token> route does with a link (its HTTP side is tested there). */
const token = (link: SignedUrl) => new URL(link.url).searchParams.get('t') ?? '';

storageSuite('filesystem', {
  refusesOversizedPut: true,
  storage: () => storage,
  put: async (link, body) => {
    await storage.receive(storage.grant(token(link), 'PUT'), Readable.from([body]));
    return 200;
  },
  get: async (link) => {
    const grant = storage.grant(token(link), 'GET');
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.read(grant.key)) chunks.push(chunk as Buffer);
    return { status: 200, body: Buffer.concat(chunks) };
  },
});
