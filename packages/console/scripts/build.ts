// Builds the console: dist/console.<hash>.js (an ES module) and dist/console.<hash>.css, minified,
// and dist/manifest.json naming them (the gateway reads it to write the page). `--check-size`
// fails when the script and the stylesheet together are over budget.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** Script and stylesheet together: at most 55 KB minified and gzipped. */
export const SIZE_BUDGET_BYTES = 55 * 1024;

export const consoleRoot = fileURLToPath(new URL('..', import.meta.url));
export const distDir = join(consoleRoot, 'dist');

/** What the gateway needs to write the console's page: dist/manifest.json. */
export interface ConsoleManifest {
  js: string;
  css: string;
  /** Subresource Integrity of each file. */
  integrity: { js: string; css: string };
  gzipBytes: { js: number; css: number };
}

export interface ConsoleBuild {
  manifest: ConsoleManifest;
  js: Buffer;
  css: Buffer;
}

const hashOf = (body: Buffer) => createHash('sha256').update(body).digest('hex').slice(0, 12);
const integrityOf = (body: Buffer) =>
  `sha384-${createHash('sha384').update(body).digest('base64')}`;

/** Builds in memory; with `write`, puts the files in dist/ and replaces the manifest last. */
export async function buildConsole(options: { write?: boolean } = {}): Promise<ConsoleBuild> {
  const result = await build({
    entryPoints: [join(consoleRoot, 'src/main.tsx')],
    bundle: true,
    minify: true,
    write: false,
    outdir: distDir,
    format: 'esm',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const output = (ext: string) =>
    Buffer.from(result.outputFiles.find((f) => f.path.endsWith(ext))?.contents ?? []);
  const js = output('.js');
  const css = output('.css');
  if (js.length === 0 || css.length === 0) throw new Error('esbuild produced no script or style');
  const manifest: ConsoleManifest = {
    js: `console.${hashOf(js)}.js`,
    css: `console.${hashOf(css)}.css`,
    integrity: { js: integrityOf(js), css: integrityOf(css) },
    gzipBytes: { js: gzipSync(js, { level: 9 }).length, css: gzipSync(css, { level: 9 }).length },
  };
  if (options.write) {
    mkdirSync(distDir, { recursive: true });
    // Write-then-rename: a gateway reading dist/ never sees half a file, and parallel builds
    // are safe. Hashed names never change content, so the files go first, the manifest last.
    const put = (name: string, contents: Buffer | string) => {
      const temp = join(distDir, `.${name}.${process.pid}.tmp`);
      writeFileSync(temp, contents);
      renameSync(temp, join(distDir, name));
    };
    put(manifest.js, js);
    put(manifest.css, css);
    put('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
    // Older builds go, but for the last two: a page loaded just before a rebuild still gets
    // its files.
    const keep = new Set([manifest.js, manifest.css]);
    const old = readdirSync(distDir)
      .filter((name) => /^console\.[0-9a-f]{12}\.(js|css)$/.test(name) && !keep.has(name))
      .map((name) => ({ name, mtimeMs: statSync(join(distDir, name)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const { name } of old.slice(4)) rmSync(join(distDir, name), { force: true });
  }
  return { manifest, js, css };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { manifest, js, css } = await buildConsole({ write: true });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const gzip = manifest.gzipBytes.js + manifest.gzipBytes.css;
  console.log(
    `console: ${manifest.js} ${kb(js.length)} (${kb(manifest.gzipBytes.js)} gzip), ` +
      `${manifest.css} ${kb(css.length)} (${kb(manifest.gzipBytes.css)} gzip); ` +
      `${kb(gzip)} gzip of a budget of ${kb(SIZE_BUDGET_BYTES)}`,
  );
  if (process.argv.includes('--check-size') && gzip > SIZE_BUDGET_BYTES) {
    console.error('the console is over its size budget');
    process.exit(1);
  }
}
