#!/usr/bin/env bash
# Runs test/clusters/try-clusters.ts: compiled with the repository's tsc into a temporary folder (ts-node
# is not a dependency), run with the repository's node_modules on NODE_PATH. Arguments go to the script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$repo/node_modules/.bin/tsc" --outDir "$out" --rootDir "$here" --module commonjs --target ES2022 --lib ES2024 --strict \
  --esModuleInterop --skipLibCheck --types node "$here/try-clusters.ts"
cd "$repo"
NODE_PATH="$repo/node_modules" node "$out/try-clusters.js" "$@"
