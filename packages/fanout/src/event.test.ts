import { describe, expect, it, vi } from 'vitest';
import { CoordinationErrorCode } from './errors';
import { deliverEvent, liveListeners, parseEvent, serializeEvent } from './event';
import type { Logger } from './logger';

describe('serializeEvent', () => {
  it('writes JSON objects and refuses anything Redis could not carry', () => {
    expect(serializeEvent({ type: 'message', seq: 1 })).toBe('{"type":"message","seq":1}');
    const invalid = expect.objectContaining({
      code: CoordinationErrorCode.InvalidArgument,
    }) as Error;
    expect(() => serializeEvent({ n: 1n })).toThrow(invalid);
    expect(() => serializeEvent([] as never)).toThrow(invalid);
    expect(() => serializeEvent(null as never)).toThrow(invalid);
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(() => serializeEvent(circular)).toThrow(invalid);
  });
});

describe('parseEvent', () => {
  it('returns objects and undefined for anything else', () => {
    expect(parseEvent('{"seq":1}')).toEqual({ seq: 1 });
    expect(parseEvent('not json')).toBeUndefined();
    expect(parseEvent('[1]')).toBeUndefined();
    expect(parseEvent('null')).toBeUndefined();
    expect(parseEvent('3')).toBeUndefined();
  });
});

describe('deliverEvent', () => {
  it('logs a throwing or rejecting listener and still calls the rest', async () => {
    const error = vi.fn();
    const logger: Logger = { info: vi.fn(), warn: vi.fn(), error };
    const good = vi.fn();
    deliverEvent(
      [
        () => {
          throw new Error('boom');
        },
        () => Promise.reject(new Error('later')),
        good,
      ],
      { seq: 1 },
      'c1',
      logger,
    );
    expect(good).toHaveBeenCalledWith({ seq: 1 });
    await vi.waitFor(() => {
      expect(error).toHaveBeenCalledTimes(2);
    });
  });
});

describe('liveListeners', () => {
  it('skips a listener that left while earlier ones were being called', () => {
    const second = { listener: vi.fn(), active: true };
    const first = {
      listener: () => {
        second.active = false;
      },
      active: true,
    };
    for (const listener of liveListeners([first, second])) listener({});
    expect(second.listener).not.toHaveBeenCalled();
  });
});
