import { afterEach, describe, expect, it, vi } from 'vitest';
import { printStartup, STARTUP_SETTLE_MS, startupLines } from './startup';

afterEach(() => {
  vi.useRealTimers();
});

describe('startupLines', () => {
  it('lists the demo page, the sandbox agent page and health, plainly', () => {
    const lines = startupLines({
      base: 'http://127.0.0.1:3000',
      dataDir: '/srv/data',
      sandboxPath: '/telegram-sandbox',
    });
    expect(lines).toEqual([
      '',
      'Topicdesk is running (one process, data in /srv/data)',
      '  Visitor demo page:  http://127.0.0.1:3000/demo',
      '  Agent page (Telegram sandbox):  http://127.0.0.1:3000/telegram-sandbox/',
      '  Health: http://127.0.0.1:3000/readyz   Metrics: http://127.0.0.1:3000/metrics',
      '',
    ]);
    // Plain text: no escape sequences a log file or a pager would show as garbage.
    expect(lines.join('\n')).not.toContain('\u001b');
  });

  it('names the Telegram group instead of the sandbox with real Telegram', () => {
    const lines = startupLines({
      base: 'http://127.0.0.1:3000',
      dataDir: '/d',
      supportGroupId: '-1001234',
    });
    expect(lines).toContain('  Agents answer in Telegram group -1001234');
    expect(lines.join('\n')).not.toContain('telegram-sandbox');
  });
});

describe('printStartup', () => {
  it('writes at once when stdout is not a terminal, without waiting for the logs', () => {
    const written: string[] = [];
    const flush = vi.fn();
    printStartup(['', 'a', ''], { isTTY: false, write: (t) => written.push(t) }, flush);
    expect(written).toEqual(['\na\n\n']);
    expect(flush).not.toHaveBeenCalled();
  });

  it('on a terminal, writes after the logs are flushed and have settled, so it comes last', () => {
    vi.useFakeTimers();
    const order: string[] = [];
    let flushed: (() => void) | undefined;
    printStartup(['x'], { isTTY: true, write: (t) => order.push(`block:${t}`) }, (done) => {
      flushed = done;
    });
    order.push('log line');
    expect(order).toEqual(['log line']);
    flushed?.();
    vi.advanceTimersByTime(STARTUP_SETTLE_MS - 1);
    expect(order).toEqual(['log line']);
    vi.advanceTimersByTime(1);
    expect(order).toEqual(['log line', 'block:x\n']);
  });
});
