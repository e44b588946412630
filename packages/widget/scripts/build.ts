// Builds the widget: dist/widget.js (classic script, defines window.SupportChat) and
// dist/widget.mjs (ES module), minified. `--check-size` fails when the script is over budget.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';

/** At most 20 KB minified and gzipped. */
export const SIZE_BUDGET_BYTES = 20 * 1024;

export const widgetRoot = fileURLToPath(new URL('..', import.meta.url));
export const distDir = join(widgetRoot, 'dist');

export interface WidgetBuild {
  /** The classic script. */
  js: Buffer;
  /** The ES module. */
  mjs: Buffer;
  /** Content hash of the classic script: the version in `/widget.<version>.js`. */
  version: string;
  /** Subresource Integrity of the classic script. */
  integrity: string;
  gzipBytes: { js: number; mjs: number };
}

const common: BuildOptions = {
  bundle: true,
  minify: true,
  write: false,
  target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
  platform: 'browser',
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
};

export function versionOf(js: Buffer | string): string {
  return createHash('sha256').update(js).digest('hex').slice(0, 12);
}

export function integrityOf(js: Buffer | string): string {
  return `sha384-${createHash('sha384').update(js).digest('base64')}`;
}

/** Builds both formats in memory; with `write`, replaces dist/ files atomically. */
export async function buildWidget(options: { write?: boolean } = {}): Promise<WidgetBuild> {
  const [iife, esm] = await Promise.all([
    build({ ...common, entryPoints: [join(widgetRoot, 'src/global.ts')], format: 'iife' }),
    build({ ...common, entryPoints: [join(widgetRoot, 'src/index.ts')], format: 'esm' }),
  ]);
  const js = Buffer.from(iife.outputFiles?.[0]?.contents ?? []);
  const mjs = Buffer.from(esm.outputFiles?.[0]?.contents ?? []);
  if (js.length === 0 || mjs.length === 0) throw new Error('esbuild produced no output');
  const result: WidgetBuild = {
    js,
    mjs,
    version: versionOf(js),
    integrity: integrityOf(js),
    gzipBytes: { js: gzipSync(js, { level: 9 }).length, mjs: gzipSync(mjs, { level: 9 }).length },
  };
  if (options.write) {
    mkdirSync(distDir, { recursive: true });
    // Write-then-rename: a gateway reading dist/ never sees half a file, and parallel builds are safe.
    for (const [name, contents] of [
      ['widget.js', js],
      ['widget.mjs', mjs],
    ] as const) {
      const temp = join(distDir, `.${name}.${process.pid}.tmp`);
      writeFileSync(temp, contents);
      renameSync(temp, join(distDir, name));
    }
  }
  return result;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const result = await buildWidget({ write: true });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `widget ${result.version}: widget.js ${kb(result.js.length)} (${kb(result.gzipBytes.js)} gzip), ` +
      `widget.mjs ${kb(result.mjs.length)} (${kb(result.gzipBytes.mjs)} gzip); budget ${kb(SIZE_BUDGET_BYTES)} gzip`,
  );
  if (process.argv.includes('--check-size') && result.gzipBytes.js > SIZE_BUDGET_BYTES) {
    console.error(`widget.js is over its size budget`);
    process.exit(1);
  }
}
