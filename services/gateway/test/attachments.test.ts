import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryPage, UploadTicket } from '@topicdesk/protocol';
import {
  EICAR,
  executable,
  freePort,
  jpegWithGps,
  PDF,
  startFakeClamd,
  startTestS3,
  type FakeClamd,
  type TestS3,
} from '@topicdesk/testkit';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectVisitor, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

const URL_TTL_MS = 3_000;

const connect = connectVisitor;

// Issue 17: visitor → agents, through each storage backend, with a clamd on loopback.
describe.each(['filesystem', 'S3'] as const)('attachments (%s storage)', (backend) => {
  let gateway: GatewayUnderTest;
  let url: string;
  let clamd: FakeClamd;
  let s3: TestS3 | undefined;
  let dataDir: string;

  beforeAll(async () => {
    clamd = await startFakeClamd();
    dataDir = await mkdtemp(join(tmpdir(), 'topicdesk-gw-files-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    if (backend === 'S3') s3 = await startTestS3();
    gateway = await startGatewayUnderTest({
      namespace: `gateway-attachments-${backend}`,
      env: {
        DATA_DIR: dataDir,
        PUBLIC_URL: url,
        CLAMAV_URL: clamd.url,
        ATTACHMENTS_SCAN: 'required',
        LIMIT_CONVERSATIONS_PER_DAY: '100',
        ATTACHMENTS_MAX_FILE_BYTES: '200000',
        ATTACHMENTS_MAX_CONVERSATION_BYTES: '400000',
        ATTACHMENTS_URL_TTL: `${URL_TTL_MS}ms`,
        ...(s3?.env ?? {}),
      },
    });
    await gateway.app.listen({ port, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await gateway?.close();
    await s3?.stop();
    await clamd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start() {
    const res = await fetch(`${url}/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    return (await res.json()) as { conversationId: string; token: string };
  }

  async function requestUpload(
    c: { conversationId: string; token: string },
    file: { name: string; type: string; size: number },
  ) {
    return fetch(`${url}/v1/conversations/${c.conversationId}/attachments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` },
      body: JSON.stringify(file),
    });
  }

  /** Asks for a link and uploads the bytes through it, as the widget does. */
  async function upload(
    c: { conversationId: string; token: string },
    name: string,
    type: string,
    body: Buffer,
  ) {
    const res = await requestUpload(c, { name, type, size: body.length });
    expect(res.status).toBe(201);
    const ticket = (await res.json()) as UploadTicket;
    const put = await fetch(ticket.uploadUrl, {
      method: ticket.method,
      headers: ticket.headers,
      body: new Uint8Array(body),
    });
    expect(put.status).toBe(200);
    return ticket;
  }

  async function history(c: { conversationId: string; token: string }) {
    const res = await fetch(`${url}/v1/conversations/${c.conversationId}/messages`, {
      headers: { authorization: `Bearer ${c.token}` },
    });
    return (await res.json()) as HistoryPage;
  }

  it('carries a photo and a PDF with a caption: checked, EXIF gone, in history with signed links', async () => {
    const c = await start();
    const photo = await jpegWithGps();
    const image = await upload(c, 'holiday.jpg', 'image/jpeg', photo);
    const pdf = await upload(c, 'invoice.pdf', 'application/pdf', PDF);
    const socket = await connect(url, c.token);
    await socket.next('status');
    socket.ws.send(
      JSON.stringify({
        type: 'message',
        clientId: 'm1',
        text: 'see these',
        attachments: [image.id, pdf.id],
      }),
    );
    expect(await socket.next('ack', 'error')).toMatchObject({
      type: 'ack',
      clientId: 'm1',
      seq: 1,
    });
    socket.ws.close();

    const page = await history(c);
    const sent = page.messages.find((m) => m.seq === 1)!;
    expect(sent.text).toBe('see these');
    expect(sent.attachments).toHaveLength(2);
    const [img, doc] = sent.attachments!;
    expect(img).toMatchObject({
      id: image.id,
      name: 'holiday.jpg',
      type: 'image/jpeg',
      width: 64,
      height: 48,
    });
    expect(doc).toMatchObject({
      id: pdf.id,
      name: 'invoice.pdf',
      type: 'application/pdf',
      size: PDF.length,
    });
    expect(Date.parse(img!.urlExpiresAt)).toBeGreaterThan(Date.now());

    const shown = Buffer.from(await (await fetch(img!.url)).arrayBuffer());
    const meta = await sharp(shown).metadata();
    expect(meta.width).toBe(64);
    expect(meta.exif).toBeUndefined();
    expect(Buffer.from(await (await fetch(doc!.url)).arrayBuffer())).toEqual(PDF);
  });

  it('refuses the EICAR file with ATTACHMENT_INFECTED and stores no message', async () => {
    const c = await start();
    const bad = await upload(c, 'notes.txt', 'text/plain', EICAR);
    const socket = await connect(url, c.token);
    await socket.next('status');
    socket.ws.send(
      JSON.stringify({ type: 'message', clientId: 'v1', text: '', attachments: [bad.id] }),
    );
    expect(await socket.next('ack', 'error')).toMatchObject({
      type: 'error',
      code: 'ATTACHMENT_INFECTED',
      clientId: 'v1',
    });
    // Refused for good: sending it again gets the same code, and nothing is in the history.
    socket.ws.send(
      JSON.stringify({ type: 'message', clientId: 'v2', text: 'again', attachments: [bad.id] }),
    );
    expect(await socket.next('ack', 'error')).toMatchObject({ code: 'ATTACHMENT_INFECTED' });
    socket.ws.close();
    expect((await history(c)).messages).toEqual([]);
  });

  it('refuses a renamed executable by its bytes', async () => {
    const c = await start();
    const exe = await upload(c, 'invoice.pdf', 'application/pdf', executable());
    const socket = await connect(url, c.token);
    await socket.next('status');
    socket.ws.send(
      JSON.stringify({ type: 'message', clientId: 'x', text: 'invoice', attachments: [exe.id] }),
    );
    expect(await socket.next('ack', 'error')).toMatchObject({
      code: 'ATTACHMENT_TYPE_NOT_ALLOWED',
    });
    socket.ws.close();
    expect((await history(c)).messages).toEqual([]);
  });

  it('refuses oversized files, a type not allowed and a file over the conversation total before any byte moves', async () => {
    const c = await start();
    const big = await requestUpload(c, { name: 'big.pdf', type: 'application/pdf', size: 200_001 });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'ATTACHMENT_TOO_LARGE' } });
    const exe = await requestUpload(c, {
      name: 'a.exe',
      type: 'application/x-msdownload',
      size: 10,
    });
    expect(exe.status).toBe(415);
    expect(await exe.json()).toMatchObject({ error: { code: 'ATTACHMENT_TYPE_NOT_ALLOWED' } });
    expect(
      (await requestUpload(c, { name: 'a.pdf', type: 'application/pdf', size: 200_000 })).status,
    ).toBe(201);
    expect(
      (await requestUpload(c, { name: 'b.pdf', type: 'application/pdf', size: 200_000 })).status,
    ).toBe(201);
    const over = await requestUpload(c, { name: 'c.pdf', type: 'application/pdf', size: 1 });
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ error: { code: 'ATTACHMENT_TOTAL_EXCEEDED' } });
  });

  it("refuses another conversation's attachment and a file never uploaded", async () => {
    const a = await start();
    const b = await start();
    const theirs = await upload(a, 'a.pdf', 'application/pdf', PDF);
    const res = await requestUpload(b, {
      name: 'b.pdf',
      type: 'application/pdf',
      size: PDF.length,
    });
    const never = (await res.json()) as UploadTicket;
    const socket = await connect(url, b.token);
    await socket.next('status');
    socket.ws.send(
      JSON.stringify({ type: 'message', clientId: 'o', text: 'x', attachments: [theirs.id] }),
    );
    expect(await socket.next('ack', 'error')).toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
    socket.ws.send(
      JSON.stringify({ type: 'message', clientId: 'n', text: 'x', attachments: [never.id] }),
    );
    expect(await socket.next('ack', 'error')).toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
    socket.ws.close();
  });

  it('refuses an upload link used after it expired, and keeps nothing', async () => {
    const c = await start();
    const res = await requestUpload(c, {
      name: 'late.pdf',
      type: 'application/pdf',
      size: PDF.length,
    });
    const ticket = (await res.json()) as UploadTicket;
    await new Promise((r) => setTimeout(r, URL_TTL_MS + 1_100));
    const put = await fetch(ticket.uploadUrl, {
      method: 'PUT',
      headers: ticket.headers,
      body: new Uint8Array(PDF),
    });
    expect(put.status).toBe(403);
    if (backend === 'filesystem')
      expect(await put.json()).toMatchObject({ error: { code: 'ATTACHMENT_URL_EXPIRED' } });
    const socket = await connect(url, c.token);
    await socket.next('status');
    socket.ws.send(
      JSON.stringify({ type: 'message', clientId: 'l', text: '', attachments: [ticket.id] }),
    );
    expect(await socket.next('ack', 'error')).toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
    socket.ws.close();
  });
});
