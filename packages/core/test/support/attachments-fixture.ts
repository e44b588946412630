import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachmentInspector,
  FsStorage,
  ScanPolicy,
  type AttachmentLimits,
} from '@topicdesk/storage';
import { createLogger } from '@topicdesk/telemetry';
import { DEFAULT_TENANT_ID } from '@topicdesk/data';
import { PDF } from '@topicdesk/testkit';
import { AttachmentService, ConversationService, uploadKey } from '../../src/index';
import { unitOfWorkFixture, type UnitOfWorkFixture } from '../unit-of-work-fixture';

/** PDFs only, small: what the attachment suites upload. */
export const PDF_LIMITS: AttachmentLimits = {
  maxFileBytes: 100_000,
  maxConversationBytes: 1_000_000,
  allowedTypes: ['application/pdf'],
  agentAllowedTypes: ['application/pdf'],
  maxImagePixels: 1_000_000,
};

export interface AttachmentsFixture {
  fixture: UnitOfWorkFixture;
  storage: FsStorage;
  attachments: AttachmentService;
  conversations: ConversationService;
  /** A visitor's message carrying a PDF named `name` (uploaded, checked, sent); its file. */
  sendPdf(
    conversationId: string,
    name: string,
    message: { clientId: string; text: string },
  ): Promise<{ conversation_id: string; id: string }>;
  close(): Promise<void>;
}

/** A database of its own and attachments stored under a temporary folder (no scanner). */
export async function attachmentsFixture(prefix: string): Promise<AttachmentsFixture> {
  const fixture = await unitOfWorkFixture(prefix);
  const root = await mkdtemp(join(tmpdir(), `topicdesk-${prefix}-`));
  const storage = new FsStorage({ root, publicUrl: 'http://gateway.test', secret: 'x'.repeat(32) });
  const inspector = new AttachmentInspector(storage, PDF_LIMITS, undefined, ScanPolicy.optional);
  const attachments = new AttachmentService({
    uow: fixture.uow,
    storage,
    inspector,
    limits: PDF_LIMITS,
    urlTtlMs: 60_000,
    logger: createLogger({ service: 'core-test', level: 'silent' }),
  });
  const conversations = new ConversationService(fixture.uow);
  const tenantId = DEFAULT_TENANT_ID;
  return {
    fixture,
    storage,
    attachments,
    conversations,
    async sendPdf(conversationId, name, message) {
      const upload = await attachments.requestUpload(tenantId, conversationId, {
        name,
        type: 'application/pdf',
        size: PDF.length,
      });
      const ref = { conversation_id: conversationId, id: upload.id };
      await storage.write(uploadKey(ref), PDF);
      const [file] = await attachments.prepare(tenantId, conversationId, [ref.id]);
      await conversations.postVisitorMessage({
        tenantId,
        conversationId,
        ...message,
        attachments: [file!],
      });
      return ref;
    },
    async close() {
      await fixture.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
