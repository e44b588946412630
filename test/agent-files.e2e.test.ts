import type { Attachment, HistoryMessage } from '@topicdesk/protocol';
import {
  jpegWithGps,
  PDF,
  startConversation,
  VisitorClient,
  type Frame,
  type TestS3,
} from '@topicdesk/testkit';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { AGENT, GROUP_ID, topicOf, type Cluster } from './support/cluster';
import { useFilesCluster } from './support/files-cluster';

// Issue 17, agents → visitor, distributed mode: an agent posts a photo and a PDF in the topic
// (the sandbox plays Telegram); the bridge, its own process, downloads them through getFile and
// the file URL, stores them in S3 (s3rver on loopback) after the scan (ClamAV's clamd where
// installed); the visitor's socket on either gateway gets the messages with signed links that
// work, the image with its dimensions.

let cluster: Cluster;
let s3: TestS3;
useFilesCluster((files) => ({ cluster, s3 } = files));

it('brings an agent’s photo and PDF to the visitor with working signed links, the image with its size', async () => {
  const [a, b] = cluster.gateways.map((g) => g.url) as [string, string];
  const c = await startConversation(a);
  const visitor = await VisitorClient.connect(a, c.token);
  await visitor.waitFor((f) => f.type === 'status');
  visitor.send({ type: 'message', clientId: 'q', text: 'Where do I click?' });
  await visitor.waitFor((f) => f.type === 'ack' && f['clientId'] === 'q');
  const topic = await topicOf(cluster.sandbox, c.ticket);

  const photo = await jpegWithGps(800, 600);
  cluster.sandbox.state.injectMessage({
    chatId: GROUP_ID,
    messageThreadId: topic,
    text: 'Here, top right',
    from: AGENT,
    media: { kind: 'photo', sizes: [await jpegWithGps(320, 240), photo] },
  });
  cluster.sandbox.state.injectMessage({
    chatId: GROUP_ID,
    messageThreadId: topic,
    text: '',
    from: AGENT,
    media: { kind: 'document', bytes: PDF, fileName: 'guide.pdf', mimeType: 'application/pdf' },
  });

  const withFiles = (f: Frame) =>
    f.type === 'message' && f['kind'] === 'agent' && Array.isArray(f['attachments']);
  const first = await visitor.waitFor<HistoryMessage>(withFiles, 30_000);
  const second = await visitor.waitFor<HistoryMessage>(
    (f) => withFiles(f) && f['seq'] !== first.seq,
    30_000,
  );
  expect(first.text).toBe('Here, top right');
  expect(second.text).toBe('');
  const [image] = first.attachments as [Attachment];
  const [pdf] = second.attachments as [Attachment];
  expect(image).toMatchObject({ type: 'image/jpeg', width: 800, height: 600 });
  expect(pdf).toMatchObject({ name: 'guide.pdf', type: 'application/pdf', size: PDF.length });
  expect(pdf).not.toHaveProperty('width');

  // The links are the bucket's, signed, and work: the image re-encoded (no EXIF), the PDF as sent.
  for (const file of [image, pdf]) {
    expect(new URL(file.url).origin).toBe(s3.endpoint);
    expect(Date.parse(file.urlExpiresAt)).toBeGreaterThan(Date.now());
  }
  const served = await fetch(image.url);
  expect(served.status).toBe(200);
  const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
  expect([meta.width, meta.height, meta.exif]).toEqual([800, 600, undefined]);
  const document = await fetch(pdf.url);
  expect(document.status).toBe(200);
  expect(Buffer.from(await document.arrayBuffer())).toEqual(PDF);

  // The other gateway's history carries the same files with fresh links.
  const history = (await (
    await fetch(`${b}/v1/conversations/${c.conversationId}/messages`, {
      headers: { authorization: `Bearer ${c.token}` },
    })
  ).json()) as { messages: HistoryMessage[] };
  const agentFiles = history.messages
    .filter((m) => m.kind === 'agent')
    .map((m) => m.attachments?.map((f) => [f.id, f.width ?? null]));
  expect(agentFiles).toEqual([[[image.id, 800]], [[pdf.id, null]]]);
  await visitor.close();
});
