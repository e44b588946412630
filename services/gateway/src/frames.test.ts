import { describe, expect, it } from 'vitest';
import {
  charCount,
  clientFrameSchema,
  conversationParamsSchema,
  historyQuerySchema,
  MAX_TEXT_CHARS,
  startConversationSchema,
} from './frames';

describe('charCount', () => {
  it('counts plain text like its length', () => {
    expect(charCount('')).toBe(0);
    expect(charCount('hello')).toBe(5);
    expect(charCount('héllo wörld')).toBe(11);
  });

  it('counts an emoji outside the BMP once, not as its two UTF-16 units', () => {
    expect('😀'.length).toBe(2);
    expect(charCount('😀')).toBe(1);
    expect(charCount('hi 😀!')).toBe(5);
  });

  it('counts code points, so modifiers and joiners count on their own', () => {
    expect(charCount('👍🏽')).toBe(2);
    expect(charCount('👨‍👩‍👧')).toBe(5);
  });

  it('counts a lone surrogate as one', () => {
    expect(charCount('\uD83D')).toBe(1);
  });

  it('lets 4,000 emoji through the limit although they are 8,000 UTF-16 units', () => {
    const text = '😀'.repeat(MAX_TEXT_CHARS);
    expect(text.length).toBe(8000);
    expect(charCount(text)).toBe(MAX_TEXT_CHARS);
  });
});

describe('clientFrameSchema', () => {
  it.each([
    { type: 'message', clientId: 'c-1', text: 'hello' },
    { type: 'message', clientId: 'x'.repeat(100), text: '' },
    { type: 'typing' },
    { type: 'resume', afterSeq: 0 },
    { type: 'resume', afterSeq: 42 },
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

describe('startConversationSchema', () => {
  it('accepts an empty body', () => {
    expect(startConversationSchema.parse({})).toEqual({});
  });

  it('accepts a name, a locale and a page, and trims the name', () => {
    expect(
      startConversationSchema.parse({
        name: '  Ada  ',
        locale: 'pt-BR',
        page: { url: 'https://shop.example/cart?x=1', title: 'Cart' },
      }),
    ).toEqual({
      name: 'Ada',
      locale: 'pt-BR',
      page: { url: 'https://shop.example/cart?x=1', title: 'Cart' },
    });
  });

  it('is strict: an unknown field is refused', () => {
    expect(startConversationSchema.safeParse({ name: 'Ada', email: 'a@b.c' }).success).toBe(false);
  });

  it('refuses a name that is blank after trimming, or over 100 characters', () => {
    expect(startConversationSchema.safeParse({ name: '   ' }).success).toBe(false);
    expect(startConversationSchema.safeParse({ name: 'n'.repeat(101) }).success).toBe(false);
  });

  it.each(['en', 'de', 'pt-BR', 'zh-Hant-TW', 'es-419', 'fil'])(
    'accepts the language tag %j',
    (locale) => {
      expect(startConversationSchema.safeParse({ locale }).success).toBe(true);
    },
  );

  it.each(['e', 'english', 'en_US', 'en-', '12', 'en-toolongsubtag'])(
    'refuses the locale %j',
    (locale) => {
      expect(startConversationSchema.safeParse({ locale }).success).toBe(false);
    },
  );

  it('needs a URL in page.url, at most 2,048 characters long', () => {
    expect(startConversationSchema.safeParse({ page: { url: 'not a url' } }).success).toBe(false);
    expect(startConversationSchema.safeParse({ page: { title: 'Cart' } }).success).toBe(false);
    const long = `https://shop.example/${'p'.repeat(2048)}`;
    expect(startConversationSchema.safeParse({ page: { url: long } }).success).toBe(false);
  });

  it('accepts a page without a title, and refuses a title over 300 characters', () => {
    expect(startConversationSchema.safeParse({ page: { url: 'https://a.example/' } }).success).toBe(
      true,
    );
    expect(
      startConversationSchema.safeParse({
        page: { url: 'https://a.example/', title: 't'.repeat(301) },
      }).success,
    ).toBe(false);
  });
});

describe('historyQuerySchema', () => {
  it('defaults to the start and 100 messages', () => {
    expect(historyQuerySchema.parse({})).toEqual({ after: 0, limit: 100 });
  });

  it('reads the query strings as integers', () => {
    expect(historyQuerySchema.parse({ after: '12', limit: '500' })).toEqual({
      after: 12,
      limit: 500,
    });
  });

  it('refuses a limit over 500, a negative after and non-numbers', () => {
    expect(historyQuerySchema.safeParse({ limit: '501' }).success).toBe(false);
    expect(historyQuerySchema.safeParse({ after: '-1' }).success).toBe(false);
    expect(historyQuerySchema.safeParse({ after: 'abc' }).success).toBe(false);
  });
});

describe('conversationParamsSchema', () => {
  it('accepts a UUID and refuses anything else', () => {
    expect(
      conversationParamsSchema.safeParse({ id: '9b2f3c1e-4a5d-4e6f-8a7b-1c2d3e4f5a6b' }).success,
    ).toBe(true);
    expect(conversationParamsSchema.safeParse({ id: 'SUPP-1' }).success).toBe(false);
  });
});
