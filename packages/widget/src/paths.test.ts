import { describe, expect, it } from 'vitest';
import { pathAllowed } from './paths';

describe('pathAllowed', () => {
  it('allows every path without rules', () => {
    expect(pathAllowed('/anything')).toBe(true);
  });

  it('matches wildcards against the whole path', () => {
    expect(pathAllowed('/shop/cart', ['/shop/*'])).toBe(true);
    expect(pathAllowed('/shop', ['/shop/*'])).toBe(false);
    expect(pathAllowed('/blog/shop/x', ['/shop/*'])).toBe(false);
    expect(pathAllowed('/a.html', ['*.html'])).toBe(true);
  });

  it('treats regex characters in wildcard patterns literally', () => {
    expect(pathAllowed('/a.b', ['/a.b'])).toBe(true);
    expect(pathAllowed('/axb', ['/a.b'])).toBe(false);
    expect(pathAllowed('/p(1)', ['/p(1)'])).toBe(true);
  });

  it('lets exclusions win over inclusions, and takes RegExps', () => {
    expect(pathAllowed('/shop/checkout', ['/shop/*'], ['/shop/checkout'])).toBe(false);
    expect(pathAllowed('/account/7', [/^\/account\/\d+$/])).toBe(true);
    expect(pathAllowed('/account/x', [/^\/account\/\d+$/])).toBe(false);
    const sticky = /^\/g/g;
    expect(pathAllowed('/g1', [sticky])).toBe(true);
    expect(pathAllowed('/g1', [sticky])).toBe(true);
  });
});
