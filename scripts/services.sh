#!/usr/bin/env bash
# Local services on loopback: FerretDB (MongoDB wire protocol, SQLite backend), PostgreSQL, Redis.
#   scripts/services.sh up|down|status
# Idempotent. `up` prints the connection URLs as `export NAME=value` lines on stdout, so callers
# can `eval "$(scripts/services.sh up)"`. A MONGODB_URI, POSTGRES_URL or REDIS_URL already in the
# environment is used as it is and the matching local service is left alone.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FERRETDB_PORT="${FERRETDB_PORT:-27018}"
POSTGRES_PORT="${POSTGRES_PORT:-5433}"
REDIS_PORT="${REDIS_PORT:-6380}"
POSTGRES_DB="${POSTGRES_DB:-trade}"

FERRET_DIR="$DATA_DIR/ferretdb"
PG_DIR="$DATA_DIR/postgres"
# As root, PostgreSQL runs as the postgres user, who may not be able to enter the checkout (a clone
# inside a private 0700 folder, as mktemp makes): keep its cluster under its own home then.
if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$DATA_DIR/.." 2>/dev/null; then
  PG_DIR="/var/lib/postgresql/trade-backend/$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)"
fi
REDIS_DIR="$DATA_DIR/redis"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 100); do port_open "$port" && return 0; sleep 0.2; done
  log "$name did not start listening on 127.0.0.1:$port"; return 1
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# PostgreSQL refuses to run as root: when we are root, its files belong to the postgres user.
pg_run() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ferretdb_up() {
  if pid_alive "$FERRET_DIR/ferretdb.pid" && port_open "$FERRETDB_PORT"; then return 0; fi
  ensure_ferretdb
  mkdir -p "$FERRET_DIR/data" "$FERRET_DIR/state"
  log "starting FerretDB on 127.0.0.1:$FERRETDB_PORT"
  nohup "$FERRETDB_BIN" \
    --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --handler=sqlite --sqlite-url="file:$FERRET_DIR/data/" \
    --state-dir="$FERRET_DIR/state" \
    --telemetry=disable --debug-addr=- --log-level=WARN \
    >"$FERRET_DIR/ferretdb.log" 2>&1 &
  echo $! >"$FERRET_DIR/ferretdb.pid"
  wait_port "$FERRETDB_PORT" FerretDB
}

postgres_up() {
  ensure_postgres_installed
  local bin; bin=$(postgres_bin_dir)
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $PG_DIR/data"
    mkdir -p "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PG_DIR"
    # trust on loopback only: this cluster is a local development and test peer.
    pg_run "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! pg_run "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$POSTGRES_PORT"
    pg_run "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $POSTGRES_PORT -c unix_socket_directories='$PG_DIR' -c max_connections=300 -c fsync=off" \
      start >/dev/null
  fi
  if ! pg_run "$bin/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$POSTGRES_DB'" | grep -q 1; then
    pg_run "$bin/createdb" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres "$POSTGRES_DB"
  fi
}

redis_up() {
  if port_open "$REDIS_PORT"; then return 0; fi
  ensure_redis_installed
  mkdir -p "$REDIS_DIR"
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --save '' --appendonly no >/dev/null
  wait_port "$REDIS_PORT" Redis
}

ferretdb_down() {
  if pid_alive "$FERRET_DIR/ferretdb.pid"; then
    kill "$(cat "$FERRET_DIR/ferretdb.pid")"; log "stopped FerretDB"
  fi
  rm -f "$FERRET_DIR/ferretdb.pid"
}

postgres_down() {
  local bin; bin=$(postgres_bin_dir || true)
  if [ -n "$bin" ] && [ -f "$PG_DIR/data/PG_VERSION" ] && pg_run "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    pg_run "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null; log "stopped PostgreSQL"
  fi
}

redis_down() {
  if pid_alive "$REDIS_DIR/redis.pid"; then kill "$(cat "$REDIS_DIR/redis.pid")"; log "stopped Redis"; fi
}

status_line() {
  if port_open "$2"; then echo "$1: up on 127.0.0.1:$2"; else echo "$1: down"; fi
}

case "${1:-}" in
  up)
    [ -n "${MONGODB_URI:-}" ] || ferretdb_up
    [ -n "${POSTGRES_URL:-}" ] || postgres_up
    [ -n "${REDIS_URL:-}" ] || redis_up
    echo "export MONGODB_URI=${MONGODB_URI:-mongodb://127.0.0.1:$FERRETDB_PORT/trade}"
    echo "export POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB}"
    echo "export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
    ;;
  down)
    ferretdb_down; postgres_down; redis_down ;;
  status)
    status_line FerretDB "$FERRETDB_PORT"
    status_line PostgreSQL "$POSTGRES_PORT"
    status_line Redis "$REDIS_PORT"
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
