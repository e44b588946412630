import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EICAR, type FakeClamd } from './fake-clamd';
import { freePort } from './process';

/** Where Debian's clamav-daemon puts clamd (CLAMD_PATH overrides). */
const CLAMD = process.env['CLAMD_PATH'] ?? '/usr/sbin/clamd';

/** The name ClamAV gives the test database's EICAR signature (hash signatures are "unofficial"). */
export const TEST_SIGNATURE = 'Topicdesk.Test.EICAR.UNOFFICIAL';

export interface RealClamd extends Omit<FakeClamd, 'scans'> {
  readonly real: true;
}

/** Why the real clamd cannot run here, or undefined when it can. */
export function clamdMissing(): string | undefined {
  return existsSync(CLAMD)
    ? undefined
    : `${CLAMD} is not installed (Debian's clamav-daemon; .ci/run installs it)`;
}

/** Whether clamd answers PING with PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('close', () => resolve(answer.startsWith('PONG')));
    socket.on('error', () => resolve(false));
  });
}

/**
 * ClamAV's own clamd (Debian's clamav-daemon) on a loopback port, with a signature database
 * of one hash signature for the EICAR test file that it writes itself: ClamAV's databases cannot
 * be downloaded here, and clamd refuses to start without any. It scans what it is sent with
 * the real engine (INSTREAM, stream limits, its parsers); only the database is the test's.
 */
export async function startClamd(): Promise<RealClamd> {
  const missing = clamdMissing();
  if (missing) throw new Error(missing);
  const dir = await mkdtemp(join(tmpdir(), 'topicdesk-clamd-'));
  const md5 = createHash('md5').update(EICAR).digest('hex');
  await writeFile(join(dir, 'topicdesk-test.hdb'), `${md5}:${EICAR.length}:Topicdesk.Test.EICAR\n`);
  const port = await freePort();
  const config = join(dir, 'clamd.conf');
  await writeFile(
    config,
    [
      'Foreground yes',
      `DatabaseDirectory ${dir}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `PidFile ${join(dir, 'clamd.pid')}`,
      'StreamMaxLength 60M',
      'SelfCheck 0',
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn(CLAMD, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!(await pong(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`clamd did not start: ${output.slice(-2_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { real: true, url: `tcp://127.0.0.1:${port}`, stop };
}
