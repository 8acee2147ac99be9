#!/usr/bin/env bash
# npm run conformance: schemathesis (from PyPI, in the ignored venv .tools/conformance-venv) against the
# OpenAPI description Assent serves for the Berlin Group consent API, on a server started here on a free
# loopback port (demo mode, in-memory stores) and stopped afterwards. Bounded in time:
# CONFORMANCE_SECONDS (default 120) for the run, plus the install on first use. The report goes to
# test-results/conformance/ (ignored). Exit status: schemathesis's (0 = no failures).
# Every check runs except use_after_free: Berlin Group keeps a deleted consent readable (GET answers it
# with consentStatus terminatedByTpp, or rejected when it was never authorised), where that check wants 404.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/.bin/node
VENV=.tools/conformance-venv
ST_VERSION=4.32.5
SECONDS_BUDGET=${CONFORMANCE_SECONDS:-120}
OUT=test-results/conformance
mkdir -p "$OUT"

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  echo "[conformance] installing schemathesis $ST_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$ST_VERSION"
fi

PORT=$($NODE -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
BASE="http://127.0.0.1:$PORT"
cat > "$OUT/config.json" <<JSON
{ "consent": { "createRateLimit": { "limit": 1000000, "windowSeconds": 60 } }, "issuer": "$BASE/connect", "logLevel": "warn" }
JSON
ASSENT_CONFIG="$OUT/config.json" PORT=$PORT HOST=127.0.0.1 $NODE src/main.ts > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "$BASE/psd2/consent/v1/openapi.json" && break
  sleep 0.2
done

TOKEN=$(curl -sf -u demo-tpp:demo-tpp-secret -d grant_type=client_credentials -d scope=accountinformation "$BASE/connect/token" \
  | $NODE -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')

echo "[conformance] schemathesis $ST_VERSION, all checks, ${SECONDS_BUDGET}s, against $BASE/psd2/consent/v1/openapi.json"
set +e
PYTHONPATH=scripts/conformance SCHEMATHESIS_HOOKS=hooks ASSENT_CONFORMANCE_REDIRECT_URI="$BASE/demo-tpp/callback" \
  timeout $((SECONDS_BUDGET + 60)) "$VENV/bin/st" run "$BASE/psd2/consent/v1/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks all \
  --exclude-checks use_after_free \
  --max-time "$SECONDS_BUDGET" \
  --workers 2 \
  --continue-on-failure \
  --seed "${CONFORMANCE_SEED:-20261202}" \
  --report junit --report-dir "$OUT" \
  2>&1 | tee "$OUT/schemathesis.log"
STATUS=${PIPESTATUS[0]}
set -e
echo "[conformance] exit status $STATUS; report in $OUT/"
exit "$STATUS"
