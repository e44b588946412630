import { DEFAULT_TENANT_ID } from '@topicdesk/data';
import type { FsStorage } from '@topicdesk/storage';
import { PDF } from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataRequests,
  Ratings,
  storedKey,
  uploadKey,
  type AttachmentService,
  type ConversationService,
} from '../src/index';
import { attachmentsFixture, type AttachmentsFixture } from './support/attachments-fixture';
import type { UnitOfWorkFixture } from './unit-of-work-fixture';

const tenantId = DEFAULT_TENANT_ID;
const admin = { type: 'admin', id: 'service-token' } as const;

// Issue 15: a data-subject export lists a conversation's files with download links; an erasure
// deletes their bytes and rows, the rating's comment and the visitor's fields in one unit of
// work, and tells the bridge what to do with the topic.
describe('data-subject requests over files, ratings and topics', () => {
  let files: AttachmentsFixture;
  let fixture: UnitOfWorkFixture;
  let storage: FsStorage;
  let attachments: AttachmentService;
  let conversations: ConversationService;
  let requests: DataRequests;

  beforeAll(async () => {
    files = await attachmentsFixture('core_dsar');
    ({ fixture, storage, attachments, conversations } = files);
    requests = new DataRequests(fixture.uow, { files: attachments });
  });

  afterAll(async () => {
    await files?.close();
  });

  /** A closed, rated conversation with a visitor's PDF, in a topic. */
  async function withFile() {
    const c = await conversations.start({
      tenantId,
      channel: 'web',
      visitorName: 'Greta',
      pageUrl: 'https://shop.example/a',
    });
    const ref = await files.sendPdf(c.id, 'passport.pdf', { clientId: 'm1', text: 'my passport' });
    await fixture.uow.db
      .updateTable('conversations')
      .set({ topic_id: 42, status: 'closed', closed_at: new Date() })
      .where('id', '=', c.id)
      .execute();
    await new Ratings(fixture.uow).rate({
      tenantId,
      conversationId: c.id,
      score: 2,
      comment: 'Greta was not helped',
    });
    return { conversation: c, ref };
  }

  it('exports the files with short-lived links, then erases their bytes, rows and the comment', async () => {
    const { conversation, ref } = await withFile();
    const view = await requests.export(tenantId, conversation.ticket, admin, 'json');
    expect(view.attachments).toEqual([
      expect.objectContaining({
        id: ref.id,
        name: 'passport.pdf',
        state: 'ready',
        type: 'application/pdf',
        messageSeq: 1,
        url: expect.stringContaining('http://gateway.test/'),
        urlExpiresAt: expect.any(String),
      }),
    ]);
    expect(view.rating).toMatchObject({ score: 2, comment: 'Greta was not helped' });
    expect(await storage.size(storedKey(ref))).toBe(PDF.length);

    const published = fixture.published.length;
    const result = await requests.erase(tenantId, conversation.id, admin, 'keep');
    expect(result.erasedNow).toBe(true);
    expect(await storage.size(storedKey(ref))).toBeUndefined();
    expect(await storage.size(uploadKey(ref))).toBeUndefined();
    const files = await fixture.uow.db
      .selectFrom('attachments')
      .select('id')
      .where('conversation_id', '=', conversation.id)
      .execute();
    expect(files).toEqual([]);
    const rating = await fixture.uow.db
      .selectFrom('conversation_ratings')
      .selectAll()
      .where('conversation_id', '=', conversation.id)
      .executeTakeFirstOrThrow();
    expect(rating).toMatchObject({ score: 2, comment: null });
    // Kept topic: a post says the data was erased, and the bridge is asked to sync.
    const posts = await fixture.uow.db
      .selectFrom('telegram_posts')
      .select('text')
      .where('conversation_id', '=', conversation.id)
      .execute();
    expect(posts.map((p) => p.text)).toEqual([
      expect.stringContaining(`${conversation.ticket} was erased on`),
    ]);
    const topicsAsked = fixture.published.slice(published).map((row) => row.topic);
    expect(topicsAsked).toContain('conversationSync');
    expect(topicsAsked).not.toContain('topicRemoval');
  });

  it('erases once when two requests come at the same time: both answer the same tombstone', async () => {
    const { conversation } = await withFile();
    const results = await Promise.all([
      requests.erase(tenantId, conversation.id, admin, 'keep'),
      requests.erase(tenantId, conversation.ticket, admin, 'delete'),
    ]);
    expect(results.map((r) => r.erasedNow).sort()).toEqual([false, true]);
    expect(results[0].tombstone).toEqual(results[1].tombstone);
    const audits = await fixture.uow.db
      .selectFrom('audit_log')
      .select('action')
      .where('conversation_id', '=', conversation.id)
      .where('action', '=', 'data.erase')
      .execute();
    expect(audits).toHaveLength(1);
  });

  it('asks the bridge to delete the topic under `delete`, and forgets the topic', async () => {
    const { conversation } = await withFile();
    const published = fixture.published.length;
    await requests.erase(tenantId, conversation.ticket, admin, 'delete');
    const removal = fixture.published
      .slice(published)
      .filter((row) => row.topic === 'topicRemoval');
    expect(removal.map((row) => row.payload)).toEqual([
      expect.objectContaining({ conversationId: conversation.id, topicId: '42' }),
    ]);
    const row = await fixture.uow.db
      .selectFrom('conversations')
      .select(['topic_id', 'erased_at', 'token_generation'])
      .where('id', '=', conversation.id)
      .executeTakeFirstOrThrow();
    expect(row.topic_id).toBeNull();
    expect(row.erased_at).toBeInstanceOf(Date);
    expect(row.token_generation).toBe(conversation.token_generation + 1);
    // An agent's /reopen cannot bring it back: it stays closed for good.
    const reopened = await fixture.uow.run((work) =>
      conversations.reopen(work, {
        tenantId,
        conversationId: conversation.id,
        actor: { type: 'agent', id: '7001' },
      }),
    );
    expect(reopened).toBe(false);
  });
});
