import { InputFile } from 'grammy';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT, failure, rawCall, startHarness, TOKEN, VISITOR, type Harness } from './fixtures';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.sandbox.close();
});

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#48c' } })
    .png()
    .toBuffer();

// Issue 17: the bridge posts visitors' files into topics; the sandbox takes them as Telegram does.
describe('sendPhoto and sendDocument', () => {
  it('takes a photo uploaded as multipart (grammY attach://) into a topic, with its caption and size', async () => {
    const topic = await h.bot.api.createForumTopic(h.group, 'Files');
    const sent = await h.bot.api.sendPhoto(h.group, new InputFile(await png(120, 80), 'a.png'), {
      message_thread_id: topic.message_thread_id,
      caption: 'the screen',
    });
    expect(sent.message_thread_id).toBe(topic.message_thread_id);
    expect(sent.caption).toBe('the screen');
    expect('text' in sent).toBe(false);
    expect(sent.photo).toEqual([
      expect.objectContaining({ width: 120, height: 80, file_size: expect.any(Number) }),
    ]);
    // The same file again by its file_id, as Telegram allows.
    const again = await h.bot.api.sendPhoto(h.group, sent.photo[0]!.file_id);
    expect(again.photo?.[0]?.file_id).toBe(sent.photo[0]!.file_id);
  });

  it('takes a document with its name and type, and shows it to the agent page', async () => {
    const topic = await h.bot.api.createForumTopic(h.group, 'Docs');
    const pdf = Buffer.from('%PDF-1.4\n%%EOF\n');
    const sent = await h.bot.api.sendDocument(h.group, new InputFile(pdf, 'invoice.pdf'), {
      message_thread_id: topic.message_thread_id,
    });
    expect(sent.document).toMatchObject({ file_name: 'invoice.pdf', file_size: pdf.length });
    const [view] = h.sandbox.state
      .messages({ threadId: topic.message_thread_id })
      .filter((m) => m.media);
    expect(view?.media).toMatchObject({ kind: 'document', name: 'invoice.pdf', size: pdf.length });
    const file = await fetch(`${h.sandbox.url}/sandbox/files/${sent.document.file_id}`);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer())).toEqual(pdf);
  });

  it('refuses what Telegram refuses: no file, an unknown file_id, a long caption, a photo that is no image or too narrow', async () => {
    expect((await failure(h.bot.api.sendPhoto(h.group, 'no-such-id'))).description).toBe(
      'Bad Request: wrong file identifier/HTTP URL specified',
    );
    expect(
      (
        await failure(
          h.bot.api.sendPhoto(h.group, new InputFile(await png(10, 10)), {
            caption: 'x'.repeat(1025),
          }),
        )
      ).description,
    ).toBe('Bad Request: message caption is too long');
    expect(
      (await failure(h.bot.api.sendPhoto(h.group, new InputFile(Buffer.from('not an image')))))
        .description,
    ).toBe('Bad Request: IMAGE_PROCESS_FAILED');
    expect(
      (await failure(h.bot.api.sendPhoto(h.group, new InputFile(await png(400, 10))))).description,
    ).toBe('Bad Request: PHOTO_INVALID_DIMENSIONS');
    const none = await rawCall(h.sandbox.url, `/bot${TOKEN}/sendDocument?chat_id=${h.group}`, {
      method: 'POST',
    });
    expect(none.body['description']).toBe('Bad Request: there is no file in the request');
  });
});

