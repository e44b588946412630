import { describe, expect, it } from 'vitest';
import {
  conversationParamsSchema,
  historyQuerySchema,
  profileSchema,
  ratingSchema,
  startConversationSchema,
} from './rest';
// The answers: built by the gateway, described here.
import {
  conversationProfileSchema,
  conversationStartedSchema,
  errorBodySchema,
  historyPageSchema,
  issuedTokenSchema,
  ratingViewSchema,
} from './rest';

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
    expect(startConversationSchema.safeParse({ name: 'Ada', phone: '+351 21' }).success).toBe(
      false,
    );
  });

  it('takes an e-mail address, trimmed', () => {
    expect(startConversationSchema.parse({ email: '  ada@example.com ' })).toEqual({
      email: 'ada@example.com',
    });
    expect(startConversationSchema.parse({ email: 'Ada.L+shop@mail.example.co.uk' }).email).toBe(
      'Ada.L+shop@mail.example.co.uk',
    );
  });

  it.each([
    '',
    'ada',
    'ada@',
    '@example.com',
    'ada@example',
    'ada@@example.com',
    'ada@example..com',
    'ada@.example.com',
    'ada@example.com.',
    'ada lovelace@example.com',
    'ada@exa\u200Bmple.com',
    'ada\u0000@example.com',
  ])('refuses the e-mail address %j', (email) => {
    const result = startConversationSchema.safeParse({ email });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('email');
  });

  it('refuses an e-mail address over 254 characters, and takes one of 254', () => {
    const at254 = `${'a'.repeat(64)}@${'d'.repeat(185)}.com`;
    expect(at254).toHaveLength(254);
    expect(startConversationSchema.safeParse({ email: at254 }).success).toBe(true);
    const result = startConversationSchema.safeParse({ email: `a${at254}` });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('at most 254 characters');
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

  it('accepts a page without a title, and cuts a title to 300 characters (the page chose it, not the visitor)', () => {
    expect(startConversationSchema.safeParse({ page: { url: 'https://a.example/' } }).success).toBe(
      true,
    );
    const parsed = startConversationSchema.parse({
      page: { url: 'https://a.example/', title: '😀'.repeat(14_000) },
    });
    expect(parsed.page?.title).toBe('😀'.repeat(300));
  });

  it('refuses a locale over 35 characters although each subtag is well formed (a 14.9 KB locale made headers Telegram refused)', () => {
    const locale = `en${'-abcdefgh'.repeat(1700)}`;
    const result = startConversationSchema.safeParse({ locale });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('at most 35 characters');
    expect(
      startConversationSchema.safeParse({ locale: `en${'-abcdefgh'.repeat(3)}` }).success,
    ).toBe(true);
  });

  it.each([
    ['NUL', 'Ada\u0000'],
    ['a line break', 'Ada\nLovelace'],
    ['an escape', '\u001b[31mAda'],
  ])('refuses a name with a control character (%s)', (_what, name) => {
    const result = startConversationSchema.safeParse({ name });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('control characters');
  });

  it('removes bidi overrides and zero-width characters from names and titles, and refuses a name of nothing else', () => {
    expect(
      startConversationSchema.parse({
        name: 'A\u202Eda\u200B',
        page: { url: 'https://a.example/', title: '\u2066Cart\uFEFF\u0000' },
      }),
    ).toEqual({ name: 'Ada', page: { url: 'https://a.example/', title: 'Cart' } });
    expect(startConversationSchema.safeParse({ name: '\u200B\u200D\u2060' }).success).toBe(false);
  });

  it('refuses a page URL that is not http(s)', () => {
    expect(
      startConversationSchema.safeParse({ page: { url: 'javascript:alert(1)' } }).success,
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

  it('refuses an after beyond the 32-bit seq column, and a repeated parameter', () => {
    expect(historyQuerySchema.safeParse({ after: '2147483647' }).success).toBe(true);
    expect(historyQuerySchema.safeParse({ after: '2147483648' }).success).toBe(false);
    expect(historyQuerySchema.safeParse({ after: ['1', '2'] }).success).toBe(false);
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

describe('profileSchema', () => {
  it('takes a name, trimmed, and reads null or a blank name as none', () => {
    expect(profileSchema.parse({ name: '  Ada ' })).toEqual({ name: 'Ada' });
    expect(profileSchema.parse({ name: null })).toEqual({ name: null });
    expect(profileSchema.parse({ name: '  \u200B ' })).toEqual({ name: null });
  });

  it('refuses a missing name, a name over 100 characters, a control character and unknown fields', () => {
    expect(profileSchema.safeParse({}).success).toBe(false);
    expect(profileSchema.safeParse({ name: 'n'.repeat(101) }).success).toBe(false);
    expect(profileSchema.safeParse({ name: 'Ada\u0000' }).success).toBe(false);
    expect(profileSchema.safeParse({ name: 'Ada', email: 'a@b.c' }).success).toBe(false);
  });
});

describe('a rating (CSAT)', () => {
  it('takes a score of 1 to 5 and an optional comment, trimmed, blank as none', () => {
    expect(ratingSchema.parse({ score: 5 })).toEqual({ score: 5, comment: null });
    expect(ratingSchema.parse({ score: 1, comment: ' slow\nbut kind ' })).toEqual({
      score: 1,
      comment: 'slow\nbut kind',
    });
    expect(ratingSchema.parse({ score: 3, comment: ' \u200B ' })).toEqual({
      score: 3,
      comment: null,
    });
    expect(ratingSchema.parse({ score: 3, comment: null })).toEqual({ score: 3, comment: null });
  });

  it('refuses another score, a control character, a comment over 1,000 characters and unknown fields', () => {
    for (const body of [
      {},
      { score: 0 },
      { score: 6 },
      { score: 2.5 },
      { score: '4' },
      { score: 4, comment: 'a\u0007b' },
      { score: 4, comment: 'x'.repeat(1001) },
      { score: 4, stars: 4 },
    ])
      expect(ratingSchema.safeParse(body).success, JSON.stringify(body).slice(0, 40)).toBe(false);
    expect(ratingSchema.safeParse({ score: 4, comment: '😀'.repeat(1000) }).success).toBe(true);
  });
});

describe('the answers', () => {
  const conversationId = '9b2f3c1e-4a5d-4e6f-8a7b-1c2d3e4f5a6b';
  const issued = { token: 'eyJ.x.y', expiresAt: '2025-05-06T08:08:09.000Z' };

  it('describe what the gateway answers, field for field', () => {
    const started = { conversationId, ticket: 'SUPP-7Q2K', ...issued };
    expect(conversationStartedSchema.parse(started)).toEqual(started);
    expect(issuedTokenSchema.parse(issued)).toEqual(issued);
    const page = {
      status: 'open',
      ticket: 'SUPP-7Q2K',
      messages: [{ seq: 1, kind: 'visitor', text: 'hi', at: '2025-05-06T07:08:09.123Z' }],
    };
    expect(historyPageSchema.parse(page)).toEqual(page);
    const profile = { conversationId, ticket: 'SUPP-7Q2K', status: 'closed', name: null };
    expect(conversationProfileSchema.parse({ ...profile, rating: null })).toEqual({
      ...profile,
      rating: null,
    });
    const rating = { score: 4, comment: null, at: '2025-05-06T08:08:09.000Z' };
    expect(conversationProfileSchema.parse({ ...profile, rating })).toEqual({ ...profile, rating });
    expect(ratingViewSchema.parse(rating)).toEqual(rating);
    const error = { error: { code: 'INVALID_REQUEST', message: 'no', details: { issues: [] } } };
    expect(errorBodySchema.parse(error)).toEqual(error);
  });

  it('refuses an answer that lacks a field or has one too many', () => {
    expect(
      conversationProfileSchema.safeParse({
        conversationId,
        ticket: 'T',
        status: 'open',
        name: null,
      }).success,
    ).toBe(false);
    expect(issuedTokenSchema.safeParse({ token: 'x' }).success).toBe(false);
    expect(conversationStartedSchema.safeParse({ conversationId, ...issued }).success).toBe(false);
    expect(
      historyPageSchema.safeParse({ status: 'open', ticket: 'T', messages: [], next: 2 }).success,
    ).toBe(false);
    expect(errorBodySchema.safeParse({ error: { code: 'X' } }).success).toBe(false);
  });
});
