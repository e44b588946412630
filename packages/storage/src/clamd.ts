import { connect } from 'node:net';
import type { Readable } from 'node:stream';

/** What a malware scan found: nothing, or the name of a signature. */
export type ScanVerdict = { infected: false } | { infected: true; signature: string };

/** A malware scanner for a file's bytes (ClamAV's clamd; a stand-in in tests). */
export interface Scanner {
  scan(body: Readable): Promise<ScanVerdict>;
}

/** Thrown when the scanner cannot be reached or answers with something else than a verdict. */
export class ScannerUnavailableError extends Error {
  override name = 'ScannerUnavailableError';
}

const CHUNK = 64 * 1024;

/**
 * ClamAV's daemon over TCP (`CLAMAV_URL=tcp://host:3310`), with its `INSTREAM` command: the
 * bytes go in chunks, each after its length as a 4-byte big-endian number, and a zero length
 * ends them; clamd answers `stream: OK` or `stream: <signature> FOUND`. The file never touches
 * the scanner's disk, and clamd's StreamMaxLength must be at least the largest file allowed.
 */
export class ClamdScanner implements Scanner {
  readonly #host: string;
  readonly #port: number;

  constructor(
    url: string,
    private readonly timeoutMs = 30_000,
  ) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'tcp:')
      throw new Error(`CLAMAV_URL must be tcp://host:port, not ${url}`);
    this.#host = parsed.hostname;
    this.#port = Number(parsed.port || 3310);
  }

  scan(body: Readable): Promise<ScanVerdict> {
    return new Promise<ScanVerdict>((resolve, reject) => {
      const socket = connect({ host: this.#host, port: this.#port });
      const answer: Buffer[] = [];
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        body.destroy();
        reject(new ScannerUnavailableError('the malware scanner did not answer', { cause: error }));
      };
      socket.setTimeout(this.timeoutMs, () => fail(new Error('timed out')));
      socket.on('error', fail);
      socket.on('data', (chunk: Buffer) => answer.push(chunk));
      socket.on('end', () => {
        if (settled) return;
        settled = true;
        socket.destroy();
        body.destroy();
        const verdict = parseVerdict(Buffer.concat(answer).toString('utf8'));
        if (verdict) resolve(verdict);
        else
          reject(
            new ScannerUnavailableError(
              `the malware scanner answered: ${Buffer.concat(answer).toString('utf8')}`,
            ),
          );
      });
      socket.once('connect', () => {
        void (async () => {
          socket.write('zINSTREAM\0');
          for await (const chunk of body as AsyncIterable<Buffer>) {
            for (let at = 0; at < chunk.length; at += CHUNK) {
              const part = chunk.subarray(at, at + CHUNK);
              const length = Buffer.alloc(4);
              length.writeUInt32BE(part.length);
              // Waits for the socket to drain, so a large file is never held in memory here.
              if (!socket.write(Buffer.concat([length, part])))
                await new Promise((r) => socket.once('drain', r));
              if (settled) return;
            }
          }
          socket.write(Buffer.alloc(4));
        })().catch(fail);
      });
    });
  }
}

/** `stream: OK` / `stream: Eicar-Test-Signature FOUND` (NUL-terminated with the `z` prefix). */
export function parseVerdict(answer: string): ScanVerdict | undefined {
  const text = answer.replace(/\0/g, '').trim();
  if (/^stream: OK$/.test(text)) return { infected: false };
  const found = /^stream: (.+) FOUND$/.exec(text);
  return found?.[1] ? { infected: true, signature: found[1] } : undefined;
}
