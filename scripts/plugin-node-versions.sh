#!/usr/bin/env bash
# Runs the @topicdesk/grammy plugin's tests on Node 22 and 24 besides the machine's own Node
# (the plugin is published for bots on any supported Node). Node comes from the npm registry's
# `node` package; nothing else is needed. Not part of `pnpm test`: it downloads two Node builds.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("${@:-22 24}")
for version in ${versions[@]}; do
  echo "==> the plugin's tests on Node ${version}"
  npx -y -p "node@${version}" -- node --version
  npx -y -p "node@${version}" -- node node_modules/vitest/vitest.mjs run --project unit packages/grammy
done
