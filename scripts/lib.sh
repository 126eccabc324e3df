#!/usr/bin/env bash
# Shared helpers for the project's scripts: install what is missing, idempotently.
# Sourced, not executed. Everything installs into the repository (.tools, .data) or via apt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/.tools"
DATA_DIR="${DATA_DIR:-$ROOT/.data}"
FERRETDB_BIN="$TOOLS_DIR/bin/ferretdb"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_node_modules() {
  # Reinstall when the lock file changed since the last install.
  local stamp="$ROOT/node_modules/.install-stamp"
  if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
    # `npm install` with the committed lock installs exactly the locked versions. Not `npm ci`:
    # npm 11.7+ refuses a lock that lacks other platforms' optional binaries (@swc/core-*, …),
    # and npm itself does not record them (npm/cli#8805, #4828).
    log "installing npm packages (npm install, locked versions)"
    (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}

ensure_ferretdb() {
  if [ -x "$FERRETDB_BIN" ]; then return 0; fi
  command -v go >/dev/null || { log "Go is required to build FerretDB"; exit 1; }
  log "building FerretDB v1.24.2 from the Go module proxy (once)"
  mkdir -p "$TOOLS_DIR/bin"
  # FerretDB refuses to start when built as a tool without build/version/version.txt (a file its
  # release process generates). Vendoring gives us a writable copy of the module to add it to;
  # the module cache itself is read-only and -overlay may not replace files inside it.
  (
    cd "$ROOT/tools/ferretdb"
    go mod vendor
    echo "v1.24.2" > vendor/github.com/FerretDB/FerretDB/build/version/version.txt
    go build -mod=vendor -trimpath -o "$FERRETDB_BIN" github.com/FerretDB/FerretDB/cmd/ferretdb
  )
}

postgres_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && echo "$dir"
}

ensure_postgres_installed() {
  if [ -z "$(postgres_bin_dir)" ]; then apt_install postgresql; fi
}

ensure_redis_installed() {
  command -v redis-server >/dev/null || apt_install redis-server
}
