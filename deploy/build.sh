#!/usr/bin/env sh
# `pnpm build [service…]`: bundles each service, and the migration CLI, with esbuild into
# services/<service>/dist/{main,migrate}.mjs (plus the chunks main loads), so production runs plain `node` on one file:
# no tsx and no TypeScript at run time, and a fast start. The Dockerfile runs it in its build
# stage. The packages listed in deploy/externals.txt stay outside the bundles and come from
# node_modules at run time (see that file for why each one).
#
# The service is split into chunks loaded on demand (esbuild --splitting): main.ts starts
# OpenTelemetry first and only then imports the rest with `await import()`, so the chunks that
# import pg and ioredis load after the instrumentation hooks are installed. In one file, every
# external `import` would be hoisted to the top and run before them.
#
# Code that finds files relative to its source (`new URL('./public/x', import.meta.url)`) finds
# them relative to the bundle: each service's src/public/ is copied to dist/public/, the chunks
# sit in dist/ beside main.mjs, and dist/ is as deep as src/, so paths that climb out of the
# service (the gateway's ../../../packages/widget/dist/) hold in the repository and the image.
set -eu
cd "$(dirname "$0")/.."

ALL="gateway telegram-bridge scheduler"
SERVICES="${*:-$ALL}"

# Bundled CommonJS dependencies call require() and use __filename/__dirname; ESM has none.
BANNER="import { createRequire as __tdRequire } from 'node:module';
import { fileURLToPath as __tdPath } from 'node:url';
import { dirname as __tdDirname } from 'node:path';
const require = __tdRequire(import.meta.url);
const __filename = __tdPath(import.meta.url);
const __dirname = __tdDirname(__filename);"

EXTERNALS=$(grep -v -e '^#' -e '^$' deploy/externals.txt | sed 's/^/--external:/')

esbuild() {
  # shellcheck disable=SC2086 # one flag per external, split on purpose
  node_modules/.bin/esbuild "$@" --bundle --platform=node --format=esm --target=node20 \
    --sourcemap --legal-comments=none --log-level=warning --banner:js="$BANNER" $EXTERNALS
}

for service in $SERVICES; do
  case " $ALL " in
    *" $service "*) ;;
    *) echo "unknown service: $service (one of: $ALL)" >&2; exit 2 ;;
  esac
  out="services/$service/dist"
  rm -rf "$out"
  esbuild "main=services/$service/src/main.ts" --outdir="$out" --splitting \
    --chunk-names='[name]-[hash]' --out-extension:.js=.mjs
  esbuild packages/data/src/migrate.cli.ts --outfile="$out/migrate.mjs"
  if [ -d "services/$service/src/public" ]; then cp -R "services/$service/src/public" "$out/public"; fi
  echo "built $out (main.mjs $(du -k "$out/main.mjs" | cut -f1) KiB, migrate.mjs)"
done
