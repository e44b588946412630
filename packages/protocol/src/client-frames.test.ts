import { describe, expect, it } from 'vitest';
import { clientFrameSchema } from './client-frames';

describe('clientFrameSchema', () => {
  it.each([
    { type: 'message', clientId: 'c-1', text: 'hello' },
    { type: 'message', clientId: 'x'.repeat(100), text: '' },
    { type: 'typing' },
    { type: 'resume', afterSeq: 0 },
    { type: 'resume', afterSeq: 42 },
    { type: 'read', seq: 1 },
    { type: 'read', seq: 42 },
  ])('accepts %j', (frame) => {
    expect(clientFrameSchema.safeParse(frame).success).toBe(true);
  });

  it.each([
    ['an unknown type', { type: 'hello' }],
    ['no type', { clientId: 'c', text: 'x' }],
    ['a message without clientId', { type: 'message', text: 'x' }],
    ['an empty clientId', { type: 'message', clientId: '', text: 'x' }],
    ['a clientId over 100 characters', { type: 'message', clientId: 'x'.repeat(101), text: 'x' }],
    ['a text that is not a string', { type: 'message', clientId: 'c', text: 42 }],
    ['a resume without afterSeq', { type: 'resume' }],
    ['a negative afterSeq', { type: 'resume', afterSeq: -1 }],
    ['a fractional afterSeq', { type: 'resume', afterSeq: 1.5 }],
    ['an afterSeq given as a string', { type: 'resume', afterSeq: '3' }],
    ['an afterSeq beyond any seq (2^53)', { type: 'resume', afterSeq: 2 ** 53 }],
    ['a read without seq', { type: 'read' }],
    ['a read of seq 0 (nothing to have read)', { type: 'read', seq: 0 }],
    ['a fractional read seq', { type: 'read', seq: 2.5 }],
    ['a read seq given as a string', { type: 'read', seq: '3' }],
    ['a read seq beyond any seq (2^53)', { type: 'read', seq: 2 ** 53 }],
    ['an array', [{ type: 'typing' }]],
    ['null', null],
  ])('refuses %s', (_name, frame) => {
    expect(clientFrameSchema.safeParse(frame).success).toBe(false);
  });

  it('drops fields it does not know', () => {
    const parsed = clientFrameSchema.parse({ type: 'typing', extra: true });
    expect(parsed).toEqual({ type: 'typing' });
  });
});
