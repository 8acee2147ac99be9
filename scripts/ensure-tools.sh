#!/usr/bin/env bash
# Makes the real test dependencies available on a fresh machine of this kind:
# Node 24 (from the npm registry, through the project's own `node` devDependency),
# Debian's redis-server, postgresql (FerretDB's backend) and chromium, and FerretDB v1.24.2 built from
# the Go module proxy.
# Idempotent: each step is skipped when its tool is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_DIR="${ASSENT_TOOLS_DIR:-$HOME/.cache/assent}"
FERRET_VERSION="v1.24.2"
FERRET_BIN="$TOOLS_DIR/ferretdb-$FERRET_VERSION"
mkdir -p "$TOOLS_DIR"

log() { printf '[ensure-tools] %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "need root to apt-get install $*; install them by hand"; exit 1
  fi
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Node 24: `npm install` puts it at node_modules/.bin/node (the `node` devDependency).
if [ ! -x node_modules/.bin/node ] || ! node_modules/.bin/node -e 'process.exit(+process.versions.node.split(".")[0] >= 24 ? 0 : 1)'; then
  log "installing npm dependencies (brings Node 24)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null
fi

if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then
  log "installing redis-server"; apt_install redis-server
fi

# PostgreSQL: FerretDB's backend for tests and benchmarks (not needed with a real MongoDB, nor with
# ASSENT_FERRETDB_BACKEND=sqlite). Debian keeps the server programs in /usr/lib/postgresql/<v>/bin.
have_postgres() {
  { command -v initdb && command -v postgres; } >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}
if [ -z "${MONGODB_URI:-}" ] && [ "${ASSENT_FERRETDB_BACKEND:-postgresql}" = postgresql ] && ! have_postgres; then
  log "installing postgresql"; apt_install postgresql
fi

if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium"; apt_install chromium
fi

if [ -z "${MONGODB_URI:-}" ] && [ ! -x "$FERRET_BIN" ]; then
  command -v go >/dev/null || { log "Go is needed to build FerretDB"; exit 1; }
  log "building FerretDB $FERRET_VERSION"
  # `go install …@v1.24.2` cannot be used as is: the proxy refuses the module's version list
  # (needed for the deprecation check), and the module zip lacks build/version/version.txt,
  # without which the binary panics at start. So: fetch the exact version, add the file, build.
  src_json=$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRET_VERSION")
  src_dir=$(printf '%s' "$src_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src_dir" ] || { log "go mod download gave no source dir: $src_json"; exit 1; }
  work=$(mktemp -d)
  cp -r "$src_dir/." "$work/"
  chmod -R u+w "$work"
  echo "$FERRET_VERSION" > "$work/build/version/version.txt"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -o "$FERRET_BIN.tmp" ./cmd/ferretdb)
  mv "$FERRET_BIN.tmp" "$FERRET_BIN"
  rm -rf "$work"
fi
log "ready"
