import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AttachmentRepository,
  AttachmentState,
  ConversationClosedError,
  ConversationRepository,
  ConversationStatus,
  type Attachment as AttachmentRow,
  type Message,
} from '@topicdesk/data';
import type { Attachment, AttachmentRequestBody, UploadTicket } from '@topicdesk/protocol';
import {
  AttachmentError,
  AttachmentErrorCode,
  type AttachmentInspector,
  type AttachmentLimits,
  type ObjectStorage,
} from '@topicdesk/storage';
import type { Logger } from '@topicdesk/telemetry';
import type { UnitOfWork, Work } from '../unit-of-work';

export interface AttachmentServiceOptions {
  uow: UnitOfWork;
  storage: ObjectStorage;
  inspector: AttachmentInspector;
  limits: AttachmentLimits;
  /** How long upload and download links stay valid (ATTACHMENTS_URL_TTL). */
  urlTtlMs: number;
  logger: Logger;
}

/** A stored message with the files it carries (absent: none). */
export type MessageWithFiles = Message & { attachments?: readonly Attachment[] };

/** Where the browser uploads a file, and where it goes once checked (never the same key). */
export const uploadKey = (a: Pick<AttachmentRow, 'conversation_id' | 'id'>) =>
  `uploads/${a.conversation_id}/${a.id}`;
export const storedKey = (a: Pick<AttachmentRow, 'conversation_id' | 'id'>) =>
  `files/${a.conversation_id}/${a.id}`;

/** Refusals that leave the attachment pending: sending the message again may succeed. */
const RETRYABLE: ReadonlySet<string> = new Set([
  AttachmentErrorCode.NotFound,
  AttachmentErrorCode.ScanUnavailable,
]);

/**
 * Visitors' files (issue 17): an upload link for a file the limits allow, the checks when a
 * message references it, and signed download links for the history and frames. Checked files
 * live under a key of their own, so an upload link used again cannot change a file once seen.
 */
export class AttachmentService {
  constructor(private readonly options: AttachmentServiceOptions) {}

  /**
   * Hands out an upload link after checking the conversation (open), the declared type and size
   * against the limits, and the conversation's total (under the conversation's row lock, so
   * two requests at once cannot both take the last bytes).
   */
  async requestUpload(
    tenantId: string,
    conversationId: string,
    file: AttachmentRequestBody,
  ): Promise<UploadTicket> {
    const { limits } = this.options;
    if (!limits.allowedTypes.includes(file.type))
      throw new AttachmentError(
        AttachmentErrorCode.TypeNotAllowed,
        `files of type ${file.type} are not allowed`,
      );
    if (file.size > limits.maxFileBytes)
      throw new AttachmentError(
        AttachmentErrorCode.TooLarge,
        `files are limited to ${limits.maxFileBytes} bytes`,
      );
    const row = await this.options.uow.run(async ({ trx }) => {
      const conversation = await new ConversationRepository(trx).lock(tenantId, conversationId);
      if (conversation.status === ConversationStatus.closed)
        throw new ConversationClosedError(conversationId);
      const attachments = new AttachmentRepository(trx);
      await this.#withinTotal(attachments, tenantId, conversationId, file.size);
      return attachments.create({
        id: randomUUID(),
        tenantId,
        conversationId,
        name: file.name,
        declaredType: file.type,
        declaredSize: file.size,
      });
    });
    const link = await this.options.storage.signPut(uploadKey(row), {
      type: file.type,
      size: file.size,
      expiresInMs: this.options.urlTtlMs,
    });
    return {
      id: row.id,
      uploadUrl: link.url,
      method: 'PUT',
      headers: link.headers,
      expiresAt: link.expiresAt.toISOString(),
    };
  }

