#!/usr/bin/env bash
# Every step of the container image, as a script, so the recipe is tested where the image
# cannot be built (no base image can be pulled on the CI machines): the Dockerfile runs
# `build` and `stage`; CI runs `ci`, which stages the service into a clean folder and starts
# it from there (smoke.ts) against PostgreSQL and a CouchDB-protocol server.
#
#   build-steps.sh build <src>             npm ci (with dev dependencies) + npm run build in <src>
#   build-steps.sh stage <src> <out>       the runnable service in <out>: dist/, the bundled
#                                          pipeline, production dependencies only (no embedded
#                                          PostgreSQL binaries, no pouchdb-server, no React)
#   build-steps.sh ci                      stage into a fresh temp folder, then smoke-test it
#
# CHT_SYNC_NATIVE_FROM=<node_modules>: reuse better-sqlite3's compiled addon from an install of
# the same version and Node ABI (CI: the repo's own) instead of compiling it again (~2.5 min).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

step_build() {
  local src="$1"
  cd "$src"
  # Electron's binary is for the desktop app only (and cannot be downloaded here).
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
  npm run build
}

step_stage() {
  local src="$1" out="$2"
  [ -f "$src/dist/cli.cjs" ] || { echo "stage: $src/dist/cli.cjs is missing: run the build step first" >&2; exit 1; }
  mkdir -p "$out"
  cp -R "$src/dist" "$out/dist"
  find "$out/dist" -name '*.map' -delete
  mkdir -p "$out/resources"
  cp -R "$src/resources/pipeline" "$out/resources/pipeline"
  cp "$src/package-lock.json" "$out/"
  # The service's package.json: the desktop-only and demo-only dependencies go, and with them
  # their trees (npm ci follows the lock for everything that stays).
  node -e '
    const fs = require("fs");
    const pkg = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    for (const name of ["pouchdb-server", "react", "react-dom"]) delete pkg.dependencies[name];
    delete pkg.scripts; delete pkg.devDependencies; delete pkg.main;
    fs.writeFileSync(process.argv[2], JSON.stringify(pkg, null, 2) + "\n");
  ' "$src/package.json" "$out/package.json"
  cd "$out"
  # --omit=optional: embedded-postgres's platform binaries (the service uses an external server).
  # --ignore-scripts: the one native addon is built (or reused) below, nothing else runs.
  npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
  local addon="node_modules/better-sqlite3/build/Release/better_sqlite3.node"
  local from="${CHT_SYNC_NATIVE_FROM:-}"
  if [ -n "$from" ] && [ -f "$from/better-sqlite3/build/Release/better_sqlite3.node" ] \
     && [ "$(node -p "require('$from/better-sqlite3/package.json').version")" = "$(node -p "require('./node_modules/better-sqlite3/package.json').version")" ]; then
    mkdir -p "$(dirname "$addon")"
    cp "$from/better-sqlite3/build/Release/better_sqlite3.node" "$addon"
  else
    npm rebuild better-sqlite3 --foreground-scripts
  fi
  rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj* 2>/dev/null || true
  # Fails here, not at the first sync, when the addon does not load.
  node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"
  node dist/cli.cjs --version >/dev/null
  # Nothing the image must not carry.
  for absent in pouchdb-server @embedded-postgres electron react; do
    [ ! -e "node_modules/$absent" ] || { echo "stage: node_modules/$absent must not be in the image" >&2; exit 1; }
  done
  echo "staged the service in $out ($(du -sh "$out" | cut -f1))"
}

step_ci() {
  ci_out="$(mktemp -d "${TMPDIR:-/tmp}/cht-sync-image-XXXXXX")"
  trap 'rm -rf "$ci_out"' EXIT
  [ -f "$repo/dist/cli.cjs" ] || (cd "$repo" && npm run build)
  CHT_SYNC_NATIVE_FROM="${CHT_SYNC_NATIVE_FROM:-$repo/node_modules}" step_stage "$repo" "$ci_out"
  cd "$repo"
  node --import tsx resources/docker/smoke.ts "$ci_out"
}

case "${1:-}" in
  build) step_build "${2:?source folder}" ;;
  stage) step_stage "${2:?source folder}" "${3:?output folder}" ;;
  ci) step_ci ;;
  *) echo "usage: $0 build <src> | stage <src> <out> | ci" >&2; exit 2 ;;
esac
