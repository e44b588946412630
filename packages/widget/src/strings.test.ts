import { describe, expect, it } from 'vitest';
import { defaultStrings, format, isRtl, resolveStrings } from './strings';

describe('strings', () => {
  it('picks the closest locale, then the overrides', () => {
    const byLocale = {
      pt: { send: 'Enviar' },
      'pt-BR': { title: 'Suporte' },
      de: { send: 'Senden' },
    };
    const s = resolveStrings('pt-BR', byLocale, { close: 'X' });
    expect(s.send).toBe('Enviar');
    expect(s.title).toBe('Suporte');
    expect(s.close).toBe('X');
    expect(s.placeholder).toBe(defaultStrings.placeholder);
    expect(resolveStrings('PT_br', byLocale).title).toBe('Suporte');
    expect(resolveStrings('fr', byLocale)).toEqual(defaultStrings);
  });

  it('knows right-to-left languages', () => {
    expect(isRtl('ar')).toBe(true);
    expect(isRtl('he-IL')).toBe(true);
    expect(isRtl('fa_IR')).toBe(true);
    expect(isRtl('en-US')).toBe(false);
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(format('{name} joined {x}', { name: 'Alice' })).toBe('Alice joined {x}');
    expect(format('{n} unread', { n: 3 })).toBe('3 unread');
  });
});
