import { existsSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';
import type { SpanRecord } from '@topicdesk/telemetry';

/** Every complete span line written so far to a TOPICDESK_TRACE_FILE. */
export function readSpans(file: string): SpanRecord[] {
  if (!existsSync(file)) return [];
  const spans: SpanRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      spans.push(JSON.parse(line) as SpanRecord);
    } catch {
      // A line still being written by another process; it is complete on the next read.
    }
  }
  return spans;
}

/** Polls the trace file until `find` returns something. */
export async function waitForSpans<T>(
  file: string,
  find: (spans: SpanRecord[]) => T | undefined,
  timeoutMs = 15_000,
  description = 'spans',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find(readSpans(file));
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${description} in ${file}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The span's ancestors in its trace, nearest first; stops where a parent was not recorded. */
export function ancestors(spans: readonly SpanRecord[], span: SpanRecord): SpanRecord[] {
  const byId = new Map(
    spans.filter((s) => s.traceId === span.traceId).map((s) => [s.spanId, s] as const),
  );
  const chain: SpanRecord[] = [];
  let parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
  while (parent) {
    chain.push(parent);
    parent = parent.parentSpanId === undefined ? undefined : byId.get(parent.parentSpanId);
  }
  return chain;
}

/** A readable line per span of a chain, for assertion messages. */
export function describeChain(chain: readonly SpanRecord[]): string {
  return chain.map((s) => `${s.service}: ${s.kind} ${s.name}`).join(' <- ');
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** GET /metrics and parse the Prometheus text exposition format into samples. */
export async function scrape(baseUrl: string): Promise<Sample[]> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return parsePrometheus(await response.text());
}

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Samples of one series name whose labels include `labels`. */
export function series(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** Sum of the matching samples' values (undefined when there is no such series at all). */
export function total(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = series(samples, name, labels);
  return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
}

/** Calls `get` until `done` accepts its result (or the time is up: then the last result). */
export async function eventually<T>(
  get: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What a visitor holds for one seq: its own message (acked) or a message frame. */
export interface TimelineEntry {
  seq: number;
  kind: string;
  text: string;
}

type VisitorFrame = Record<string, unknown> & { type: string };

/**
 * A visitor as the widget behaves: one socket at a time; when the server closes it (1012 on a
 * restart) it reconnects to the next gateway, resumes after the highest seq it holds without a
 * gap, and sends again the messages that were never acked (same clientId). Keeps one entry per
 * seq (`timeline`, as the widget dedupes by seq) and counts frames that repeated a seq.
 */
export class ResumingVisitor {
  readonly timeline = new Map<number, TimelineEntry>();
  readonly closeCodes: number[] = [];
  repeats = 0;
  readonly #unacked = new Map<string, string>();
  #socket: WebSocket | undefined;
  #next = 0;
  #stopped = false;
  #connecting: Promise<void> | undefined;

  constructor(
    private readonly token: string,
    private readonly gatewayUrls: () => readonly string[],
  ) {}

  /** The highest seq held with every seq below it. */
  get contiguousSeq(): number {
    let seq = 0;
    while (this.timeline.has(seq + 1)) seq += 1;
    return seq;
  }

  get unacked(): number {
    return this.#unacked.size;
  }

  /** Entries in seq order. */
  entries(kind?: string): TimelineEntry[] {
    return [...this.timeline.values()]
      .filter((e) => kind === undefined || e.kind === kind)
      .sort((a, b) => a.seq - b.seq);
  }

  connect(index = this.#next): Promise<void> {
    this.#connecting ??= this.#open(index).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  send(clientId: string, text: string): void {
    this.#unacked.set(clientId, text);
    this.#write({ type: 'message', clientId, text });
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#socket?.close();
  }

  async #open(first: number): Promise<void> {
    const urls = this.gatewayUrls();
    for (let attempt = 0; !this.#stopped; attempt++) {
      const index = (first + attempt) % urls.length;
      try {
        const socket = await openSocket(`${urls[index]!.replace(/^http/, 'ws')}/v1/ws`, this.token);
        this.#next = index;
        this.#socket = socket;
        socket.on('error', () => undefined);
        socket.on('message', (data: WebSocket.RawData) =>
          this.#onFrame(JSON.parse(rawText(data)) as VisitorFrame),
        );
        socket.on('close', (code) => {
          this.closeCodes.push(code);
          if (this.#socket === socket) this.#socket = undefined;
          // Like the widget: reconnect elsewhere, a little later.
          if (!this.#stopped) setTimeout(() => void this.connect((index + 1) % urls.length), 100);
        });
        socket.send(JSON.stringify({ type: 'resume', afterSeq: this.contiguousSeq }));
        for (const [clientId, text] of this.#unacked)
          socket.send(JSON.stringify({ type: 'message', clientId, text }));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  #write(frame: Record<string, unknown>): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }

  #onFrame(frame: VisitorFrame): void {
    const seq = frame['seq'];
    if (typeof seq !== 'number') return;
    let entry: TimelineEntry | undefined;
    if (frame.type === 'ack') {
      const clientId = String(frame['clientId']);
      entry = { seq, kind: 'visitor', text: this.#unacked.get(clientId) ?? '' };
      this.#unacked.delete(clientId);
    } else if (frame.type === 'message') {
      entry = { seq, kind: String(frame['kind']), text: String(frame['text']) };
    }
    if (!entry) return;
    if (this.timeline.has(seq)) this.repeats += 1;
    else this.timeline.set(seq, entry);
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function openSocket(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => {
      socket.terminate();
      reject(new Error(`upgrade refused: ${response.statusCode}`));
    });
    socket.once('error', reject);
  });
}
