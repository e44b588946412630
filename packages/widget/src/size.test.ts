import { expect, it } from 'vitest';
import { buildWidget, SIZE_BUDGET_BYTES } from '../scripts/build';

it('builds widget.js within 20 KB minified and gzipped, with no eval', async () => {
  const build = await buildWidget();
  expect(build.gzipBytes.js).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
  expect(build.gzipBytes.mjs).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
  const source = build.js.toString('utf8');
  expect(source).not.toMatch(
    /\beval\(|new Function\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
  );
  expect(build.version).toMatch(/^[0-9a-f]{12}$/);
});
