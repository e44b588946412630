import { DEFAULT_TENANT_ID } from '@topicdesk/data';
import type { FsStorage } from '@topicdesk/storage';
import { PDF } from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Housekeeping,
  storedKey,
  uploadKey,
  type AttachmentService,
  type ConversationService,
} from '../src/index';
import { attachmentsFixture, type AttachmentsFixture } from './support/attachments-fixture';
import type { UnitOfWorkFixture } from './unit-of-work-fixture';

// Issue 17, lifecycle: uploads no message took are swept with their bytes; files a message
// carries stay until their conversation is purged by retention, then go with it.
describe('the orphan sweep of attachments', () => {
  let files: AttachmentsFixture;
  let fixture: UnitOfWorkFixture;
  let storage: FsStorage;
  let attachments: AttachmentService;
  let conversations: ConversationService;

  beforeAll(async () => {
    files = await attachmentsFixture('core_orphans');
    ({ fixture, storage, attachments, conversations } = files);
  });

  afterAll(async () => {
    await files?.close();
  });

  it('deletes uploads never sent and refused files, rows and bytes, and keeps what a message carries', async () => {
    const tenantId = DEFAULT_TENANT_ID;
    const c = await conversations.start({ tenantId, channel: 'web' });
    const uploaded = async (bytes: Buffer) => {
      const ticket = await attachments.requestUpload(tenantId, c.id, {
        name: 'a.pdf',
        type: 'application/pdf',
        size: bytes.length,
      });
      const ref = { conversation_id: c.id, id: ticket.id };
      await storage.write(uploadKey(ref), bytes);
      return ref;
    };
    const sent = await uploaded(PDF);
    const [file] = await attachments.prepare(tenantId, c.id, [sent.id]);
    await conversations.postVisitorMessage({
      tenantId,
      conversationId: c.id,
      clientId: 'm',
      text: '',
      attachments: [file!],
    });
    const checkedOnly = await uploaded(PDF);
    await attachments.prepare(tenantId, c.id, [checkedOnly.id]);
    const neverSent = await uploaded(PDF);

    // Nothing is old enough yet.
    expect(await attachments.sweepOrphans(new Date(Date.now() - 60_000))).toBe(0);
    expect(await attachments.sweepOrphans(new Date(Date.now() + 1_000))).toBe(2);
    expect(await storage.size(uploadKey(neverSent))).toBeUndefined();
    expect(await storage.size(storedKey(checkedOnly))).toBeUndefined();
    expect(await storage.size(storedKey(sent))).toBe(PDF.length);
    const [message] = await attachments.withAttachments(
      await conversations
        .history(DEFAULT_TENANT_ID, c.id, 0, 10)
        .then((m) => m.filter((x) => x.kind === 'visitor')),
    );
    expect(message?.attachments?.map((a) => a.id)).toEqual([sent.id]);
  });
  it("deletes the bytes of a purged conversation's files with it, and keeps the conversation while a delete fails", async () => {
    const tenantId = DEFAULT_TENANT_ID;
    const c = await conversations.start({ tenantId, channel: 'web' });
    const ref = await files.sendPdf(c.id, 'kept.pdf', { clientId: 'kept', text: 'a file' });
    expect(await storage.size(storedKey(ref))).toBe(PDF.length);
    const later = new Date(Date.now() + 3_600_000);
    const housekeeping = new Housekeeping(fixture.uow, 10, attachments);
    await housekeeping.closeIdle(later);
    const stillThere = async () =>
      (
        await fixture.uow.db
          .selectFrom('conversations')
          .select('id')
          .where('id', '=', c.id)
          .execute()
      ).length;

    // Storage refusing deletes: nothing is purged (the rows still name the bytes).
    const failing = new Housekeeping(fixture.uow, 10, {
      eraseFilesOf: () => Promise.reject(new Error('storage is down')),
    });
    await expect(failing.purgeClosed({ now: later, retentionMs: 0 }, 'keep')).rejects.toThrow(
      'storage is down',
    );
    expect(await stillThere()).toBe(1);
    // Without a storage to delete from, a conversation with files is not purged either.
    await expect(
      new Housekeeping(fixture.uow, 10).purgeClosed({ now: later, retentionMs: 0 }, 'keep'),
    ).rejects.toThrow(/files and no storage/);
    expect(await stillThere()).toBe(1);

    expect(
      await housekeeping.purgeClosed({ now: later, retentionMs: 0 }, 'keep'),
    ).toBeGreaterThanOrEqual(1);
    expect(await stillThere()).toBe(0);
    expect(await storage.size(storedKey(ref))).toBeUndefined();
    const audit = await fixture.uow.db
      .selectFrom('audit_log')
      .select('details')
      .where('conversation_id', '=', c.id)
      .where('action', '=', 'conversation.purge')
      .executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ files: 1 });
  });
});
