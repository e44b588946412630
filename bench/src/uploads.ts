// Benchmark 5 (issue 17): BENCH_UPLOADS_VISITORS visitors (default 50) each upload a
// BENCH_UPLOADS_MB file (default 5 MB, a PDF: documents are streamed through every check; images
// are decoded whole by the re-encoder, bounded by ATTACHMENTS_MAX_IMAGE_PIXELS) at the same moment,
// then send it. Two cases (BENCH_UPLOADS_CASE=s3|fs|all):
//
// `s3`: the distributed mode. Two gateway replicas and a bridge as their own processes, files in
// an S3-compatible server (s3rver, in this process) and scanned on loopback by ClamAV's clamd
// (the stand-in where clamav-daemon is not installed; every byte goes through the scan). The browser's PUT goes straight to the bucket; the gateway
// reads the upload once to scan and sniff it and copies it to its stored key. Telegram's limits
// with their real windows, BENCH_SENDER_BOTS pool bots (default 3) beside the main bot.
//
// `fs`: one process (services/standalone with its embedded defaults): the PUT goes to the
// gateway's `/v1/files`, which streams it to DATA_DIR.
//
// Measured: upload throughput (all PUTs, start of the first to end of the last) against an anchor
// measured in the same run, before and after it — the same files PUT at once to the same place
// without Topicdesk (the bucket through presigned URLs; for `fs`, a bare node:http server piping
// each request to a file) — the gateways' memory (peak RSS over the run less the RSS before it, against the bytes
// in flight: buffering whole files would need at least those), and the time from a visitor's
// upload end to the file in the topic (p50/p95), with the least time Telegram's limits allow
// the sends (for `s3`).
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { UploadTicket } from '@topicdesk/protocol';
import { S3Storage } from '@topicdesk/storage';
import {
  freePort,
  S3RVER_CREDENTIALS,
  ServiceProcess,
  clamdMissing,
  startClamd,
  startFakeClamd,
  startTestS3,
  VisitorClient,
  type StartedConversation,
} from '@topicdesk/testkit';
import { GROUP_ID, startCluster } from '../../test/support/cluster';
import { senderTokens, withTelegramLimits } from './drain';
import {
  inBatches,
  percentile,
  report,
  round,
  rssBytes,
  sleep,
  startConversations,
} from './lib/machine';

const VISITORS = Number(process.env['BENCH_UPLOADS_VISITORS'] ?? '50');
const FILE_BYTES = Math.round(Number(process.env['BENCH_UPLOADS_MB'] ?? '5') * 1024 * 1024);
const SENDER_BOTS = Number(process.env['BENCH_SENDER_BOTS'] ?? '3');
const CASES = ['s3', 'fs'] as const;
type UploadCase = (typeof CASES)[number];
const LIMITS = { perGroupPerMinute: 20, perChatPerSecond: 1, globalPerSecond: 30 };
const MiB = 1024 * 1024;

/** A PDF as file-type sniffs one (its header), `size` bytes of incompressible body. */
function pdfOf(size: number, seed: number): Buffer {
  const head = Buffer.from(`%PDF-1.4\n% upload bench ${seed}\n`);
  const tail = Buffer.from('\n%%EOF\n');
  const body = randomBytes(size - head.length - tail.length);
  return Buffer.concat([head, body, tail]);
}

/**
 * Samples the processes' RSS every 50 ms: `read` gives each one's peak so far against its RSS
 * at the start, `stop` the same and ends the sampling.
 */
function rssSampler(pids: Record<string, number>) {
  const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, rssBytes(pid)]));
  const peak = { ...before };
  const timer = setInterval(() => {
    for (const [name, pid] of Object.entries(pids))
      peak[name] = Math.max(peak[name]!, rssBytes(pid));
  }, 50);
  const read = () =>
    Object.fromEntries(
      Object.keys(pids).map((name) => [
        name,
        {
          beforeMiB: round(before[name]! / MiB),
          peakMiB: round(peak[name]! / MiB),
          growthMiB: round((peak[name]! - before[name]!) / MiB),
        },
      ]),
    );
  return {
    read,
    stop: () => {
      clearInterval(timer);
      return read();
    },
  };
}

