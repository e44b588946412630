import { describe, expect, it } from 'vitest';
import { charCount, isLanguageTag, MAX_TEXT_CHARS } from './text-rules';

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

describe('isLanguageTag', () => {
  it('accepts BCP 47 tags and refuses what is not one', () => {
    for (const tag of ['de', 'pt-BR', 'zh-Hant-TW', 'sr-Latn', 'fil', 'en-US-x-twain']) {
      expect(isLanguageTag(tag)).toBe(true);
    }
    for (const tag of [
      '',
      'd',
      'de_AT',
      'de-',
      '-de',
      'de AT',
      'de-ABCDEFGHI',
      `de-${'a-'.repeat(17)}a`,
    ]) {
      expect(isLanguageTag(tag)).toBe(false);
    }
  });
});
