import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttachmentService,
  type Conversation,
  type ConversationService,
  type MessageWithFiles,
} from '@topicdesk/core';
import { createAttachmentRuntime } from '@topicdesk/storage';
import type { InjectedMedia, RunningSandbox } from '@topicdesk/telegram-sandbox';
import { executable, jpegWithGps, oggOpus, PDF } from '@topicdesk/testkit';
import { GROUP, startBridgeUnderTest, TENANT, type BridgeUnderTest } from './bridge-under-test';

const TOKEN = '200000001:agent-files-test';
const ALICE = { id: 7001, first_name: 'Alice' };
const MAX_FILE_BYTES = 300_000;

// Issue 17: a photo, document or voice note an agent posts in the topic reaches the visitor:
// the bridge takes the largest photo size, calls getFile, downloads the file from the Bot API's
// file URL and hands it to core's checks; refused files are explained in the topic.
describe('agents’ files from the topic', () => {
  let under: BridgeUnderTest;
  let sandbox: RunningSandbox;
  let service: ConversationService;
  let attachments: AttachmentService;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'topicdesk-bridge-agent-files-'));
    under = await startBridgeUnderTest({
      name: 'agent_files',
      token: TOKEN,
      dataDir,
      env: { ATTACHMENTS_SCAN: 'optional', ATTACHMENTS_MAX_FILE_BYTES: String(MAX_FILE_BYTES) },
    });
    ({ sandbox, service } = under);
    // The gateway's side: the same storage, signing links for the history.
    attachments = new AttachmentService({
      uow: under.uow,
      ...createAttachmentRuntime(under.config, { dataDir, port: 0, secret: 'x'.repeat(32) }),
      urlTtlMs: 60_000,
      logger: under.logger,
    });
  });

  afterAll(async () => {
    await under?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function until<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000) {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      const value = await check();
      if (value) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`condition not met within ${timeoutMs} ms`);
  }

  async function conversationWithTopic(): Promise<{ c: Conversation; topicId: number }> {
    const c = await service.start({ tenantId: TENANT, channel: 'web' });
    await service.postVisitorMessage({
      tenantId: TENANT,
      conversationId: c.id,
      clientId: `${c.id}-1`,
      text: 'Can you show me?',
    });
    const topicId = await until(async () => (await service.find(TENANT, c.id))?.topic_id);
    return { c, topicId: Number(topicId) };
  }

  const post = (topicId: number, media: InjectedMedia, caption = '') =>
    sandbox.state.injectMessage({
      chatId: GROUP,
      messageThreadId: topicId,
      text: caption,
      from: ALICE,
      media,
    });

  /** The agent messages of the conversation with their files, as the history shows them. */
  const agentMessages = async (c: Conversation): Promise<MessageWithFiles[]> =>
    (await attachments.withAttachments(await service.history(TENANT, c.id, 0, 100))).filter(
      (m) => m.kind === 'agent',
    );

  /** The bot's answers in the topic. */
  const botPosts = (topicId: number) =>
    sandbox.state
      .messages({ chatId: GROUP, threadId: topicId, fromBot: true })
      .map((m) => m.text ?? '');

  it('relays a photo (its largest size, re-encoded without EXIF) under its caption, and a PDF', async () => {
    const { c, topicId } = await conversationWithTopic();
    const small = await jpegWithGps(90, 60);
    const large = await jpegWithGps(640, 480);
    const photo = post(topicId, { kind: 'photo', sizes: [small, large] }, 'This screen');
    const doc = post(topicId, {
      kind: 'document',
      bytes: PDF,
      fileName: 'offer.pdf',
      mimeType: 'application/pdf',
    });

    const [withPhoto, withDoc] = await until(async () => {
      const found = await agentMessages(c);
      return found.length === 2 ? found : undefined;
    });
    // getFile asked for the largest size only.
    const asked = sandbox.state.calls({ method: 'getFile' }).map((call) => call.params['file_id']);
    expect(asked).toContain(photo.photo?.[1]?.file_id);
    expect(asked).not.toContain(photo.photo?.[0]?.file_id);
    expect(asked).toContain(doc.document?.file_id);

    expect(withPhoto).toMatchObject({ text: 'This screen', author_name: 'Support' });
    expect(withPhoto?.attachments).toEqual([
      expect.objectContaining({ type: 'image/jpeg', width: 640, height: 480 }),
    ]);
    const [image] = withPhoto!.attachments!;
    expect(image!.name).toMatch(/^photo-\d{4}-\d{2}-\d{2}\.jpg$/);
    expect(image!.url).toContain('/v1/files?t=');
    const stored = await streamBytes(
      await attachments.open({ conversation_id: c.id, id: image!.id }),
    );
    const meta = await sharp(stored).metadata();
    expect([meta.width, meta.height, meta.exif]).toEqual([640, 480, undefined]);

    expect(withDoc).toMatchObject({ text: '' });
    expect(withDoc?.attachments).toEqual([
      expect.objectContaining({ name: 'offer.pdf', type: 'application/pdf', size: PDF.length }),
    ]);
    expect(withDoc?.attachments?.[0]).not.toHaveProperty('width');
  });

  it('relays a voice note as audio/ogg', async () => {
    const { c, topicId } = await conversationWithTopic();
    post(topicId, { kind: 'voice', bytes: oggOpus(), duration: 2 });
    const [voice] = await until(async () => (await agentMessages(c))[0]?.attachments);
    expect(voice).toMatchObject({ type: 'audio/ogg', size: oggOpus().length });
    expect(voice!.name).toMatch(/^voice-.*\.ogg$/);
  });

  it('tells the agents, with a stable code, when a file is too large or of a type not allowed; the visitor gets nothing', async () => {
    const { c, topicId } = await conversationWithTopic();
    const gettingFiles = sandbox.state.calls({ method: 'getFile' }).length;
    post(topicId, {
      kind: 'document',
      bytes: Buffer.concat([PDF, Buffer.alloc(MAX_FILE_BYTES)]),
      fileName: 'huge.pdf',
      mimeType: 'application/pdf',
    });
    post(topicId, {
      kind: 'document',
      bytes: executable(),
      fileName: 'invoice.pdf',
      mimeType: 'application/pdf',
    });
    await until(async () =>
      botPosts(topicId).some((t) => t.includes('ATTACHMENT_TYPE_NOT_ALLOWED')),
    );
    const told = botPosts(topicId).filter((t) => t.startsWith('This file did not reach'));
    expect(told).toEqual([
      'This file did not reach the visitor: it is larger than 293 KB (ATTACHMENT_TOO_LARGE).',
      'This file did not reach the visitor: files of this type are not allowed (ATTACHMENT_TYPE_NOT_ALLOWED).',
    ]);
    // The size was known from the update: no download was tried for the large one.
    expect(sandbox.state.calls({ method: 'getFile' }).length - gettingFiles).toBe(1);
    expect(await agentMessages(c)).toEqual([]);
  });

  it('follows an edited caption', async () => {
    const { c, topicId } = await conversationWithTopic();
    const sent = post(
      topicId,
      { kind: 'document', bytes: PDF, fileName: 'a.pdf', mimeType: 'application/pdf' },
      'v1',
    );
    await until(async () => (await agentMessages(c))[0]);
    // Telegram sends an edited caption as edited_message with `caption` (no `text`).
    const edited = sandbox.state.editUserMessage({
      chatId: GROUP,
      messageId: sent.message_id,
      text: 'v2',
    });
    expect([edited.caption, edited.text]).toEqual(['v2', undefined]);
    await until(async () => (await agentMessages(c))[0]?.text === 'v2');
    expect((await agentMessages(c))[0]?.attachments).toHaveLength(1);
  });
});

async function streamBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
