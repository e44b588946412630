import { describe, expect, it } from 'vitest';
import { renderTemplate } from './system-messages';

describe('renderTemplate', () => {
  it('replaces every {name} with its value', () => {
    expect(
      renderTemplate('{agent} joined {ticket}; {agent} will answer.', {
        agent: 'Maria',
        ticket: 'SUPP-1',
      }),
    ).toBe('Maria joined SUPP-1; Maria will answer.');
  });

  it('writes numbers as they are', () => {
    expect(renderTemplate('waited {minutes} min', { minutes: 15 })).toBe('waited 15 min');
  });

  it('leaves unknown variables as they are', () => {
    expect(renderTemplate('Hello {name}, {ticket}', { ticket: 'SUPP-1' })).toBe(
      'Hello {name}, SUPP-1',
    );
  });

  it('does not treat values as templates in turn', () => {
    expect(renderTemplate('{a}', { a: '{b}', b: 'x' })).toBe('{b}');
  });

  it('leaves braces that hold no name alone', () => {
    expect(renderTemplate('{} {not-a-name} {{ticket}}', { ticket: 'T' })).toBe(
      '{} {not-a-name} {T}',
    );
  });
});
