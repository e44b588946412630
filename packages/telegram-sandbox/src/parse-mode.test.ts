import { describe, expect, it } from 'vitest';
import { SandboxError } from './errors';
import { parseFormattedText } from './parse-mode';

function description(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof SandboxError) return error.description;
    throw error;
  }
  throw new Error('expected a parse error');
}

describe('HTML', () => {
  it('turns tags into entities with UTF-16 offsets', () => {
    const parsed = parseFormattedText(
      '👋 <i>hi</i> <code>x&amp;y</code> <pre><code class="language-ts">a</code></pre>',
      'HTML',
    );
    expect(parsed.text).toBe('👋 hi x&y a');
    expect(parsed.entities).toEqual([
      { type: 'italic', offset: 3, length: 2 },
      { type: 'code', offset: 6, length: 3 },
      { type: 'pre', offset: 10, length: 1, language: 'ts' },
    ]);
  });

  it('refuses unsupported, unmatched and unclosed tags', () => {
    expect(description(() => parseFormattedText('a <br> b', 'HTML'))).toBe(
      `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 2`,
    );
    expect(description(() => parseFormattedText('<b>x</i>', 'HTML'))).toMatch(
      /expected "<\/b>", found "<\/i>"/,
    );
    expect(description(() => parseFormattedText('1 < 2', 'HTML'))).toMatch(
      /Unsupported start tag ""/,
    );
  });
});

describe('MarkdownV2', () => {
  it('parses nested styles, links and code', () => {
    const parsed = parseFormattedText(
      '*bold _both_* [site](https://x.test/a\\)b) `a\\`b`',
      'MarkdownV2',
    );
    expect(parsed.text).toBe('bold both site a`b');
    expect(parsed.entities).toEqual([
      { type: 'bold', offset: 0, length: 9 },
      { type: 'italic', offset: 5, length: 4 },
      { type: 'text_link', offset: 10, length: 4, url: 'https://x.test/a)b' },
      { type: 'code', offset: 15, length: 3 },
    ]);
  });

  it('refuses reserved characters and unclosed entities as Telegram does', () => {
    expect(description(() => parseFormattedText('Price: 5!', 'MarkdownV2'))).toBe(
      "Bad Request: can't parse entities: Character '!' is reserved and must be escaped with the preceding '\\' at byte offset 8",
    );
    expect(description(() => parseFormattedText('*open', 'MarkdownV2'))).toBe(
      "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0",
    );
  });

  it('reads block quotations', () => {
    const parsed = parseFormattedText('>quoted\nplain', 'MarkdownV2');
    expect(parsed).toEqual({
      text: 'quoted\nplain',
      entities: [{ type: 'blockquote', offset: 0, length: 6 }],
    });
  });
});

describe('Markdown (legacy)', () => {
  it('parses the four styles and refuses an unclosed one', () => {
    expect(parseFormattedText('*b* _i_ `c` [l](https://x.test)', 'Markdown')).toEqual({
      text: 'b i c l',
      entities: [
        { type: 'bold', offset: 0, length: 1 },
        { type: 'italic', offset: 2, length: 1 },
        { type: 'code', offset: 4, length: 1 },
        { type: 'text_link', offset: 6, length: 1, url: 'https://x.test' },
      ],
    });
    expect(description(() => parseFormattedText('snake_case', 'Markdown'))).toBe(
      "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 5",
    );
  });
});
