import { GrammyError, HttpError } from 'grammy';
import { describe, expect, it } from 'vitest';
import { botIdOf, classifyTelegramError, RetryTracker } from './telegram-api';

function grammyError(
  error_code: number,
  description: string,
  parameters: { retry_after?: number } = {},
): GrammyError {
  return new GrammyError(
    "Call to 'sendMessage' failed!",
    { ok: false, error_code, description, parameters },
    'sendMessage',
    { chat_id: -1001, text: 'hello' },
  );
}

describe('classifyTelegramError', () => {
  it('turns a 429 into a wait of retry_after seconds', () => {
    expect(
      classifyTelegramError(
        grammyError(429, 'Too Many Requests: retry after 7', { retry_after: 7 }),
      ),
    ).toEqual({ kind: 'rate_limited', retryAfterMs: 7000 });
  });

  it('waits at least one second on a 429 without (or with a zero) retry_after', () => {
    expect(classifyTelegramError(grammyError(429, 'Too Many Requests'))).toEqual({
      kind: 'rate_limited',
      retryAfterMs: 1000,
    });
    expect(
      classifyTelegramError(grammyError(429, 'Too Many Requests', { retry_after: 0 })),
    ).toEqual({ kind: 'rate_limited', retryAfterMs: 1000 });
  });

  it('sees a deleted topic in "message thread not found"', () => {
    expect(
      classifyTelegramError(grammyError(400, 'Bad Request: message thread not found')),
    ).toEqual({ kind: 'topic_missing' });
  });

  it('sees a deleted topic in TOPIC_DELETED', () => {
    expect(classifyTelegramError(grammyError(400, 'Bad Request: TOPIC_DELETED'))).toEqual({
      kind: 'topic_missing',
    });
  });

  it('sees a closed topic in TOPIC_CLOSED', () => {
    expect(classifyTelegramError(grammyError(400, 'Bad Request: TOPIC_CLOSED'))).toEqual({
      kind: 'topic_closed',
    });
  });

  it('sees a topic already in the wanted state in TOPIC_NOT_MODIFIED', () => {
    expect(classifyTelegramError(grammyError(400, 'Bad Request: TOPIC_NOT_MODIFIED'))).toEqual({
      kind: 'topic_not_modified',
    });
  });

  it('calls any other 400 a rejection and keeps the description', () => {
    expect(classifyTelegramError(grammyError(400, 'Bad Request: message is too long'))).toEqual({
      kind: 'rejected',
      description: 'Bad Request: message is too long',
    });
  });

  it('calls 401 and 403 transient: an operator fixes the token or rights, and messages wait', () => {
    expect(classifyTelegramError(grammyError(401, 'Unauthorized')).kind).toBe('transient');
    expect(
      classifyTelegramError(grammyError(403, 'Forbidden: bot was kicked from the supergroup chat'))
        .kind,
    ).toBe('transient');
    expect(classifyTelegramError(grammyError(400, 'Bad Request: chat not found')).kind).toBe(
      'transient',
    );
  });

  it('calls a 5xx transient, even when its description mentions a topic', () => {
    expect(classifyTelegramError(grammyError(502, 'Bad Gateway'))).toEqual({
      kind: 'transient',
      description: 'Bad Gateway',
    });
    expect(classifyTelegramError(grammyError(500, 'Internal: TOPIC_CLOSED')).kind).toBe(
      'transient',
    );
  });

  it('calls a failed HTTP call (grammY HttpError) transient', () => {
    const error = new HttpError(
      "Network request for 'sendMessage' failed!",
      new Error('ECONNRESET'),
    );
    expect(classifyTelegramError(error)).toEqual({
      kind: 'transient',
      description: "Network request for 'sendMessage' failed!",
    });
  });

  it('calls anything else transient, whatever was thrown', () => {
    expect(classifyTelegramError(new Error('socket hang up'))).toEqual({
      kind: 'transient',
      description: 'socket hang up',
    });
    expect(classifyTelegramError('boom')).toEqual({ kind: 'transient', description: 'boom' });
  });
});

describe('botIdOf', () => {
  it('is the numeric id before the colon of the token', () => {
    expect(botIdOf('123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw')).toBe('123456789');
  });

  it('keeps only the first colon-separated part', () => {
    expect(botIdOf('42:abc:def')).toBe('42');
  });
});

describe('RetryTracker', () => {
  const send = RetryTracker.key('sendMessage', { chat_id: -1001, message_thread_id: 7, text: 'x' });

  it('keys a call by method, chat, topic and topic name, not by its text', () => {
    expect(send).toBe('sendMessage|-1001|7|');
    expect(
      RetryTracker.key('sendMessage', { chat_id: -1001, message_thread_id: 7, text: 'other' }),
    ).toBe(send);
    expect(
      RetryTracker.key('editForumTopic', { chat_id: -1001, message_thread_id: 7, name: 'n' }),
    ).toBe('editForumTopic|-1001|7|n');
    expect(RetryTracker.key('getMe', undefined)).toBe('getMe|||');
  });

  it('never tracks long polls', () => {
    expect(RetryTracker.key('getUpdates', { offset: 1 })).toBeUndefined();
    const tracker = new RetryTracker();
    tracker.failed(undefined);
    expect(tracker.previousFailures(undefined)).toBe(0);
  });

  it('counts the failures before a call and forgets them once a call succeeds', () => {
    const tracker = new RetryTracker();
    expect(tracker.previousFailures(send)).toBe(0);
    tracker.failed(send);
    tracker.failed(send);
    expect(tracker.previousFailures(send)).toBe(2);
    tracker.succeeded(send);
    expect(tracker.previousFailures(send)).toBe(0);
  });

  it('keeps other targets apart', () => {
    const tracker = new RetryTracker();
    tracker.failed(send);
    expect(
      tracker.previousFailures(
        RetryTracker.key('sendMessage', { chat_id: -1001, message_thread_id: 8 }),
      ),
    ).toBe(0);
  });

  it('forgets a failure after ten minutes', () => {
    let now = 0;
    const tracker = new RetryTracker(() => now);
    tracker.failed(send);
    now = 10 * 60_000;
    expect(tracker.previousFailures(send)).toBe(1);
    now += 1;
    expect(tracker.previousFailures(send)).toBe(0);
  });

  it('remembers at most 10,000 targets, dropping the oldest', () => {
    const tracker = new RetryTracker();
    const key = (i: number) => `sendMessage|${i}||`;
    for (let i = 0; i <= 10_000; i++) tracker.failed(key(i));
    expect(tracker.previousFailures(key(0))).toBe(0);
    expect(tracker.previousFailures(key(1))).toBe(1);
    expect(tracker.previousFailures(key(10_000))).toBe(1);
  });
});
