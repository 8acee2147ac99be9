#!/usr/bin/env bash
# Runs every test: typecheck, unit, contract and integration tests against real Redis and FerretDB
# (or the stores named by REDIS_URL / MONGODB_URI), and the Playwright browser tests in Debian's chromium.
# Installs what is missing first (see scripts/ensure-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
bash scripts/ensure-tools.sh
NODE=node_modules/.bin/node
echo "[test] node $($NODE --version), typecheck"
node_modules/.bin/tsc --noEmit -p tsconfig.json
files=$(find test e2e -name '*.test.ts' | sort)
# Each test file gets its own database and Redis key prefix, so files run side by side.
exec "$NODE" scripts/test-env.ts -- "$NODE" --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=120000 $files
