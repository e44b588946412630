import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttachmentInspector,
  ClamdScanner,
  FsStorage,
  ScanPolicy,
  type AttachmentLimits,
} from '../src/index';
import { EICAR, startFakeClamd, type FakeClamd } from '@topicdesk/testkit';
import { executable, jpegWithGps, oggOpus, PDF } from '@topicdesk/testkit';

const limits: AttachmentLimits = {
  maxFileBytes: 1_000_000,
  maxConversationBytes: 5_000_000,
  allowedTypes: ['image/jpeg', 'image/png', 'application/pdf', 'text/plain'],
  agentAllowedTypes: ['image/jpeg', 'application/pdf', 'audio/ogg'],
  maxImagePixels: 10_000,
};

let root: string;
let storage: FsStorage;
let clamd: FakeClamd;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'topicdesk-inspect-'));
  storage = new FsStorage({ root, publicUrl: 'http://gateway.test', secret: 'x'.repeat(32) });
  clamd = await startFakeClamd();
});
afterAll(async () => {
  await clamd.stop();
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function upload(body: Buffer) {
  const id = `f${++n}`;
  await storage.write(`uploads/${id}`, body, 'application/octet-stream');
  return { uploadKey: `uploads/${id}`, storedKey: `files/${id}`, declaredSize: body.length };
}

describe('AttachmentInspector', () => {
  const scanned = () =>
    new AttachmentInspector(storage, limits, new ClamdScanner(clamd.url), ScanPolicy.required);

  it('re-encodes a photo: same pixels, no EXIF, so its GPS position is gone', async () => {
    const photo = await jpegWithGps();
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    const input = await upload(photo);
    const file = await scanned().inspect({ ...input, declaredType: 'image/jpeg' });
    expect(file).toMatchObject({ type: 'image/jpeg', width: 64, height: 48 });
    const stored = await sharp(await read(input.storedKey)).metadata();
    expect(stored.exif).toBeUndefined();
    expect(stored.width).toBe(64);
  });

  it('takes a PDF as it is after the scan', async () => {
    const scans = clamd.scans();
    const input = await upload(PDF);
    const file = await scanned().inspect({ ...input, declaredType: 'application/pdf' });
    expect(file).toEqual({ type: 'application/pdf', size: PDF.length });
    expect(await read(input.storedKey)).toEqual(PDF);
    expect(clamd.scans()).toBe(scans + 1);
  });

  it('checks an agent’s file against the types given: a voice note passes as audio/ogg, not as a visitor’s', async () => {
    const voice = await upload(oggOpus());
    const file = await scanned().inspect({
      ...voice,
      declaredType: 'audio/ogg',
      allowedTypes: limits.agentAllowedTypes,
    });
    expect(file).toEqual({ type: 'audio/ogg', size: oggOpus().length });
    const again = await upload(oggOpus());
    await expect(scanned().inspect({ ...again, declaredType: 'audio/ogg' })).rejects.toMatchObject({
      code: 'ATTACHMENT_TYPE_NOT_ALLOWED',
    });
  });

  it('refuses the EICAR file as infected', async () => {
    const input = await upload(EICAR);
    await expect(scanned().inspect({ ...input, declaredType: 'text/plain' })).rejects.toMatchObject(
      {
        code: 'ATTACHMENT_INFECTED',
      },
    );
    expect(await storage.size(input.storedKey)).toBeUndefined();
  });

  it('refuses an executable renamed and declared as a PDF, by its bytes', async () => {
    const input = await upload(executable());
    await expect(
      scanned().inspect({ ...input, declaredType: 'application/pdf' }),
    ).rejects.toMatchObject({
      code: 'ATTACHMENT_TYPE_NOT_ALLOWED',
    });
  });

  it('refuses more bytes than were declared, and an image over the pixel limit', async () => {
    const input = await upload(PDF);
    await expect(
      scanned().inspect({ ...input, declaredSize: 10, declaredType: 'application/pdf' }),
    ).rejects.toMatchObject({ code: 'ATTACHMENT_TOO_LARGE' });
    const big = await sharp({
      create: { width: 200, height: 200, channels: 3, background: '#000' },
    })
      .png()
      .toBuffer();
    const image = await upload(big);
    await expect(scanned().inspect({ ...image, declaredType: 'image/png' })).rejects.toMatchObject({
      code: 'ATTACHMENT_INVALID',
    });
  });

  it('says ATTACHMENT_NOT_FOUND when nothing was uploaded', async () => {
    await expect(
      scanned().inspect({
        uploadKey: 'uploads/none',
        storedKey: 'files/none',
        declaredSize: 5,
        declaredType: 'text/plain',
      }),
    ).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
  });

  it('without a scanner: required refuses, optional lets a clean file through', async () => {
    const input = await upload(Buffer.from('just some text\n'));
    const none = (policy: ScanPolicy) =>
      new AttachmentInspector(storage, limits, undefined, policy);
    await expect(
      none(ScanPolicy.required).inspect({ ...input, declaredType: 'text/plain' }),
    ).rejects.toMatchObject({
      code: 'ATTACHMENT_SCAN_UNAVAILABLE',
    });
    expect(
      await none(ScanPolicy.optional).inspect({ ...input, declaredType: 'text/plain' }),
    ).toEqual({
      type: 'text/plain',
      size: 15,
    });
  });

  it('with a scanner that does not answer: required refuses with ATTACHMENT_SCAN_UNAVAILABLE', async () => {
    const input = await upload(PDF);
    const down = new AttachmentInspector(
      storage,
      limits,
      new ClamdScanner('tcp://127.0.0.1:1'),
      ScanPolicy.required,
    );
    await expect(down.inspect({ ...input, declaredType: 'application/pdf' })).rejects.toMatchObject(
      {
        code: 'ATTACHMENT_SCAN_UNAVAILABLE',
      },
    );
  });
});

async function read(key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
