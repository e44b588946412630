import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startConversation, type StartedConversation } from '@topicdesk/testkit';

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  memory: string;
  node: string;
  openFilesLimit: string;
  loadAverage: string;
}

/** What the numbers were measured on, for docs/benchmarks.md. */
export function machine(): Machine {
  const free = execFileSync('free', ['-h'], { encoding: 'utf8' });
  const memLine = free.split('\n').find((line) => line.startsWith('Mem:')) ?? '';
  const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    date: new Date().toISOString(),
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuInfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown',
    memory: memLine.split(/\s+/)[1] ?? 'unknown',
    node: process.version,
    openFilesLimit: execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim(),
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may contain spaces, start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * Write system calls a process has made (`syscw` of /proc/<pid>/io): with sockets, about one per
 * message it sends to another process (a query, a command, a publish, a frame), so the count per
 * message counts its round trips, whatever the machine's load.
 */
export function writeCalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? 0);
}

/** Resident memory of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/** File descriptors a process holds open. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The p-th percentile (0–100) of the values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** Writes a benchmark's result as JSON under test-results/bench/ and prints it. */
export function report(name: string, result: Record<string, unknown>): void {
  const dir = join(repoRoot, 'test-results', 'bench');
  mkdirSync(dir, { recursive: true });
  const body = { name, machine: machine(), ...result };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(body, null, 2)}\n`);
  console.log(JSON.stringify(body, null, 2));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `task` over `items`, at most `concurrency` at a time, in order of start. */
export async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}

/** Starts `count` conversations on the gateway at `url`, `concurrency` at a time. */
export function startConversations(
  url: string,
  count: number,
  concurrency = 20,
): Promise<StartedConversation[]> {
  return inBatches(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    () => startConversation(url),
  );
}