interface Put {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A PUT on a connection of its own (node:http, no keep-alive), as each of 50 browsers would
 * open one: no request lands on a connection the server is closing.
 */
function put(target: Put): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      {
        method: 'PUT',
        agent: false,
        headers: { ...target.headers, 'content-length': String(target.body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          res.statusCode !== undefined && res.statusCode < 300
            ? resolve()
            : reject(
                new Error(`PUT answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`),
              ),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(target.body);
  });
}

/** PUTs every file at once; answers each one's end time and the throughput of them all. */
async function putAll(puts: readonly Put[]) {
  const started = performance.now();
  const ends = await Promise.all(
    puts.map(async (target) => {
      await put(target);
      return performance.now();
    }),
  );
  const seconds = (Math.max(...ends) - started) / 1000;
  const bytes = puts.reduce((sum, p) => sum + p.body.length, 0);
  return {
    ends,
    seconds: round(seconds, 2),
    mibPerSecond: round(bytes / MiB / seconds),
  };
}

async function tickets(gateway: string, conversations: readonly StartedConversation[]) {
  return inBatches(conversations, 10, async (c, i) => {
    const res = await fetch(`${gateway}/v1/conversations/${c.conversationId}/attachments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` },
      body: JSON.stringify({ name: `report-${i}.pdf`, type: 'application/pdf', size: FILE_BYTES }),
    });
    if (res.status !== 201) throw new Error(`upload link ${res.status}: ${await res.text()}`);
    return (await res.json()) as UploadTicket;
  });
}

/** Sends each visitor's file with a caption naming it; resolves once every one is acknowledged. */
async function sendAll(clients: readonly VisitorClient[], ids: readonly string[]) {
  clients.forEach((client, i) =>
    client.send({
      type: 'message',
      clientId: `file-${i}`,
      text: `upload bench ${i}`,
      attachments: [ids[i]],
    }),
  );
  await Promise.all(
    clients.map((client, i) =>
      client.waitFor(
        (f) => (f.type === 'ack' || f.type === 'error') && f['clientId'] === `file-${i}`,
        600_000,
      ),
    ),
  );
  const refused = clients.flatMap((c) => c.of('error'));
  if (refused.length > 0) throw new Error(`files refused: ${JSON.stringify(refused.slice(0, 3))}`);
}

/** The least seconds `count` sends into one group take under the limits with `bots` bots. */
function idealSeconds(count: number, bots: number): number {
  const each = Math.ceil(count / bots);
  return each <= LIMITS.perGroupPerMinute ? 0 : Math.ceil(each / LIMITS.perGroupPerMinute - 1) * 60;
}

