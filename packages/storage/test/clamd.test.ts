import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clamdMissing,
  EICAR,
  PDF,
  startClamd,
  TEST_SIGNATURE,
  type RealClamd,
} from '@topicdesk/testkit';
import { ClamdScanner } from '../src/index';

// The scanner against ClamAV's own clamd (Debian's clamav-daemon), not the stand-in: the
// INSTREAM protocol, chunking and verdicts as the real engine speaks them.
const missing = clamdMissing();
if (missing) console.log(`skipped: the real-clamd tests need clamd: ${missing}`);

describe.skipIf(missing !== undefined)("ClamdScanner against ClamAV's clamd", () => {
  let clamd: RealClamd;
  beforeAll(async () => {
    clamd = await startClamd();
  }, 90_000);
  afterAll(() => clamd?.stop());

  const scan = (bytes: Buffer | Buffer[]) =>
    new ClamdScanner(clamd.url).scan(Readable.from(Array.isArray(bytes) ? bytes : [bytes]));

  it('finds the EICAR file, named by its signature', async () => {
    expect(await scan(EICAR)).toEqual({ infected: true, signature: TEST_SIGNATURE });
  });

  it('passes a PDF, and a 3 MB file sent in many chunks', async () => {
    expect(await scan(PDF)).toEqual({ infected: false });
    const chunks = Array.from({ length: 48 }, (_, i) => Buffer.alloc(65_536, i));
    expect(await scan(chunks)).toEqual({ infected: false });
  });

  it('finds EICAR split across chunks (clamd scans the stream, not each chunk)', async () => {
    expect(await scan([EICAR.subarray(0, 20), EICAR.subarray(20)])).toEqual({
      infected: true,
      signature: TEST_SIGNATURE,
    });
  });
});
