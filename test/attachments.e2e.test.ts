import type { UploadTicket } from '@topicdesk/protocol';
import {
  EICAR,
  jpegWithGps,
  PDF,
  startConversation,
  VisitorClient,
  type TestS3,
} from '@topicdesk/testkit';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { GROUP_ID, topicOf, type Cluster } from './support/cluster';
import { useFilesCluster } from './support/files-cluster';

// Issue 17, distributed mode: two gateways and a bridge as their own processes, files in an
// S3-compatible server (s3rver on loopback), scanned by ClamAV's clamd on loopback (the
// stand-in where clamav-daemon is not installed, said at the start). A visitor asks one
// replica for the links, uploads straight to the bucket, sends through the other replica; the
// bridge posts a photo (EXIF gone) and a document into the topic; the EICAR file never gets there.

let cluster: Cluster;
let s3: TestS3;
useFilesCluster((files) => ({ cluster, s3 } = files));

async function upload(
  gateway: string,
  token: string,
  conversationId: string,
  name: string,
  type: string,
  bytes: Buffer,
) {
  const res = await fetch(`${gateway}/v1/conversations/${conversationId}/attachments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name, type, size: bytes.length }),
  });
  expect(res.status).toBe(201);
  const ticket = (await res.json()) as UploadTicket;
  expect(new URL(ticket.uploadUrl).origin).toBe(s3.endpoint);
  const put = await fetch(ticket.uploadUrl, {
    method: 'PUT',
    headers: ticket.headers,
    body: new Uint8Array(bytes),
  });
  expect(put.status).toBe(200);
  return ticket.id;
}

it('takes a photo and a PDF to the topic through S3, and refuses the EICAR file', async () => {
  const [a, b] = cluster.gateways.map((g) => g.url) as [string, string];
  const c = await startConversation(a);
  const photo = await upload(
    b,
    c.token,
    c.conversationId,
    'photo.jpg',
    'image/jpeg',
    await jpegWithGps(),
  );
  const pdf = await upload(b, c.token, c.conversationId, 'invoice.pdf', 'application/pdf', PDF);
  const eicar = await upload(b, c.token, c.conversationId, 'eicar.txt', 'text/plain', EICAR);

  const visitor = await VisitorClient.connect(a, c.token);
  await visitor.waitFor((f) => f.type === 'status');
  visitor.send({ type: 'message', clientId: 'bad', text: 'virus?', attachments: [eicar] });
  const refused = await visitor.waitFor((f) => f.type === 'error' && f['clientId'] === 'bad');
  expect(refused['code']).toBe('ATTACHMENT_INFECTED');

  visitor.send({
    type: 'message',
    clientId: 'files',
    text: 'my photo and invoice',
    attachments: [photo, pdf],
  });
  const ack = await visitor.waitFor((f) => f.type === 'ack' && f['clientId'] === 'files');
  await visitor.waitFor(
    (f) => f.type === 'receipt' && f['seq'] === ack['seq'] && f['state'] === 'delivered',
    30_000,
  );

  const topic = await topicOf(cluster.sandbox, c.ticket);
  const media = cluster.sandbox.state
    .messages({ chatId: GROUP_ID, threadId: topic })
    .filter((m) => m.media);
  expect(media.map((m) => [m.media?.kind, m.caption])).toEqual([
    ['photo', 'my photo and invoice'],
    ['document', null],
  ]);
  expect(media[1]?.media).toMatchObject({ name: 'invoice.pdf', size: PDF.length });
  // What the agents got has no EXIF (no GPS position) left.
  const sent = await fetch(`${cluster.sandbox.url}/sandbox/files/${media[0]!.media!.fileId}`);
  expect((await sharp(Buffer.from(await sent.arrayBuffer())).metadata()).exif).toBeUndefined();
  // The refused file and its message never reached the topic.
  const texts = cluster.sandbox.state
    .messages({ chatId: GROUP_ID, threadId: topic })
    .map((m) => m.text ?? '');
  expect(texts.some((t) => t.includes('virus?'))).toBe(false);

  // The history carries the files with signed links to the bucket; the image is served re-encoded.
  const history = (await (
    await fetch(`${b}/v1/conversations/${c.conversationId}/messages`, {
      headers: { authorization: `Bearer ${c.token}` },
    })
  ).json()) as { messages: Array<{ attachments?: Array<{ url: string; width?: number }> }> };
  const files = history.messages.flatMap((m) => m.attachments ?? []);
  expect(files).toHaveLength(2);
  expect(files[0]?.width).toBe(64);
  const image = await fetch(files[0]!.url);
  expect(image.status).toBe(200);
  expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).exif).toBeUndefined();
  await visitor.close();
});
