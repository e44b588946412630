// Issue 17: a visitor's photo and document as the agents see them in the sandbox's agent page
// (the bridge posts them with sendPhoto / sendDocument): the photo inline at its size, the
// document as a named link with its size, the caption as text; axe-core's rules.
import { startSandbox, type RunningSandbox } from '@topicdesk/telegram-sandbox';
import { PDF } from '@topicdesk/testkit';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, launchBrowser, screenshot, skipBrowser } from '../support/browser';

const GROUP = -1001000000001;
const TOKEN = '200000001:files-page';

let sandbox: RunningSandbox;
let browser: Browser;

/** A Bot API call with a file, as multipart/form-data (what grammY sends). */
async function sendFile(
  method: 'sendPhoto' | 'sendDocument',
  field: string,
  file: Blob,
  name: string,
  fields: Record<string, string>,
) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append(field, file, name);
  const res = await fetch(`${sandbox.url}/bot${TOKEN}/${method}`, { method: 'POST', body: form });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, supergroupId: GROUP });
  if (!skipBrowser) browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});

describe.skipIf(skipBrowser)('files on the agent page', () => {
  it('shows a photo inline and a document as a link, under their captions; no axe violations', async () => {
    const topic = (await (
      await fetch(`${sandbox.url}/bot${TOKEN}/createForumTopic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: GROUP, name: '🟢 SUPP-FILES · Ada' }),
      })
    ).json()) as { result: { message_thread_id: number } };
    const thread = String(topic.result.message_thread_id);
    const photo = await sharp({
      create: { width: 480, height: 320, channels: 3, background: '#3a7bd5' },
    })
      .jpeg()
      .toBuffer();
    await sendFile(
      'sendPhoto',
      'photo',
      new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }),
      'screen.jpg',
      {
        chat_id: String(GROUP),
        message_thread_id: thread,
        caption: 'The error I get at checkout',
      },
    );
    await sendFile(
      'sendDocument',
      'document',
      new Blob([new Uint8Array(PDF)], { type: 'application/pdf' }),
      'invoice-1042.pdf',
      {
        chat_id: String(GROUP),
        message_thread_id: thread,
      },
    );

    for (const [name, viewport] of [
      ['agent-page-files-desktop-1280x800', { width: 1280, height: 800 }],
      ['agent-page-files-phone-390x844', { width: 390, height: 844 }],
    ] as const) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      await page.goto(`${sandbox.url}/`);
      const entry = page.locator('nav button').filter({ hasText: 'SUPP-FILES' });
      if (await entry.isVisible()) await entry.click();
      else
        await page
          .locator('nav button, #topics button')
          .filter({ hasText: 'SUPP-FILES' })
          .first()
          .click();
      const img = page.locator('img.photo');
      await expect
        .poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth))
        .toBe(480);
      expect(await page.locator('a.document').textContent()).toContain('invoice-1042.pdf');
      expect(await page.locator('.text').allTextContents()).toContain(
        'The error I get at checkout',
      );
      expect(await axeViolations(page)).toEqual([]);
      await screenshot(page, name);
      await context.close();
    }
  });
});
