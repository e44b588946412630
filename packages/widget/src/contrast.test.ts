import { describe, expect, it } from 'vitest';
import { contrastPairs, themes } from './styles';

/** WCAG 2.x relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('default themes', () => {
  for (const [scheme, vars] of Object.entries(themes)) {
    it(`meet WCAG AA (4.5:1) for every text colour pair in ${scheme}`, () => {
      const table = vars as Record<string, string>;
      for (const [fg, bg] of contrastPairs) {
        const ratio = contrast(table[fg]!, table[bg]!);
        expect(ratio, `${fg} on ${bg} in ${scheme}: ${ratio.toFixed(2)}`).toBeGreaterThanOrEqual(
          4.5,
        );
      }
    });
  }
});
