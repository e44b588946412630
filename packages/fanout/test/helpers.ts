import { randomUUID } from 'node:crypto';
import type { FanoutEvent, FanoutListener, Logger } from '../src/index';

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

export interface CapturingLogger extends Logger {
  readonly entries: LogEntry[];
}

export function captureLogger(): CapturingLogger {
  const entries: LogEntry[] = [];
  return {
    entries,
    info: (obj, msg) => entries.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
  };
}

export interface Collector {
  readonly listener: FanoutListener;
  readonly events: FanoutEvent[];
}

export function collector(): Collector {
  const events: FanoutEvent[] = [];
  return { events, listener: (event) => events.push(event) };
}

/** A key no other test uses. */
export function fresh(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
