import { describe, expect, it } from 'vitest';
import { redactUrl } from './connection';

describe('redactUrl', () => {
  it('hides the password and nothing else', () => {
    expect(redactUrl('redis://:s3cret@redis:6379/2')).toBe('redis://:***@redis:6379/2');
    expect(redactUrl('redis://user:s3cret@redis:6379')).toBe('redis://user:***@redis:6379');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('not a url')).toBe('<unparseable redis url>');
  });
});
