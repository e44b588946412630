#!/usr/bin/env sh
# prune-node-modules.sh DIR: in DIR/node_modules (a hoisted `pnpm deploy --prod`), keeps the
# packages of deploy/externals.txt and everything they depend on, and deletes the rest: the
# bundles carry all other dependencies inside them.
set -eu
DIR=$1
LIST=$(cd "$(dirname "$0")/.." && pwd)/externals.txt
node --input-type=module - "$DIR/node_modules" "$LIST" <<'JS'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [root, list] = process.argv.slice(2);
const keep = new Set();
const queue = [];
const add = (dir) => {
  if (!keep.has(dir)) {
    keep.add(dir);
    queue.push(dir);
  }
};
// A dependency resolves as Node would: nested node_modules first, then each parent's.
const resolve = (from, name) => {
  for (let dir = from; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, dir === root ? '' : 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return undefined;
};
for (const line of readFileSync(list, 'utf8').split('\n')) {
  const name = line.trim();
  if (!name || name.startsWith('#')) continue;
  if (name.endsWith('/*')) {
    const scope = join(root, name.slice(0, -2));
    if (existsSync(scope)) for (const entry of readdirSync(scope)) add(join(scope, entry));
  } else if (existsSync(join(root, name, 'package.json'))) add(join(root, name));
}
while (queue.length > 0) {
  const dir = queue.pop();
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const names = Object.keys({
    ...manifest.dependencies,
    ...manifest.optionalDependencies,
    ...manifest.peerDependencies,
  });
  for (const name of names) {
    const found = resolve(dir, name);
    if (found) add(found);
  }
}
let removed = 0;
const sweep = (dir) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry.startsWith('@')) {
      sweep(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (entry.startsWith('.') || !keep.has(path)) {
      rmSync(path, { recursive: true, force: true });
      removed++;
    }
  }
};
sweep(root);
console.log(`node_modules: kept ${keep.size} packages, removed ${removed} entries`);
JS
