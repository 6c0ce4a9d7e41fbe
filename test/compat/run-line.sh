#!/usr/bin/env bash
# Runs the e2e suites on an older line of the peer ranges in package.json, in a temporary copy of
# the repo with its own fresh install. The main `npm test` covers the newest line (NestJS 12,
# TypeORM 1). Usage: run-line.sh previous|oldest
#   previous: NestJS 11, @nestjs/typeorm 11, the latest TypeORM 0.3.x, @nestjs/swagger 11
#   oldest:   NestJS 10, @nestjs/typeorm 10, TypeORM 0.3.26, @nestjs/swagger 7, class-validator 0.14
#
# Inherits the environment: CI=true makes every database mandatory, DB= / ADAPTER= narrow
# the run, POSTGRES_URL / MARIADB_URL point it at other databases (see test/support/databases.ts).
# COMPAT_TYPEORM=0.3.x tries another TypeORM version; COMPAT_KEEP=1 keeps the temporary copy.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LINE="${1:?usage: run-line.sh previous|oldest}"

# Keep these in step with "peerDependencies" in package.json: each line is a major they claim.
case "$LINE" in
  previous)
    NEST_VERSION='^11.1.0'
    NEST_TYPEORM_VERSION='^11.0.0'
    NEST_SWAGGER_VERSION='^11.0.0'
    NEST_CONFIG_VERSION='^4.0.0'
    CLASS_VALIDATOR_VERSION='^0.15.0'
    TYPEORM_VERSION="${COMPAT_TYPEORM:-^0.3.26}" # the latest 0.3.x
    FASTIFY_STATIC_VERSION='^10.1.2'  # platform-fastify 11's peer (Swagger UI on Fastify)
    ;;
  oldest)
    NEST_VERSION='^10.4.9'            # latest 10.x
    NEST_TYPEORM_VERSION='^10.0.2'    # peers: @nestjs/common|core ^8 || ^9 || ^10, typeorm ^0.3.0
    NEST_SWAGGER_VERSION='^7.4.2'     # the last major with @nestjs/common|core ^9 || ^10 peers
    NEST_CONFIG_VERSION='^3.2.3'      # peers: @nestjs/common ^8 || ^9 || ^10
    CLASS_VALIDATOR_VERSION='^0.14.0' # the older major of the peer range
    # Exact, the lower end of the typeorm peer range: 0.3.26 is the first 0.3.x whose peer range
    # admits better-sqlite3 12 (older ones stop at ^11, which npm refuses next to ^12; 13 does not
    # run on Node 20).
    TYPEORM_VERSION="${COMPAT_TYPEORM:-0.3.26}"
    FASTIFY_STATIC_VERSION='^7.0.0'   # platform-fastify 10's peer (fastify 4)
    ;;
  *) echo "compat: unknown line '$LINE' (previous|oldest)" >&2; exit 2 ;;
esac

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lost-reason-compat-$LINE.XXXXXX")"
cleanup() {
  if [[ "${COMPAT_KEEP:-}" == 1 ]]; then echo "compat: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "compat: copying $ROOT to $WORK"
# The working tree as git sees it (tracked and new files, .gitignore honoured: no installs or
# builds), with git and tar only (both in the base image; rsync is not).
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$WORK"
rm -f "$WORK/package-lock.json"

cd "$WORK"
NEST_VERSION="$NEST_VERSION" NEST_TYPEORM_VERSION="$NEST_TYPEORM_VERSION" \
NEST_SWAGGER_VERSION="$NEST_SWAGGER_VERSION" NEST_CONFIG_VERSION="$NEST_CONFIG_VERSION" \
TYPEORM_VERSION="$TYPEORM_VERSION" CLASS_VALIDATOR_VERSION="$CLASS_VALIDATOR_VERSION" \
FASTIFY_STATIC_VERSION="$FASTIFY_STATIC_VERSION" node -e '
  const fs = require("node:fs");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  const env = process.env;
  const pins = {
    "@nestjs/common": env.NEST_VERSION,
    "@nestjs/core": env.NEST_VERSION,
    "@nestjs/platform-express": env.NEST_VERSION,
    "@nestjs/platform-fastify": env.NEST_VERSION,
    "@nestjs/testing": env.NEST_VERSION,
    "@nestjs/typeorm": env.NEST_TYPEORM_VERSION,
    "@nestjs/swagger": env.NEST_SWAGGER_VERSION,
    "@nestjs/config": env.NEST_CONFIG_VERSION,
    typeorm: env.TYPEORM_VERSION,
    "class-validator": env.CLASS_VALIDATOR_VERSION,
    "@fastify/static": env.FASTIFY_STATIC_VERSION,
  };
  for (const [name, version] of Object.entries(pins)) {
    if (!(name in pkg.devDependencies)) throw new Error(`compat: ${name} is not a devDependency any more`);
    pkg.devDependencies[name] = version;
  }
  fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
'

echo "compat: npm install ($LINE line)"
npm install --no-audit --no-fund
npm ls @nestjs/common @nestjs/core @nestjs/typeorm @nestjs/testing typeorm class-validator --depth=0

# The e2e projects (both schema modes), without the specs that build/pack the repo itself:
# the README and generated-client specs build and run the sample, and a package/tarball spec would
# test the packing, none of which depends on the framework versions.
echo "compat: type check against the $LINE line's declarations"
npx tsc -p tsconfig.json --noEmit

echo "compat: e2e suites on the $LINE line"
npx jest --runInBand --selectProjects e2e e2e-migrations \
  --testPathPatterns '^(?!(.*/)?test/(readme|openapi-client|package|pack|tarball)[^/]*\.e2e-spec\.ts$)'
