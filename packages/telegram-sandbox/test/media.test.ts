import { InputFile } from 'grammy';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failure, rawCall, startHarness, TOKEN, type Harness } from './fixtures';

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