  /**
   * Checks the files a message is about to carry, in its order: each uploaded one is measured,
   * scanned, sniffed and (images) re-encoded, then `ready`; a refusal is recorded with its code,
   * its upload deleted, and thrown (the message is not stored). Answers the files as the
   * visitor will see them. A file already checked is not checked again (a resend).
   */
  async prepare(
    tenantId: string,
    conversationId: string,
    ids: readonly string[],
  ): Promise<Attachment[]> {
    if (new Set(ids).size !== ids.length)
      throw new AttachmentError(
        AttachmentErrorCode.NotFound,
        'the same attachment is listed twice',
      );
    const repository = new AttachmentRepository(this.options.uow.db);
    const rows = new Map(
      (await repository.find(tenantId, conversationId, ids)).map((row) => [row.id, row]),
    );
    const ready: AttachmentRow[] = [];
    for (const id of ids) {
      const row = rows.get(id);
      if (!row)
        throw new AttachmentError(
          AttachmentErrorCode.NotFound,
          `no attachment ${id} in this conversation`,
        );
      ready.push(await this.#check(repository, row));
    }
    return Promise.all(ready.map((row) => this.#view(row)));
  }

  /**
   * A file that arrives with its bytes — an agent's from the topic, a private-chat user's from
   * Telegram — stored, then checked like an upload (scanned, sniffed, images re-encoded), ready
   * for a message to carry. `from` picks the types allowed (agents also send voice and video)
   * and whether the conversation's total counts (a visitor's files only). Answers the checked
   * file, unsigned (the bridge, which calls this, cannot sign links; the gateway does when it
   * shows the message). A refusal throws its AttachmentError; the row goes with the orphan sweep.
   */
  async receive(
    tenantId: string,
    conversationId: string,
    file: { name: string; type: string; bytes: Buffer },
    from: 'agent' | 'visitor',
  ): Promise<AttachmentRow> {
    const { limits } = this.options;
    if (file.bytes.length > limits.maxFileBytes)
      throw new AttachmentError(
        AttachmentErrorCode.TooLarge,
        `files are limited to ${limits.maxFileBytes} bytes`,
      );
    const row = await this.options.uow.run(async ({ trx }) => {
      const attachments = new AttachmentRepository(trx);
      if (from === 'visitor') {
        await new ConversationRepository(trx).lock(tenantId, conversationId);
        await this.#withinTotal(attachments, tenantId, conversationId, file.bytes.length);
      }
      return attachments.create({
        id: randomUUID(),
        tenantId,
        conversationId,
        name: file.name,
        declaredType: file.type,
        declaredSize: file.bytes.length,
      });
    });
    await this.options.storage.write(uploadKey(row), file.bytes, file.type);
    const allowedTypes = from === 'agent' ? limits.agentAllowedTypes : limits.allowedTypes;
    return this.#check(new AttachmentRepository(this.options.uow.db), row, allowedTypes);
  }

  /** The messages with their files, each with a fresh download link (one query for the page). */
  async withAttachments(messages: readonly Message[]): Promise<MessageWithFiles[]> {
    // The messages were read in their tenant; their files are looked up in that tenant only.
    const tenantId = messages[0]?.tenant_id;
    if (tenantId === undefined) return [];
    const rows = await new AttachmentRepository(this.options.uow.db).forMessages(
      tenantId,
      messages.filter((m) => m.deleted_at === null).map((m) => m.id),
    );
    if (rows.length === 0) return [...messages];
    const byMessage = new Map<number, Attachment[]>();
    for (const row of rows) {
      const list = byMessage.get(row.message_id ?? 0) ?? [];
      list.push(await this.#view(row));
      byMessage.set(row.message_id ?? 0, list);
    }
    return messages.map((m) => {
      const attachments = byMessage.get(m.id);
      return attachments ? { ...m, attachments } : m;
    });
  }

  /** The checked files a message carries, in order (the bridge sends them to the topic). */
  filesOf(message: Pick<Message, 'id' | 'tenant_id'>): Promise<AttachmentRow[]> {
    return new AttachmentRepository(this.options.uow.db).ofMessage(message.tenant_id, message.id);
  }

  /**
   * Deletes attachments no message took within `before` (uploads never sent, refused files),
   * rows first, then their bytes; answers how many. Bytes left by a failed delete are logged.
   */
  async sweepOrphans(before: Date, limit = 100): Promise<number> {
    const rows = await new AttachmentRepository(this.options.uow.db).deleteUnattached(
      before,
      limit,
    );
    for (const row of rows) {
      await this.#dropUpload(row);
      await this.options.storage.delete(storedKey(row)).catch((error: unknown) => {
        this.options.logger.warn({ err: error, attachmentId: row.id }, 'could not delete a file');
      });
    }
    return rows.length;
  }

  /**
   * Deletes the bytes of every file of a conversation that is being deleted in `work` (its rows
   * go with the conversation's). A delete that fails throws: the caller's transaction is rolled
   * back, the conversation and its rows stay, and the next run tries again — no bytes are ever
   * left behind without a row naming them.
   */
  async eraseFilesOf(work: Work, tenantId: string, conversationId: string): Promise<number> {
    const rows = await new AttachmentRepository(work.trx).ofConversation(tenantId, conversationId);
    for (const row of rows) {
      await this.options.storage.delete(uploadKey(row));
      await this.options.storage.delete(storedKey(row));
    }
    return rows.length;
  }

  /**
   * A file as a data-subject export shows it: what is stored about it and, for a checked one,
   * a short-lived download link (`ATTACHMENTS_URL_TTL`).
   */
  async exportView(row: AttachmentRow): Promise<Partial<Attachment> & { state: string }> {
    const about = {
      id: row.id,
      name: row.name,
      state: row.state,
      declaredType: row.declared_type,
      declaredSize: row.declared_size,
      refusedCode: row.refused_code,
      createdAt: row.created_at.toISOString(),
    };
    return row.state === 'ready' ? { ...about, ...(await this.#view(row)) } : about;
  }

  /** A checked file's bytes, as a stream. */
  open(file: Pick<AttachmentRow, 'conversation_id' | 'id'>): Promise<Readable> {
    return this.options.storage.read(storedKey(file));
  }

  async #check(
    repository: AttachmentRepository,
    row: AttachmentRow,
    allowedTypes?: readonly string[],
  ): Promise<AttachmentRow> {
    switch (row.state) {
      case AttachmentState.ready:
        return row;
      case AttachmentState.refused:
        throw new AttachmentError(
          (row.refused_code ?? AttachmentErrorCode.Invalid) as AttachmentErrorCode,
          'this file was refused',
        );
      case AttachmentState.pending:
        break;
      default: {
        const never: never = row.state;
        return never;
      }
    }
    const { storage, inspector } = this.options;
    let checked: AttachmentRow | undefined;
    try {
      const file = await inspector.inspect({
        uploadKey: uploadKey(row),
        storedKey: storedKey(row),
        declaredType: row.declared_type,
        declaredSize: row.declared_size,
        allowedTypes,
      });
      checked = await repository.markReady(row.tenant_id, row.id, file);
    } catch (error) {
      // Not uploaded (yet), or no scanner right now: the visitor may send again. Others are final.
      if (!AttachmentError.is(error) || RETRYABLE.has(error.code)) throw error;
      await repository.markRefused(row.tenant_id, row.id, error.code);
      await storage.delete(storedKey(row));
      await this.#dropUpload(row);
      throw error;
    }
    await this.#dropUpload(row);
    // Checked by another replica at the same moment: take what it recorded.
    return (
      checked ?? (await repository.find(row.tenant_id, row.conversation_id, [row.id]))[0] ?? row
    );
  }

  /** Refuses `adding` bytes more where the conversation's files would pass their total. */
  async #withinTotal(
    attachments: AttachmentRepository,
    tenantId: string,
    conversationId: string,
    adding: number,
  ): Promise<void> {
    const { maxConversationBytes } = this.options.limits;
    const used = await attachments.conversationBytes(tenantId, conversationId);
    if (used + adding > maxConversationBytes)
      throw new AttachmentError(
        AttachmentErrorCode.TotalExceeded,
        `a conversation's files are limited to ${maxConversationBytes} bytes together`,
      );
  }

  /** The upload is done with once checked; one left behind is the orphan sweep's. */
  async #dropUpload(row: AttachmentRow): Promise<void> {
    await this.options.storage.delete(uploadKey(row)).catch((error: unknown) => {
      this.options.logger.warn({ err: error, attachmentId: row.id }, 'could not delete an upload');
    });
  }

  async #view(row: AttachmentRow): Promise<Attachment> {
    const type = row.type ?? row.declared_type;
    const link = await this.options.storage.signGet(storedKey(row), {
      name: row.name,
      type,
      expiresInMs: this.options.urlTtlMs,
    });
    return {
      id: row.id,
      name: row.name,
      type,
      size: row.size ?? 0,
      ...(row.width !== null ? { width: row.width } : {}),
      ...(row.height !== null ? { height: row.height } : {}),
      url: link.url,
      urlExpiresAt: link.expiresAt.toISOString(),
    };
  }
}