async function uploadsS3() {
  const s3 = await startTestS3();
  // ClamAV's own clamd where installed (its engine reads every byte), else the stand-in.
  const scanner = clamdMissing() === undefined ? 'clamd' : 'clamd stand-in';
  const clamd = scanner === 'clamd' ? await startClamd() : await startFakeClamd();
  const tokens = senderTokens(SENDER_BOTS);
  const files = { ...s3.env, CLAMAV_URL: clamd.url, ATTACHMENTS_SCAN: 'required' };
  const quiet = { LOG_LEVEL: 'warn', LIMIT_UPLOADS_PER_HOUR: '1000' };
  const cluster = await startCluster({
    gateways: 2,
    schedulers: 0,
    gatewayEnv: {
      ...files,
      ...quiet,
      LIMIT_CONVERSATIONS_PER_DAY: '100000',
      LIMIT_MESSAGES_PER_HOUR: '100000',
      ATTACHMENTS_MAX_CONVERSATION_BYTES: String(4 * FILE_BYTES),
    },
    bridgeEnv: {
      ...files,
      ...quiet,
      ...(tokens.length > 0 ? { TELEGRAM_SENDER_BOT_TOKENS: tokens.join(',') } : {}),
    },
  });
  const clients: VisitorClient[] = [];
  try {
    const [a, b] = cluster.gateways as [ServiceProcess, ServiceProcess];
    const { state } = cluster.sandbox;
    // Set-up with the limits off: the conversations and their topics, so that what is timed
    // is the files alone.
    const conversations = await startConversations(a.url, VISITORS);
    clients.push(
      ...(await inBatches(conversations, 20, (c, i) =>
        VisitorClient.connect(i % 2 === 0 ? a.url : b.url, c.token),
      )),
    );
    clients.forEach((client, i) => client.sendMessage(`hello-${i}`, `hello ${i}`));
    await state.waitFor(
      () =>
        conversations.every((c) => state.topics(GROUP_ID).some((t) => t.name.includes(c.ticket))),
      300_000,
    );
    await sleep(5_000);

    // Telegram's limits, real windows, both sides starting empty.
    await withTelegramLimits(cluster);

    const inTopic = new Map<number, number>();
    state.on('message', ({ chatId, message }) => {
      const index = /^upload bench (\d+)$/.exec(message.caption ?? '')?.[1];
      if (chatId === GROUP_ID && index !== undefined && !inTopic.has(Number(index)))
        inTopic.set(Number(index), performance.now());
    });

    // The anchor first: the same files PUT at once to the same bucket, no Topicdesk.
    const bodies = Array.from({ length: VISITORS }, (_, i) => pdfOf(FILE_BYTES, i));
    const bucket = new S3Storage({
      bucket: s3.bucket,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
    const anchorPuts = await Promise.all(
      bodies.map(async (body, i) => {
        const link = await bucket.signPut(`anchor/${i}`, {
          type: 'application/pdf',
          size: body.length,
          expiresInMs: 600_000,
        });
        return { url: link.url, headers: link.headers, body };
      }),
    );
    await putAll(anchorPuts); // a round to warm the bucket's server up, not counted
    const anchor = await putAll(anchorPuts);
    await bucket.close();

    const issued = await tickets(b.url, conversations);
    const memory = rssSampler({ gateway1: a.pid!, gateway2: b.pid!, bridge: cluster.bridge.pid! });
    const uploaded = await putAll(
      issued.map((t, i) => ({ url: t.uploadUrl, headers: t.headers, body: bodies[i]! })),
    );
    await sendAll(
      clients,
      issued.map((t) => t.id),
    );
    // The gateways' part ends with the acks (checked and stored); the bridge's with the sends.
    const checked = memory.read();
    await state.waitFor(() => inTopic.size >= VISITORS, 1_200_000);
    const sent = memory.stop();
    // The anchor again once all is quiet: the machine's drift between the two shows.
    const anchorAfter = await putAll(anchorPuts);
    const latencies = uploaded.ends.map((end, i) => (inTopic.get(i)! - end) / 1000);
    report('uploads-s3', {
      visitors: VISITORS,
      fileMiB: round(FILE_BYTES / MiB, 2),
      senderBots: SENDER_BOTS,
      scanner,
      upload: {
        topicdesk: putFigures(uploaded),
        anchor: {
          what: 'presigned PUTs to the same bucket, before and after',
          before: putFigures(anchor),
          after: putFigures(anchorAfter),
        },
        ratio: round(uploaded.mibPerSecond / mean(anchor, anchorAfter), 2),
      },
      memory: {
        bytesInFlightMiB: round((VISITORS * FILE_BYTES) / MiB),
        untilChecked: checked,
        untilInTopic: sent,
      },
      uploadEndToTopicSeconds: {
        p50: round(percentile(latencies, 50), 2),
        p95: round(percentile(latencies, 95), 2),
        max: round(Math.max(...latencies), 2),
        leastTelegramAllows: idealSeconds(VISITORS, SENDER_BOTS + 1),
      },
    });
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await cluster.stop();
    await clamd.stop();
    await s3.stop();
  }
}

const putFigures = (run: { seconds: number; mibPerSecond: number }) => ({
  seconds: run.seconds,
  mibPerSecond: run.mibPerSecond,
});

/** The anchor's throughput: the mean of its runs before and after Topicdesk's. */
const mean = (...runs: Array<{ mibPerSecond: number }>) =>
  runs.reduce((sum, run) => sum + run.mibPerSecond, 0) / runs.length;

/** A bare node:http server writing each PUT's body to a file: the `fs` case's anchor. */
async function bareFileServer(directory: string) {
  let next = 0;
  const server = createServer((req, res) => {
    pipeline(req, createWriteStream(join(directory, `anchor-${next++}`))).then(
      () => res.end('ok'),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function uploadsFs() {
  const workDir = mkdtempSync(join(tmpdir(), 'topicdesk-bench-uploads-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = new ServiceProcess({
    name: 'standalone',
    script: 'services/standalone/src/main.ts',
    url: base,
    env: {
      PORT: String(port),
      PUBLIC_URL: base,
      LOG_LEVEL: 'warn',
      LIMIT_CONVERSATIONS_PER_DAY: '100000',
      LIMIT_MESSAGES_PER_HOUR: '100000',
      LIMIT_UPLOADS_PER_HOUR: '1000',
      ATTACHMENTS_MAX_CONVERSATION_BYTES: String(4 * FILE_BYTES),
    },
    cwd: workDir,
    cleanEnv: true,
  });
  const clients: VisitorClient[] = [];
  const anchorServer = await bareFileServer(workDir);
  try {
    await app.start(90_000);
    const conversations = await startConversations(base, VISITORS);
    clients.push(
      ...(await inBatches(conversations, 20, (c) => VisitorClient.connect(base, c.token))),
    );
    const bodies = Array.from({ length: VISITORS }, (_, i) => pdfOf(FILE_BYTES, i));
    const anchorPuts = bodies.map((body) => ({
      url: anchorServer.url,
      headers: { 'content-type': 'application/pdf' },
      body,
    }));
    await putAll(anchorPuts); // a round to warm up, not counted
    const anchor = await putAll(anchorPuts);

    const issued = await tickets(base, conversations);
    const memory = rssSampler({ standalone: app.pid! });
    const uploaded = await putAll(
      issued.map((t, i) => ({ url: t.uploadUrl, headers: t.headers, body: bodies[i]! })),
    );
    await sendAll(
      clients,
      issued.map((t) => t.id),
    );
    // Uploaded, checked and stored. Past this the process's RSS also holds what its embedded
    // Telegram sandbox keeps of every file it is sent, so it is not read further.
    const checked = memory.stop();
    // The embedded Telegram sandbox answers over HTTP: poll the group for the files.
    const inTopic = new Map<number, number>();
    const deadline = Date.now() + 1_200_000;
    while (inTopic.size < VISITORS) {
      if (Date.now() > deadline) throw new Error(`${inTopic.size} of ${VISITORS} files in topics`);
      const res = await fetch(
        `${base}/telegram-sandbox/sandbox/messages?chatId=${GROUP_ID}&fromBot=true`,
      );
      const now = performance.now();
      for (const m of (await res.json()) as Array<{ caption?: string | null }>) {
        const index = /^upload bench (\d+)$/.exec(m.caption ?? '')?.[1];
        if (index !== undefined && !inTopic.has(Number(index))) inTopic.set(Number(index), now);
      }
      await sleep(250);
    }
    const anchorAfter = await putAll(anchorPuts);
    const latencies = uploaded.ends.map((end, i) => (inTopic.get(i)! - end) / 1000);
    report('uploads-fs', {
      visitors: VISITORS,
      fileMiB: round(FILE_BYTES / MiB, 2),
      upload: {
        topicdesk: putFigures(uploaded),
        anchor: {
          what: 'node:http piping each PUT to a file, before and after',
          before: putFigures(anchor),
          after: putFigures(anchorAfter),
        },
        ratio: round(uploaded.mibPerSecond / mean(anchor, anchorAfter), 2),
      },
      memory: { bytesInFlightMiB: round((VISITORS * FILE_BYTES) / MiB), untilChecked: checked },
      uploadEndToTopicSeconds: {
        p50: round(percentile(latencies, 50), 2),
        p95: round(percentile(latencies, 95), 2),
        max: round(Math.max(...latencies), 2),
        note: 'polled every 250 ms; the embedded sandbox paces sends as Telegram does',
      },
    });
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await anchorServer.close();
    await app.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

export async function benchUploads() {
  const chosen = process.env['BENCH_UPLOADS_CASE'] ?? 'all';
  const cases = chosen === 'all' ? CASES : CASES.filter((c) => c === chosen);
  if (cases.length === 0)
    throw new Error(`BENCH_UPLOADS_CASE=${chosen}; use ${CASES.join(', ')} or all`);
  for (const uploadCase of cases satisfies readonly UploadCase[]) {
    if (uploadCase === 's3') await uploadsS3();
    else await uploadsFs();
  }
}
