import { describe, expect, it } from 'vitest';
import {
  charCount,
  isLanguageTag,
  MAX_TEXT_CHARS,
  messageTextProblem,
  MessageTextProblem,
} from './text-rules';

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

describe('messageTextProblem', () => {
  it('accepts text up to 4,000 code points, with tabs and line breaks', () => {
    expect(messageTextProblem('hello')).toBeUndefined();
    expect(messageTextProblem('line one\r\n\tline two')).toBeUndefined();
    expect(messageTextProblem('😀'.repeat(MAX_TEXT_CHARS))).toBeUndefined();
  });

  it('names the first reason a text is refused: too long, then blank, then control characters', () => {
    expect(messageTextProblem('x'.repeat(MAX_TEXT_CHARS + 1))).toBe(MessageTextProblem.tooLong);
    expect(messageTextProblem('\u0000'.repeat(MAX_TEXT_CHARS + 1))).toBe('too_long');
    expect(messageTextProblem('')).toBe(MessageTextProblem.blank);
    expect(messageTextProblem(' \n\u200B\u202E ')).toBe('blank');
    expect(messageTextProblem('hi\u0000')).toBe(MessageTextProblem.controlCharacters);
    expect(messageTextProblem('\u001b[31mred')).toBe('control_characters');
  });
});
