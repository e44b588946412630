// Issue 17, the widget's side: a visitor attaches a photo and a PDF (a chip each, upload
// progress), sends them with a caption once both are uploaded (straight to the bucket, s3rver
// on loopback), and sees them in the conversation; the topic gets a photo and a document. The
// EICAR test file is refused by the scan (fake clamd): the visitor reads why, with its code,
// and gets the caption back. axe-core on each state; screenshots desktop, phone, dark, Arabic.
import {
  EICAR,
  PDF,
  startFakeClamd,
  startTestS3,
  type FakeClamd,
  type TestS3,
} from '@topicdesk/testkit';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, screenshot, skipBrowser, storedTicket, widget } from '../support/browser';
import { browserSuite } from '../support/browser-suite';
import { GROUP_ID, topicOf } from '../support/cluster';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let s3: TestS3;
let clamd: FakeClamd;
/** Filled in before the cluster starts (browserSuite reads it then). */
const files: Record<string, string> = {};

beforeAll(async () => {
  s3 = await startTestS3('attachments', { cors: true });
  clamd = await startFakeClamd();
  Object.assign(files, s3.env, { CLAMAV_URL: clamd.url, ATTACHMENTS_SCAN: 'required' });
});

const suite = browserSuite({ gatewayEnv: files, bridgeEnv: files });

afterAll(async () => {
  await clamd?.stop();
  await s3?.stop();
});

/** A photo of noise: large enough (~300 KB) that its upload, throttled, shows progress. */
const photo = () =>
  sharp({
    create: {
      width: 480,
      height: 320,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 95 })
    .toBuffer();

async function open(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const p = await (await suite.context(options)).newPage();
  await p.goto(`${suite.gateway}/demo`);
  await widget(p).launcher.click();
  return p;
}

function parts(p: Page) {
  const w = widget(p);
  return {
    ...w,
    picker: w.root.locator('input[type=file]'),
    attach: w.root.locator('button.attach'),
    chips: w.root.locator('.tray .chip'),
    progress: w.root.locator('.tray progress'),
    images: w.root.locator('.log li.row.visitor .files img'),
    documents: w.root.locator('.log li.row.visitor .files a.file'),
  };
}

/** Every value the chips' progress bars showed, sampled while they are there. */
async function recordProgress(p: Page): Promise<void> {
  await p.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { seen: number[] }).seen = seen;
    const tick = () => {
      const root = document.querySelector('topicdesk-chat')?.shadowRoot;
      root?.querySelectorAll('progress').forEach((bar) => seen.push(bar.value / bar.max));
      requestAnimationFrame(tick);
    };
    tick();
  });
}

