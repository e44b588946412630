import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachmentService, uploadKey, type ConversationService } from '@topicdesk/core';
import { createAttachmentRuntime, type AttachmentRuntime } from '@topicdesk/storage';
import type { RunningSandbox } from '@topicdesk/telegram-sandbox';
import { jpegWithGps, PDF } from '@topicdesk/testkit';
import { GROUP, startBridgeUnderTest, TENANT, type BridgeUnderTest } from './bridge-under-test';

const TOKEN = '200000001:files-test';

// Issue 17: a visitor's files reach the topic as a photo and a document under the visitor's
// caption, in the conversation's order, never merged into the texts around them.
describe('visitor files in the topic', () => {
  let under: BridgeUnderTest;
  let sandbox: RunningSandbox;
  let service: ConversationService;
  let attachments: AttachmentService;
  let files: AttachmentRuntime;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'topicdesk-bridge-files-'));
    under = await startBridgeUnderTest({
      name: 'files',
      token: TOKEN,
      dataDir,
      env: { ATTACHMENTS_SCAN: 'optional' },
    });
    ({ sandbox, service } = under);
    // The gateway's side of it: the same storage, signing links.
    files = createAttachmentRuntime(under.config, { dataDir, port: 0, secret: 'x'.repeat(32) });
    attachments = new AttachmentService({
      uow: under.uow,
      ...files,
      urlTtlMs: 60_000,
      logger: under.logger,
    });
  });

  afterAll(async () => {
    await under?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** What the widget does: a link, the bytes through it, then the checks. */
  async function attach(conversationId: string, name: string, type: string, bytes: Buffer) {
    const ticket = await attachments.requestUpload(TENANT, conversationId, {
      name,
      type,
      size: bytes.length,
    });
    await files.storage.write(
      uploadKey({ conversation_id: conversationId, id: ticket.id }),
      bytes,
      type,
    );
    return ticket.id;
  }

  it('posts a photo with the caption and a document, between the texts, each on its own', async () => {
    const c = await service.start({ tenantId: TENANT, channel: 'web' });
    const post = (clientId: string, text: string) =>
      service.postVisitorMessage({ tenantId: TENANT, conversationId: c.id, clientId, text });
    await post('t1', 'Hello, a screenshot follows');
    const ids = [
      await attach(c.id, 'screen.jpg', 'image/jpeg', await jpegWithGps()),
      await attach(c.id, 'invoice.pdf', 'application/pdf', PDF),
    ];
    const checked = await attachments.prepare(TENANT, c.id, ids);
    await service.postVisitorMessage({
      tenantId: TENANT,
      conversationId: c.id,
      clientId: 'f1',
      text: 'here it is',
      attachments: checked,
    });
    await post('t2', 'and one more thing');

    const inTopic = () =>
      sandbox.state
        .messages({ chatId: GROUP })
        .filter((m) => m.threadId !== null && !m.service && m.fromBot);
    await sandbox.state.waitFor(
      () => inTopic().some((m) => m.text?.includes('one more thing')),
      15_000,
    );
    const shown = inTopic().map((m) => ({
      text: m.text,
      caption: m.caption,
      media: m.media?.kind ?? null,
    }));
    const photoAt = shown.findIndex((m) => m.media === 'photo');
    expect(shown[photoAt]).toEqual({ text: null, caption: 'here it is', media: 'photo' });
    expect(shown[photoAt + 1]).toEqual({ text: null, caption: null, media: 'document' });
    expect(shown.slice(0, photoAt).some((m) => m.text?.includes('a screenshot follows'))).toBe(
      true,
    );
    expect(shown[photoAt + 2]?.text).toContain('and one more thing');
    expect(shown.some((m) => m.text?.includes('here it is'))).toBe(false);

    const photo = inTopic()[photoAt]!.media!;
    expect(photo).toMatchObject({ width: 64, height: 48 });
    const doc = inTopic()[photoAt + 1]!.media!;
    expect(doc).toMatchObject({ name: 'invoice.pdf', size: PDF.length });
    // Delivered: the visitor's message is no longer pending.
    const history = await service.history(TENANT, c.id, 0, 100);
    expect(history.find((m) => m.client_id === 'f1')?.delivery).toBe('delivered');
  });
  it('sends a first message with files as itself, not under the header (the header carries texts only)', async () => {
    const c = await service.start({ tenantId: TENANT, channel: 'web' });
    // Stored before the bridge gets to the header (it creates the topic first): the header's
    // turn finds the message pending, and must leave it to the files step.
    const checked = await attachments.prepare(TENANT, c.id, [
      await attach(c.id, 'first.pdf', 'application/pdf', PDF),
    ]);
    await service.postVisitorMessage({
      tenantId: TENANT,
      conversationId: c.id,
      clientId: 'first',
      text: 'my first words, with a file',
      attachments: checked,
    });
    await service.postVisitorMessage({
      tenantId: TENANT,
      conversationId: c.id,
      clientId: 'second',
      text: 'and a text after it',
    });

    const topic = await sandbox.state.waitFor(
      () => sandbox.state.topics(GROUP).find((t) => t.name.includes(c.ticket)),
      15_000,
    );
    const thread = () =>
      sandbox.state
        .messages({ chatId: GROUP, threadId: topic.threadId })
        .filter((m) => !m.service && m.fromBot);
    await sandbox.state.waitFor(
      () =>
        thread().some((m) => m.media) && thread().some((m) => m.text?.includes('a text after it')),
      15_000,
    );
    const shown = thread();
    const header = shown[0]!;
    expect(header.text).toContain(c.ticket);
    expect(header.text).not.toContain('my first words');
    const file = shown.find((m) => m.media)!;
    expect(file).toMatchObject({ caption: 'my first words, with a file' });
    expect(file.media).toMatchObject({ kind: 'document', name: 'first.pdf' });
    // The text after the file comes after it.
    expect(shown.indexOf(file)).toBeLessThan(
      shown.findIndex((m) => m.text?.includes('a text after it')),
    );
  });
});
