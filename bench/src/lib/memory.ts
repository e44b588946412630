import { existsSync, readFileSync, rmSync } from 'node:fs';
import { sleep } from './machine';

/** What the memory probe (bench/src/anchors/memory-probe.ts) writes: process.memoryUsage(). */
export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

/**
 * Live memory of a process that preloads the memory probe: SIGUSR2 makes it collect fully, then
 * write its reading to `file`.
 */
export async function probeMemory(pid: number, file: string): Promise<Memory> {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 60_000;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no memory reading from ${pid}`);
    await sleep(100);
  }
  await sleep(50);
  return JSON.parse(readFileSync(file, 'utf8')) as Memory;
}