describe.skipIf(skipBrowser)('attachments in the widget', () => {
  it('sends a photo and a PDF with progress; the topic gets both; the EICAR file is refused with its code', async () => {
    // The demo page lets the widget reach the bucket (uploads, images) and show thumbnails.
    const csp = (await fetch(`${suite.gateway}/demo`)).headers.get('content-security-policy');
    expect(csp).toContain(`connect-src 'self' ws://`);
    expect(csp).toMatch(new RegExp(`connect-src [^;]*${s3.endpoint}`));
    expect(csp).toContain(`img-src 'self' data: blob: ${s3.endpoint}`);
    const p = await open({ viewport: DESKTOP, colorScheme: 'light' });
    const w = parts(p);
    expect(await w.attach.getAttribute('aria-label')).toBe('Attach files');
    await w.input.fill('My receipt and the invoice');
    // A slow uplink, so that the progress shows.
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 150 * 1024,
    });
    await recordProgress(p);
    const jpeg = await photo();
    await w.picker.setInputFiles([
      { name: 'receipt.jpg', mimeType: 'image/jpeg', buffer: jpeg },
      { name: 'invoice.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]);
    await expect.poll(() => w.chips.count()).toBe(2);
    expect(await w.chips.locator('.name').allTextContents()).toEqual([
      'receipt.jpg',
      'invoice.pdf',
    ]);
    expect(await w.chips.locator('img.thumb').count()).toBe(1);
    await expect.poll(() => w.progress.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await w.root.getByRole('progressbar', { name: 'Uploading receipt.jpg' }).count()).toBe(
      1,
    );
    await screenshot(p, 'widget-attachments-uploading-desktop');
    expect(await axeViolations(p)).toEqual([]);
    // Sent before the uploads finish: the message waits for them.
    await w.input.press('Enter');
    await expect.poll(() => w.progress.count(), { timeout: 30_000 }).toBe(0);
    const seen = (await p.evaluate(() => (window as unknown as { seen: number[] }).seen)) ?? [];
    expect(seen.some((v) => v > 0 && v < 1)).toBe(true);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    // The own bubble: the photo at its size, the PDF as a named link with its size.
    await expect.poll(() => w.chips.count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => w.images.count(), { timeout: 20_000 }).toBe(1);
    expect(await w.images.getAttribute('width')).toBe('480');
    expect(await w.images.getAttribute('height')).toBe('320');
    expect(await w.images.getAttribute('alt')).toBe('receipt.jpg');
    expect(await w.documents.textContent()).toMatch(/^invoice\.pdf \(\d+ B\)$/);
    expect(await w.input.inputValue()).toBe('');
    expect(await w.texts('visitor').allTextContents()).toEqual(['My receipt and the invoice']);

    // The agents' topic: a photo with the caption, then the document.
    const topic = await topicOf(suite.cluster.sandbox, await storedTicket(p, suite.gateway));
    await expect
      .poll(
        () =>
          suite.cluster.sandbox.state
            .messages({ chatId: GROUP_ID, threadId: topic })
            .filter((m) => m.media)
            .map((m) => [m.media?.kind, m.caption]),
        { timeout: 30_000 },
      )
      .toEqual([
        ['photo', 'My receipt and the invoice'],
        ['document', null],
      ]);
    // After the ack the bubble shows the stored files (signed links to the bucket).
    await expect
      .poll(() => w.documents.getAttribute('href'), { timeout: 10_000 })
      .toContain(s3.endpoint);
    await expect
      .poll(() => w.images.evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBe(480);
    await screenshot(p, 'widget-attachments-desktop-1280x800');
    expect(await axeViolations(p)).toEqual([]);

    // The EICAR file passes the upload, and the scan refuses the message: said in words, with
    // its code, aloud; the caption comes back to the composer.
    await w.input.fill('is this a virus?');
    await w.picker.setInputFiles([{ name: 'eicar.txt', mimeType: 'text/plain', buffer: EICAR }]);
    await expect.poll(() => w.chips.count()).toBe(1);
    await w.sendButton.click();
    const refused = w.root.locator('.log li.row.visitor.failed .meta .state');
    await expect
      .poll(() => refused.textContent(), { timeout: 20_000 })
      .toBe('Refused by the malware scan (ATTACHMENT_INFECTED)');
    expect(await w.live.textContent()).toBe('Refused by the malware scan (ATTACHMENT_INFECTED)');
    expect(await w.input.inputValue()).toBe('is this a virus?');
    await screenshot(p, 'widget-attachments-refused-desktop');
    expect(await axeViolations(p)).toEqual([]);
    const texts = suite.cluster.sandbox.state
      .messages({ chatId: GROUP_ID, threadId: topic })
      .map((m) => `${m.text ?? ''}${m.caption ?? ''}`);
    expect(texts.some((t) => t.includes('virus'))).toBe(false);
  });

  it('on a phone, dark and in Arabic: the chip and the files in the conversation', async () => {
    const p = await open({ viewport: PHONE, isMobile: true, hasTouch: true, colorScheme: 'light' });
    const w = parts(p);
    await w.input.fill('Photo of the damage');
    await w.picker.setInputFiles([
      { name: 'damage.jpg', mimeType: 'image/jpeg', buffer: await photo() },
    ]);
    await expect.poll(() => w.chips.count()).toBe(1);
    await expect.poll(() => w.progress.count(), { timeout: 20_000 }).toBe(0);
    await screenshot(p, 'widget-attachments-chip-phone-390x844');
    expect(await axeViolations(p)).toEqual([]);
    await w.sendButton.click();
    await expect.poll(() => w.images.count(), { timeout: 20_000 }).toBe(1);
    await w.input.fill('');
    await w.picker.setInputFiles([
      { name: 'contract.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]);
    await expect.poll(() => w.progress.count(), { timeout: 20_000 }).toBe(0);
    // No caption: the files alone are a message.
    await w.sendButton.click();
    await expect.poll(() => w.documents.count(), { timeout: 20_000 }).toBe(1);
    await expect
      .poll(() => w.images.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(480);
    await screenshot(p, 'widget-attachments-phone-390x844');

    await p.emulateMedia({ colorScheme: 'dark' });
    await screenshot(p, 'widget-attachments-phone-390x844-dark');
    expect(await axeViolations(p)).toEqual([]);

    await p.evaluate(() =>
      (window as unknown as { SupportChat: { setLocale(l: string): void } }).SupportChat.setLocale(
        'ar',
      ),
    );
    await p.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => w.root.locator('.root').getAttribute('dir')).toBe('rtl');
    expect(await w.attach.getAttribute('aria-label')).toBe('أرفق ملفات');
    await screenshot(p, 'widget-attachments-arabic-390x844');
    expect(await axeViolations(p)).toEqual([]);
  });
});
