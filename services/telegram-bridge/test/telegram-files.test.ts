import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from 'grammy';
import type { Attachment } from '@topicdesk/core';
import { startSandbox, type InjectedMedia, type RunningSandbox } from '@topicdesk/telegram-sandbox';
import { createLogger } from '@topicdesk/telemetry';
import { PDF } from '@topicdesk/testkit';
import { fileOf, TelegramFiles, type TelegramFileRef } from '../src/updates/telegram-files';

const TOKEN = '200000002:download-test';
const VISITOR = { id: 424_242, first_name: 'Visitor' };

// Issue 17: the bridge's download path against the sandbox's getFile and file URL — the bytes
// as sent, the limits (Telegram's 20 MB, ATTACHMENTS_MAX_FILE_BYTES) whether or not the update
// told the size, and a file Telegram will not hand over — each an outcome, never a hang.
describe('TelegramFiles', () => {
  let sandbox: RunningSandbox;
  const received: Array<{ name: string; type: string; bytes: Buffer; from: string }> = [];
  const conversation = { tenant_id: 'default', id: '00000000-0000-4000-8000-000000000001' };

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  const files = (maxFileBytes: number) =>
    new TelegramFiles({
      api: new Api(TOKEN, { apiRoot: sandbox.url }),
      token: TOKEN,
      apiRoot: sandbox.url,
      maxFileBytes,
      logger: createLogger({ service: 'telegram-files-test', level: 'error' }),
      tries: 2,
      attachments: {
        receive: (_tenant, _conversation, file, from) => {
          received.push({ ...file, from });
          return Promise.resolve({ id: 'a1' } as Attachment);
        },
      },
    });

  /** A user sends a file to the bot; its reference as the update names it. */
  function sent(media: InjectedMedia): TelegramFileRef {
    const message = sandbox.state.injectMessage({
      chatId: VISITOR.id,
      text: '',
      from: VISITOR,
      media,
    });
    const ref = fileOf(message as Parameters<typeof fileOf>[0]);
    if (!ref) throw new Error('no file');
    return ref;
  }

  it('downloads a file through getFile and the file URL, as it was sent', async () => {
    const ref = sent({
      kind: 'document',
      bytes: PDF,
      fileName: 'a.pdf',
      mimeType: 'application/pdf',
    });
    const taken = await files(1_000_000).receive(conversation, ref, 'visitor');
    expect(taken).toEqual({ ok: true, attachment: { id: 'a1' } });
    expect(received.at(-1)).toEqual({
      name: 'a.pdf',
      type: 'application/pdf',
      bytes: PDF,
      from: 'visitor',
    });
    const [call] = sandbox.state.calls({ method: 'getFile' }).slice(-1);
    expect(call?.params['file_id']).toBe(ref.fileId);
  });

  it('refuses a file over the limit without downloading it: by the size in the update, else by getFile’s', async () => {
    const big = sent({ kind: 'document', bytes: Buffer.alloc(5000, 1), fileName: 'big.bin' });
    const calls = sandbox.state.calls({ method: 'getFile' }).length;
    const refused = await files(4000).receive(conversation, big, 'agent');
    expect(refused).toEqual({
      ok: false,
      code: 'ATTACHMENT_TOO_LARGE',
      reason: 'it is larger than 4 KB',
    });
    expect(sandbox.state.calls({ method: 'getFile' }).length).toBe(calls);
    // The same file with no size in the update: getFile tells it, nothing is read.
    const unsized = { ...big, size: undefined };
    expect(await files(4000).receive(conversation, unsized, 'agent')).toMatchObject({
      code: 'ATTACHMENT_TOO_LARGE',
    });
  });

  it('refuses a file over Telegram’s 20 MB (getFile: "file is too big")', async () => {
    const huge = sent({
      kind: 'document',
      bytes: Buffer.alloc(20 * 1024 * 1024 + 1),
      fileName: 'huge.bin',
    });
    const taken = await files(50 * 1024 * 1024).receive(
      conversation,
      { ...huge, size: undefined },
      'agent',
    );
    expect(taken).toEqual({
      ok: false,
      code: 'ATTACHMENT_TOO_LARGE',
      reason: 'it is larger than 20 MB',
    });
  });

  it('answers BRIDGE_FILE_UNAVAILABLE for a file Telegram will not hand over', async () => {
    const count = received.length;
    const taken = await files(1_000_000).receive(
      conversation,
      { fileId: 'no-such-file', fileUniqueId: 'x', name: 'x.pdf', type: 'application/pdf' },
      'agent',
    );
    expect(taken).toEqual({
      ok: false,
      code: 'BRIDGE_FILE_UNAVAILABLE',
      reason: 'Telegram did not hand the file over',
    });
    expect(received.length).toBe(count);
  });
});
