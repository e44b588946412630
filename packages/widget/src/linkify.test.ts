import { describe, expect, it } from 'vitest';
import { linkify, safeHref } from './linkify';

describe('linkify', () => {
  it('turns http(s) URLs into links and keeps the rest as text', () => {
    expect(linkify('see https://example.com/a?b=1 now')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { text: ' now' },
    ]);
  });

  it('renders a long hostile string in linear time (a run of punctuation inside a URL)', () => {
    const hostile = `see http://a${'.,'.repeat(50_000)}x and http://b${')'.repeat(100_000)}`;
    const started = performance.now();
    const segments = linkify(hostile);
    // Quadratic, this took seconds; linear, a few milliseconds.
    expect(performance.now() - started).toBeLessThan(100);
    expect(segments.map((s) => s.text).join('')).toBe(hostile);
    expect(segments.filter((s) => s.href).map((s) => s.text.length)).toEqual([100_009, 8]);
  });

  it('leaves sentence punctuation outside the link', () => {
    expect(linkify('go to http://x.example/path.')).toEqual([
      { text: 'go to ' },
      { text: 'http://x.example/path', href: 'http://x.example/path' },
      { text: '.' },
    ]);
  });

  it('never links javascript:, data: or markup', () => {
    for (const text of [
      'javascript:alert(1)',
      '<a href="javascript:alert(1)">x</a>',
      'data:text/html,<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
    ]) {
      expect(linkify(text).every((s) => s.href === undefined)).toBe(true);
      expect(
        linkify(text)
          .map((s) => s.text)
          .join(''),
      ).toBe(text);
    }
  });

  it('accepts only http and https hrefs', () => {
    expect(safeHref('https://a.example/')).toBe('https://a.example/');
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('not a url')).toBeUndefined();
  });
});
