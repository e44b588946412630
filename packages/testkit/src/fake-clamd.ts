import { createServer, type AddressInfo, type Server } from 'node:net';

/** The EICAR test file: every scanner flags it, and it is harmless. */
export const EICAR = Buffer.from(
  'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*',
);

export interface FakeClamd {
  url: string;
  /** How many streams it scanned. */
  scans: () => number;
  stop(): Promise<void>;
}

/**
 * A tiny clamd that speaks the INSTREAM protocol exactly as ClamAV documents it (zINSTREAM\0,
 * length-prefixed chunks, a zero length to end, a NUL-terminated verdict) and flags the EICAR
 * string. Quicker than ClamAV's own clamd (`startClamd`), and it counts scans; suites use it where
 * clamav-daemon is not installed.
 */
export async function startFakeClamd(): Promise<FakeClamd> {
  let scans = 0;
  const server: Server = createServer((socket) => {
    let buffer = Buffer.alloc(0);
    let command = false;
    const content: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!command) {
        const end = buffer.indexOf(0);
        if (end < 0) return;
        if (buffer.subarray(0, end).toString() !== 'zINSTREAM') {
          socket.end('UNKNOWN COMMAND\0');
          return;
        }
        command = true;
        buffer = buffer.subarray(end + 1);
      }
      while (buffer.length >= 4) {
        const length = buffer.readUInt32BE(0);
        if (length === 0) {
          scans += 1;
          const all = Buffer.concat(content);
          socket.end(all.includes(EICAR) ? 'stream: Eicar-Test-Signature FOUND\0' : 'stream: OK\0');
          return;
        }
        if (buffer.length < 4 + length) return;
        content.push(buffer.subarray(4, 4 + length));
        buffer = buffer.subarray(4 + length);
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `tcp://127.0.0.1:${port}`,
    scans: () => scans,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
