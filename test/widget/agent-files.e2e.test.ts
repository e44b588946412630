// Issue 17, agents → visitor in the widget: an agent posts a photo and a PDF in the topic (the
// sandbox plays Telegram); the bridge downloads them, stores them in the bucket (s3rver on
// loopback); the widget shows the photo inline at its size, laid out before it loads (width and
// height from the message), and the PDF as a named link with its size. axe-core; a screenshot.
import { jpegWithGps, PDF, startTestS3, type TestS3 } from '@topicdesk/testkit';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  screenshot,
  send,
  skipBrowser,
  storedTicket,
  widget,
} from '../support/browser';
import { browserSuite } from '../support/browser-suite';
import { AGENT, GROUP_ID, topicOf } from '../support/cluster';

let s3: TestS3;
/** Filled in before the cluster starts (browserSuite reads it then). */
const files: Record<string, string> = {};

beforeAll(async () => {
  s3 = await startTestS3('agentfiles', { cors: true });
  Object.assign(files, s3.env, { ATTACHMENTS_SCAN: 'optional' });
});

const suite = browserSuite({ gatewayEnv: files, bridgeEnv: files });

afterAll(async () => {
  await s3?.stop();
});

/** A photo with something to see: a light field with a dark diagonal band. */
const photo = async () => {
  const band = Buffer.from(
    '<svg width="360" height="240"><rect width="360" height="240" fill="#cfe3f7"/><path d="M0 200 L360 40 L360 80 L0 240 Z" fill="#1d4f91"/></svg>',
  );
  return sharp(band).jpeg().toBuffer();
};

describe.skipIf(skipBrowser)('agents’ files in the widget', () => {
  it('shows an agent’s photo inline at its size and a PDF as a named link with its size', async () => {
    const p = await (await suite.context({ viewport: { width: 1280, height: 800 } })).newPage();
    await p.goto(`${suite.gateway}/demo`);
    const w = widget(p);
    await w.launcher.click();
    await send(p, 'Can you show me where?');
    const topic = await topicOf(suite.cluster.sandbox, await storedTicket(p, suite.gateway));

    suite.cluster.sandbox.state.injectMessage({
      chatId: GROUP_ID,
      messageThreadId: topic,
      text: 'Here, the blue band',
      from: AGENT,
      media: { kind: 'photo', sizes: [await jpegWithGps(90, 60), await photo()] },
    });
    suite.cluster.sandbox.state.injectMessage({
      chatId: GROUP_ID,
      messageThreadId: topic,
      text: 'and the guide',
      from: AGENT,
      media: { kind: 'document', bytes: PDF, fileName: 'guide.pdf', mimeType: 'application/pdf' },
    });

    const images = w.root.locator('.log li.row.agent .files img');
    const documents = w.root.locator('.log li.row.agent .files a.file');
    await expect.poll(() => images.count(), { timeout: 30_000 }).toBe(1);
    // Its box is known before the bytes arrive: the message carries the dimensions.
    expect(await images.getAttribute('width')).toBe('360');
    expect(await images.getAttribute('height')).toBe('240');
    expect(await images.getAttribute('src')).toContain(s3.endpoint);
    await expect
      .poll(() => images.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(360);
    await expect.poll(() => documents.count(), { timeout: 30_000 }).toBe(1);
    expect(await documents.textContent()).toBe(`guide.pdf (${PDF.length} B)`);
    expect(await documents.getAttribute('href')).toContain(s3.endpoint);
    const served = await fetch((await documents.getAttribute('href'))!);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(PDF);
    expect(await w.texts('agent').allTextContents()).toEqual(
      expect.arrayContaining(['Here, the blue band', 'and the guide']),
    );
    await screenshot(p, 'widget-agent-files-desktop-1280x800');
    expect(await axeViolations(p)).toEqual([]);
  });
});