// Issue 17: agents' and private-chat users' files reach the bridge as Telegram hands them over:
// the update names the file, getFile answers its path, the file URL serves its bytes.
describe('files people send, getFile and the download route', () => {
  const download = (path: string, token = TOKEN) =>
    fetch(`${h.sandbox.url}/file/bot${token}/${path}`);

  it('gives an agent photo in every size, smallest first; getFile and the file URL serve the largest', async () => {
    const topic = await h.bot.api.createForumTopic(h.group, 'Photos');
    const small = await png(90, 60);
    const large = await png(640, 480);
    const message = h.sandbox.state.injectMessage({
      chatId: h.group,
      messageThreadId: topic.message_thread_id,
      text: 'the error',
      from: AGENT,
      media: { kind: 'photo', sizes: [large, small] },
    });
    expect(message.caption).toBe('the error');
    expect(message.text).toBeUndefined();
    expect(message.photo?.map((p) => [p.width, p.height, p.file_size])).toEqual([
      [90, 60, small.length],
      [640, 480, large.length],
    ]);
    const [update] = await h.bot.api.getUpdates({ offset: -1 });
    expect(update?.message?.photo?.[1]?.file_unique_id).toBe(message.photo?.[1]?.file_unique_id);

    const file = await h.bot.api.getFile(message.photo![1]!.file_id);
    expect(file).toMatchObject({
      file_id: message.photo![1]!.file_id,
      file_unique_id: message.photo![1]!.file_unique_id,
      file_size: large.length,
      file_path: expect.stringMatching(/^photos\/file_\d+\.jpg$/),
    });
    const body = await download(file.file_path!);
    expect(body.status).toBe(200);
    expect(Buffer.from(await body.arrayBuffer())).toEqual(large);
  });

  it('gives a document, a voice note and a video in Telegram’s update shapes, via the control API too', async () => {
    const topic = await h.bot.api.createForumTopic(h.group, 'Media');
    const pdf = Buffer.from('%PDF-1.4\n%%EOF\n');
    const inject = (media: object) =>
      rawCall(h.sandbox.url, '/sandbox/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          chatId: h.group,
          messageThreadId: topic.message_thread_id,
          from: AGENT,
          media,
        }),
      });
    const doc = await inject({
      kind: 'document',
      bytes: pdf.toString('base64'),
      fileName: 'offer.pdf',
      mimeType: 'application/pdf',
    });
    expect(doc.status).toBe(200);
    expect(doc.body['document']).toMatchObject({
      file_name: 'offer.pdf',
      mime_type: 'application/pdf',
      file_size: pdf.length,
    });
    const voice = await inject({ kind: 'voice', bytes: 'T2dnUw==', duration: 3 });
    expect(voice.body['voice']).toMatchObject({
      duration: 3,
      mime_type: 'audio/ogg',
      file_size: 4,
    });
    const video = await inject({ kind: 'video', bytes: 'AAAA', width: 320, height: 240 });
    expect(video.body['video']).toMatchObject({ width: 320, height: 240, mime_type: 'video/mp4' });

    const path = (await h.bot.api.getFile((doc.body['document'] as { file_id: string }).file_id))
      .file_path!;
    expect(path).toMatch(/^documents\/file_\d+\.pdf$/);
    expect(Buffer.from(await (await download(path)).arrayBuffer())).toEqual(pdf);
    expect(
      h.sandbox.state.messages({ threadId: topic.message_thread_id }).map((m) => m.media?.kind),
    ).toEqual(expect.arrayContaining(['document', 'voice', 'video']));
  });

  it('refuses getFile over 20 MB ("file is too big"), unknown ids, and unknown paths or bad tokens on the file URL', async () => {
    const message = h.sandbox.state.injectMessage({
      chatId: VISITOR.id,
      text: '',
      from: VISITOR,
      media: {
        kind: 'document',
        bytes: Buffer.alloc(20 * 1024 * 1024 + 1),
        fileName: 'big.bin',
      },
    });
    expect((await failure(h.bot.api.getFile(message.document!.file_id))).description).toBe(
      'Bad Request: file is too big',
    );
    expect((await failure(h.bot.api.getFile('no-such-id'))).description).toBe(
      'Bad Request: wrong file identifier/HTTP URL specified',
    );
    expect((await download('documents/file_999.pdf')).status).toBe(404);
    expect((await download('documents/file_1', 'not-a-token')).status).toBe(401);
  });
});
