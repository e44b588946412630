import { expect, it } from 'vitest';
import { buildConsole, SIZE_BUDGET_BYTES } from '../scripts/build';

it('builds the console within its gzip budget, with hashed names and nothing a strict CSP refuses', async () => {
  const { manifest, js } = await buildConsole();
  expect(manifest.gzipBytes.js + manifest.gzipBytes.css).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
  expect(manifest.js).toMatch(/^console\.[0-9a-f]{12}\.js$/);
  expect(manifest.css).toMatch(/^console\.[0-9a-f]{12}\.css$/);
  expect(manifest.integrity.js).toMatch(/^sha384-/);
  // script-src 'self' without 'unsafe-eval': no code made from strings.
  expect(js.toString('utf8')).not.toMatch(/\beval\(|new Function\(|document\.write/);
});
