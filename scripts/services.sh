#!/usr/bin/env bash
# Local services on loopback: PostgreSQL, FerretDB (MongoDB wire protocol, on PostgreSQL), Redis,
# and two third-party peers for tests and development: stripe-mock (Stripe's official API mock)
# and Mailpit (an SMTP server that keeps every mail and serves them over an HTTP API).
#   scripts/services.sh up|down|status
# Idempotent. `up` prints the connection URLs as `export NAME=value` lines on stdout, so callers
# can `eval "$(scripts/services.sh up)"`. A MONGODB_URI, POSTGRES_URL, REDIS_URL, STRIPE_MOCK_URL
# or MAILPIT_SMTP_URL with MAILPIT_API_URL already in the environment is used as it is and the
# matching local service is left alone.
# Ports: FERRETDB_PORT (27018), POSTGRES_PORT (5433), REDIS_PORT (6380), STRIPE_MOCK_PORT (12111),
# MAILPIT_SMTP_PORT (1025), MAILPIT_HTTP_PORT (8025). A port held by anything but this checkout's
# own service stops `up` at once, naming the holder.
# stripe-mock and Mailpit are built once from the Go module proxy into .tools/bin (versions pinned
# in tools/stripe-mock and tools/mailpit), like FerretDB.
# Every service runs in a session of its own (setsid), so it outlives the script that started it
# whichever way that script's process group is stopped (Ctrl-C, SIGTERM, SIGKILL).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FERRETDB_PORT="${FERRETDB_PORT:-27018}"
POSTGRES_PORT="${POSTGRES_PORT:-5433}"
REDIS_PORT="${REDIS_PORT:-6380}"
STRIPE_MOCK_PORT="${STRIPE_MOCK_PORT:-12111}"
MAILPIT_SMTP_PORT="${MAILPIT_SMTP_PORT:-1025}"
MAILPIT_HTTP_PORT="${MAILPIT_HTTP_PORT:-8025}"
POSTGRES_DB="${POSTGRES_DB:-trade}"
# FerretDB's own PostgreSQL database (each MongoDB database is a schema in it).
FERRETDB_PG_DB="${FERRETDB_PG_DB:-ferretdb}"

FERRET_DIR="$DATA_DIR/ferretdb"
REDIS_DIR="$DATA_DIR/redis"
STRIPE_MOCK_DIR="$DATA_DIR/stripe-mock"
MAILPIT_DIR="$DATA_DIR/mailpit"
STRIPE_MOCK_BIN="$TOOLS_DIR/bin/stripe-mock"
MAILPIT_BIN="$TOOLS_DIR/bin/mailpit"
PG_LOCATION_FILE="$DATA_DIR/postgres.location"
PG_DIR=""

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(head -n 1 "$1")" 2>/dev/null; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# PostgreSQL refuses to run as root: when we are root, its files belong to the postgres user.
# From /: that user may not be allowed into the current folder.
pg_run() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# ---------------------------------------------------------------------------------------------
# Who listens on a port. Empty when neither ss nor lsof can tell (then callers fall back to the
# pid files alone).
listener_pids() {
  local port=$1
  if command -v ss >/dev/null; then
    ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
  elif command -v lsof >/dev/null; then
    lsof -nP -t -iTCP:"$port" -sTCP:LISTEN 2>/dev/null | sort -u
  fi
}

can_name_listeners() { command -v ss >/dev/null || command -v lsof >/dev/null; }

# The checkout a process of these scripts belongs to, read from its command line or its cwd.
checkout_of_pid() {
  local pid=$1 args cwd dir
  args=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null || true)
  dir=$(printf '%s\n' "$args" | sed -n 's/^--state-dir=\(.*\)\/\.data\/ferretdb\/state$/\1/p' | head -n 1)
  if [ -z "$dir" ]; then
    # postgres -D <cluster>/data: the cluster folder records its checkout.
    dir=$(printf '%s\n' "$args" | sed -n '/^-D$/{n;p;}' | head -n 1)
    if [ -n "$dir" ] && [ -f "$dir/../checkout" ]; then dir=$(cat "$dir/../checkout"); else dir=""; fi
  fi
  if [ -z "$dir" ]; then
    # redis-server runs in --dir, <checkout>/.data/redis; stripe-mock and Mailpit are started in
    # <checkout>/.data/stripe-mock and <checkout>/.data/mailpit.
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
    case "$cwd" in */.data/redis | */.data/stripe-mock | */.data/mailpit) dir=${cwd%/.data/*} ;; esac
  fi
  [ -n "$dir" ] && echo "$dir"
  return 0
}

describe_holder() {
  local port=$1 pids pid line checkout
  pids=$(listener_pids "$port")
  if [ -z "$pids" ]; then
    if can_name_listeners; then
      echo "  a process this user cannot see (run 'ss -ltnp' as root to name it)"
    else
      echo "  a process that cannot be named here (install iproute2 for ss, or lsof, to name it)"
    fi
    return 0
  fi
  for pid in $pids; do
    line="pid $pid ($(ps -o user= -p "$pid" 2>/dev/null | tr -d ' ')): $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-200)"
    checkout=$(checkout_of_pid "$pid")
    if [ -n "$checkout" ]; then line="$line [services of the checkout $checkout]"; fi
    echo "  $line"
  done
}

PORT_VARS=(FERRETDB_PORT POSTGRES_PORT REDIS_PORT STRIPE_MOCK_PORT MAILPIT_SMTP_PORT MAILPIT_HTTP_PORT)

# Ports near the requested ones, one for each service, all free and distinct, to suggest.
suggest_ports() {
  local offset var port line free
  for offset in 10 20 30 40 50 60 70 80 90 100; do
    line=""; free=1
    for var in "${PORT_VARS[@]}"; do
      port=$((${!var} + offset))
      case "$line " in *"=$port "*) free=0; break ;; esac
      if port_open "$port"; then free=0; break; fi
      line="$line $var=$port"
    done
    if [ "$free" -eq 1 ]; then echo "${line# }"; return 0; fi
  done
  line=""
  for var in "${PORT_VARS[@]}"; do line="$line $var=<port>"; done
  echo "${line# }"
}

port_taken() {
  local name=$1 port=$2
  log "port $port ($name) on 127.0.0.1 is taken by something that is not this checkout's $name:"
  describe_holder "$port" >&2
  log "stop that, or give this checkout other ports, for example:"
  log "  $(suggest_ports) ./scripts/test.sh   (the same variables work for dev.sh and services.sh)"
  exit 1
}

# Ours when the pid in our pid file is alive and listening on the port. Without ss and lsof the
# listener cannot be named: then a live pid file and an open port count as ours.
pid_file_serves_port() {
  local pidfile=$1 port=$2 pid pids
  pid_alive "$pidfile" || return 1
  port_open "$port" || return 1
  pid=$(head -n 1 "$pidfile")
  can_name_listeners || return 0
  pids=$(listener_pids "$port")
  # Listening on a port but not visible (another user's process): not ours.
  printf '%s\n' "$pids" | grep -qx "$pid"
}

# up: 0 = ours and running, 1 = free (start it); stops the script when something else holds it.
check_port() {
  local name=$1 port=$2 pidfile=$3
  if pid_file_serves_port "$pidfile" "$port"; then return 0; fi
  if port_open "$port"; then port_taken "$name" "$port"; fi
  if pid_alive "$pidfile"; then
    log "this checkout's $name (pid $(head -n 1 "$pidfile")) runs, but not on port $port: stop it with"
    log "  scripts/services.sh down   (or set the port it was started with)"
    exit 1
  fi
  return 1
}

wait_port() {
  local port=$1 name=$2 pidfile=${3:-} logfile=${4:-}
  for _ in $(seq 1 150); do
    port_open "$port" && return 0
    if [ -n "$pidfile" ] && [ -f "$pidfile" ] && ! pid_alive "$pidfile"; then
      log "$name exited at start; the end of $logfile:"
      tail -n 20 "$logfile" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  log "$name did not start listening on 127.0.0.1:$port"; return 1
}

# Starts "$@" detached in a session of its own; the pid is written to $1 by the process itself
# (setsid forks when its caller leads a process group, so $! would not be the service's pid).
start_detached() {
  local pidfile=$1 logfile=$2; shift 2
  rm -f "$pidfile"
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >"$logfile" 2>&1 9>&- &
  for _ in $(seq 1 50); do [ -s "$pidfile" ] && return 0; sleep 0.1; done
  log "could not start $1"; return 1
}

stop_pid_file() {
  local pidfile=$1 name=$2 pid
  if pid_alive "$pidfile"; then
    pid=$(head -n 1 "$pidfile")
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    log "stopped $name"
  fi
  rm -f "$pidfile"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL cluster folder. Decided once, then remembered in $DATA_DIR/postgres.location, so
# every run (and `down`) uses the same cluster. As root, PostgreSQL runs as the postgres user,
# who may not be able to enter the checkout (a clone inside a private 0700 folder, as mktemp
# makes): the cluster then lives under that user's home.
pg_home_dir() { echo "/var/lib/postgresql/trade-backend/$(printf '%s' "$1" | sha1sum | cut -c1-12)"; }

# Where earlier versions of this script may have put this checkout's cluster.
pg_candidates() {
  echo "$DATA_DIR/postgres"
  if is_root; then pg_home_dir "$DATA_DIR"; pg_home_dir "$ROOT"; fi
}
mapfile -t PG_CANDIDATES < <(pg_candidates)

pg_running_in() {
  local bin; bin=$(postgres_bin_dir || true)
  [ -n "$bin" ] && [ -f "$1/data/PG_VERSION" ] && pg_run "$bin/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

# Sets PG_DIR. With "decide", makes and remembers the choice when there is none yet.
resolve_pg_dir() {
  local mode=${1:-} c
  if [ -s "$PG_LOCATION_FILE" ]; then PG_DIR=$(cat "$PG_LOCATION_FILE"); return 0; fi
  PG_DIR=""
  # No remembered choice: a cluster an earlier run made wins, a running one first.
  for c in "${PG_CANDIDATES[@]}"; do if pg_running_in "$c"; then PG_DIR=$c; break; fi; done
  if [ -z "$PG_DIR" ]; then
    for c in "${PG_CANDIDATES[@]}"; do if [ -f "$c/data/PG_VERSION" ]; then PG_DIR=$c; break; fi; done
  fi
  [ "$mode" = decide ] || return 0
  mkdir -p "$DATA_DIR"
  if [ -z "$PG_DIR" ]; then
    PG_DIR="$DATA_DIR/postgres"
    if is_root && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$DATA_DIR" 2>/dev/null; then
      PG_DIR=$(pg_home_dir "$DATA_DIR")
    fi
  fi
  echo "$PG_DIR" >"$PG_LOCATION_FILE"
}

pg_pid_file() { echo "$PG_DIR/data/postmaster.pid"; }

psql_admin() {
  local bin; bin=$(postgres_bin_dir)
  pg_run "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres "$@"
}

ensure_pg_database() {
  local bin; bin=$(postgres_bin_dir)
  if ! psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1; then
    # Another `up` against the same cluster may create it at the same moment.
    pg_run "$bin/createdb" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres "$1" 2>/dev/null ||
      psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1
  fi
}

postgres_up() {
  ensure_postgres_installed
  local bin; bin=$(postgres_bin_dir)
  resolve_pg_dir decide
  if check_port PostgreSQL "$POSTGRES_PORT" "$(pg_pid_file)"; then :; else
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
      log "creating a PostgreSQL cluster in $PG_DIR/data"
      mkdir -p "$PG_DIR"
      is_root && chown -R postgres:postgres "$PG_DIR"
      # trust on loopback only: this cluster is a local development and test peer.
      pg_run "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    echo "$ROOT" >"$PG_DIR/checkout"
    log "starting PostgreSQL on 127.0.0.1:$POSTGRES_PORT"
    # pg_ctl itself starts the postmaster in a new session; setsid -w keeps pg_ctl's own wait.
    pg_run setsid -w "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $POSTGRES_PORT -c unix_socket_directories='$PG_DIR' -c max_connections=300 -c fsync=off" \
      start </dev/null >/dev/null 9>&-
  fi
  ensure_pg_database "$POSTGRES_DB"
}

# FerretDB's database: one jsonb table per collection, btree indexes on ((_jsonb -> 'field')).
# FerretDB pushes a top-level equality down as `_jsonb -> 'field' @> value`, which a btree cannot
# serve; a GIN index on the same expression can, once plans are made with the value known
# (force_custom_plan). The event trigger adds that GIN companion to every index FerretDB creates
# whose first key is a top-level field, and drops it with its btree; the last statement adds the
# companions an existing data folder lacks. See docs/architecture.md ("The local MongoDB store").
ferretdb_pg_setup() {
  ensure_pg_database "$FERRETDB_PG_DB"
  psql_admin -d "$FERRETDB_PG_DB" -1 >/dev/null <<SQL
-- Two of these at once would fail replacing the same functions ("tuple concurrently updated");
-- the checkout lock prevents that where flock exists, this everywhere.
SELECT pg_advisory_xact_lock(hashtext('trade_gin_companions'));
ALTER DATABASE "$FERRETDB_PG_DB" SET plan_cache_mode = force_custom_plan;

CREATE OR REPLACE FUNCTION public.trade_gin_companion_name(btree_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS \$\$
  SELECT CASE WHEN btree_name LIKE '%\\_idx' THEN left(btree_name, length(btree_name) - 4)
              ELSE left(btree_name, 59) END || '_gin'
\$\$;

CREATE OR REPLACE FUNCTION public.trade_add_gin_companion(index_oid oid) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS \$\$
DECLARE
  first_key text;
  field text;
  tbl regclass;
  nsp name;
  idx_name name;
  companion text;
BEGIN
  SELECT i.indrelid::regclass, n.nspname, c.relname, pg_get_indexdef(i.indexrelid, 1, false)
    INTO tbl, nsp, idx_name, first_key
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class t ON t.oid = i.indrelid
   WHERE i.indexrelid = index_oid AND am.amname = 'btree' AND i.indkey[0] = 0
     AND t.relname NOT LIKE '\\_ferretdb\\_%';
  IF first_key IS NULL THEN RETURN; END IF;
  -- FerretDB writes ((_jsonb->'field')), shown as ((_jsonb -> 'field'::text)); nested paths
  -- chain more arrows and are not matched.
  field := substring(first_key FROM '^\(+_jsonb -> ''((?:[^'']|'''')*)''::text\)+\$');
  IF field IS NULL THEN RETURN; END IF;
  field := replace(field, '''''', '''');
  companion := public.trade_gin_companion_name(idx_name);
  IF to_regclass(format('%I.%I', nsp, companion)) IS NOT NULL THEN RETURN; END IF;
  -- fastupdate off: with a pending list, lookups slow down again between vacuums.
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L)) WITH (fastupdate = off)',
                 companion, tbl, field);
END
\$\$;

CREATE OR REPLACE FUNCTION public.trade_gin_on_create_index() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS \$\$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    PERFORM public.trade_add_gin_companion(r.objid);
  END LOOP;
END
\$\$;

CREATE OR REPLACE FUNCTION public.trade_gin_on_drop_index() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS \$\$
DECLARE r record;
BEGIN
  FOR r IN SELECT schema_name, object_name FROM pg_event_trigger_dropped_objects()
            WHERE object_type = 'index' AND original AND object_name NOT LIKE '%\\_gin' LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I.%I', r.schema_name, public.trade_gin_companion_name(r.object_name));
  END LOOP;
END
\$\$;

DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'trade_gin_companions') THEN
    CREATE EVENT TRIGGER trade_gin_companions ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
      EXECUTE FUNCTION public.trade_gin_on_create_index();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'trade_gin_companions_drop') THEN
    CREATE EVENT TRIGGER trade_gin_companions_drop ON sql_drop WHEN TAG IN ('DROP INDEX')
      EXECUTE FUNCTION public.trade_gin_on_drop_index();
  END IF;
END
\$\$;

SELECT public.trade_add_gin_companion(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%';
SQL
}

ferretdb_pg_url() { echo "postgres://postgres@127.0.0.1:$POSTGRES_PORT/$FERRETDB_PG_DB"; }

ferretdb_up() {
  if check_port FerretDB "$FERRETDB_PORT" "$FERRET_DIR/ferretdb.pid"; then
    if tr '\0' ' ' <"/proc/$(head -n 1 "$FERRET_DIR/ferretdb.pid")/cmdline" 2>/dev/null | grep -q -- '--handler=sqlite'; then
      log "warning: this checkout's FerretDB still runs the SQLite backend (slow lookups); switch with"
      log "  scripts/services.sh down && scripts/services.sh up"
    fi
    return 0
  fi
  ensure_ferretdb
  mkdir -p "$FERRET_DIR/state"
  if compgen -G "$FERRET_DIR/data/*.sqlite" >/dev/null; then
    log "note: $FERRET_DIR/data holds data of the former SQLite backend; FerretDB now keeps its data in PostgreSQL ($FERRETDB_PG_DB)"
  fi
  log "starting FerretDB on 127.0.0.1:$FERRETDB_PORT (PostgreSQL backend)"
  start_detached "$FERRET_DIR/ferretdb.pid" "$FERRET_DIR/ferretdb.log" "$FERRETDB_BIN" \
    --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --handler=postgresql --postgresql-url="$(ferretdb_pg_url)" \
    --state-dir="$FERRET_DIR/state" \
    --telemetry=disable --debug-addr=- --log-level=WARN
  wait_port "$FERRETDB_PORT" FerretDB "$FERRET_DIR/ferretdb.pid" "$FERRET_DIR/ferretdb.log"
}

redis_up() {
  ensure_redis_installed
  if check_port Redis "$REDIS_PORT" "$REDIS_DIR/redis.pid"; then return 0; fi
  mkdir -p "$REDIS_DIR"
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  rm -f "$REDIS_DIR/redis.pid"
  setsid -w redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --save '' --appendonly no </dev/null >/dev/null 9>&-
  wait_port "$REDIS_PORT" Redis
}

# Builds a Go program that runs as a local peer from its tool module tools/<name> (version pinned
# in go.mod and go.sum there) into .tools/bin/<name>, once per version: <name>.version records it.
ensure_go_tool() {
  local name=$1 pkg=$2 version_var=$3 dir bin version start
  dir="$ROOT/tools/$name"; bin="$TOOLS_DIR/bin/$name"
  version=$(awk -v pkg="$pkg" '$1 == pkg && $2 ~ /^v/ { print $2; exit }' "$dir/go.mod")
  if [ -x "$bin" ] && [ "$(cat "$bin.version" 2>/dev/null || true)" = "$version" ]; then return 0; fi
  command -v go >/dev/null || { log "Go is required to build $name"; exit 1; }
  log "building $name $version from the Go module proxy (once)"
  mkdir -p "$TOOLS_DIR/bin"
  # Removed, not overwritten: it may be a link to another checkout's file (tests/scripts does that).
  rm -f "$bin.version"
  start=$SECONDS
  (cd "$dir" && go build -trimpath -ldflags "-s -w -X $version_var=$version" -o "$bin.tmp" "$pkg")
  mv -f "$bin.tmp" "$bin"
  echo "$version" >"$bin.version"
  log "built $name in $((SECONDS - start))s"
}

# stripe-mock: HTTP on 127.0.0.1:STRIPE_MOCK_PORT. It also opens HTTPS on *:12112 unless told
# where; HTTPS goes to a Unix socket in its folder instead (no TCP port, nothing to collide with).
stripe_mock_up() {
  if check_port stripe-mock "$STRIPE_MOCK_PORT" "$STRIPE_MOCK_DIR/stripe-mock.pid"; then return 0; fi
  ensure_go_tool stripe-mock github.com/stripe/stripe-mock main.version
  mkdir -p "$STRIPE_MOCK_DIR"
  rm -f "$STRIPE_MOCK_DIR/https.sock"
  log "starting stripe-mock on 127.0.0.1:$STRIPE_MOCK_PORT"
  # Started in its folder: the socket path stays short, and the holder of a port is named by it.
  (cd "$STRIPE_MOCK_DIR" && start_detached "$STRIPE_MOCK_DIR/stripe-mock.pid" "$STRIPE_MOCK_DIR/stripe-mock.log" \
    "$STRIPE_MOCK_BIN" -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" -https-unix https.sock)
  wait_port "$STRIPE_MOCK_PORT" stripe-mock "$STRIPE_MOCK_DIR/stripe-mock.pid" "$STRIPE_MOCK_DIR/stripe-mock.log"
}

# Mailpit has two ports, both checked: 0 = ours and running on both, 1 = both free.
mailpit_check() {
  local smtp=0 http=0
  check_port "Mailpit SMTP" "$MAILPIT_SMTP_PORT" "$MAILPIT_DIR/mailpit.pid" || smtp=1
  check_port "Mailpit HTTP" "$MAILPIT_HTTP_PORT" "$MAILPIT_DIR/mailpit.pid" || http=1
  [ "$smtp" -eq 0 ] && [ "$http" -eq 0 ]
}

# Mailpit: SMTP on 127.0.0.1:MAILPIT_SMTP_PORT (any or no login, no TLS), its API (and web UI) on
# 127.0.0.1:MAILPIT_HTTP_PORT. Mails are kept in .data/mailpit (the newest 500). No version check
# or reverse DNS: nothing leaves the machine.
mailpit_up() {
  if mailpit_check; then return 0; fi
  ensure_go_tool mailpit github.com/axllent/mailpit github.com/axllent/mailpit/config.Version
  mkdir -p "$MAILPIT_DIR"
  log "starting Mailpit on 127.0.0.1:$MAILPIT_SMTP_PORT (SMTP) and 127.0.0.1:$MAILPIT_HTTP_PORT (HTTP API)"
  (cd "$MAILPIT_DIR" && start_detached "$MAILPIT_DIR/mailpit.pid" "$MAILPIT_DIR/mailpit.log" "$MAILPIT_BIN" \
    --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
    --database "$MAILPIT_DIR/mailpit.db" --smtp-auth-accept-any --smtp-auth-allow-insecure \
    --smtp-disable-rdns --disable-version-check --quiet)
  wait_port "$MAILPIT_SMTP_PORT" "Mailpit SMTP" "$MAILPIT_DIR/mailpit.pid" "$MAILPIT_DIR/mailpit.log"
  wait_port "$MAILPIT_HTTP_PORT" "Mailpit HTTP" "$MAILPIT_DIR/mailpit.pid" "$MAILPIT_DIR/mailpit.log"
}

ferretdb_down() { stop_pid_file "$FERRET_DIR/ferretdb.pid" FerretDB; }

# Stops every cluster of this checkout that runs: the remembered one and any an earlier version
# of this script left in another candidate folder.
postgres_down() {
  local bin c seen=" "; bin=$(postgres_bin_dir || true)
  [ -n "$bin" ] || return 0
  resolve_pg_dir
  for c in ${PG_DIR:+"$PG_DIR"} "${PG_CANDIDATES[@]}"; do
    case "$seen" in *" $c "*) continue ;; esac
    seen="$seen$c "
    if pg_running_in "$c"; then
      pg_run "$bin/pg_ctl" -D "$c/data" -m fast -w stop >/dev/null; log "stopped PostgreSQL ($c)"
    fi
  done
}

redis_down() { stop_pid_file "$REDIS_DIR/redis.pid" Redis; }

stripe_mock_down() { stop_pid_file "$STRIPE_MOCK_DIR/stripe-mock.pid" stripe-mock; rm -f "$STRIPE_MOCK_DIR/https.sock"; }

mailpit_down() { stop_pid_file "$MAILPIT_DIR/mailpit.pid" Mailpit; }

status_line() {
  local name=$1 port=$2 pidfile=$3
  if pid_file_serves_port "$pidfile" "$port"; then echo "$name: up on 127.0.0.1:$port"
  elif port_open "$port"; then echo "$name: down (port $port is held by another process)"
  else echo "$name: down"; fi
}

# One `up` or `down` at a time per checkout (two terminals, test.sh next to dev.sh): two starts of
# one service would overwrite each other's pid file. fd 9 is closed for every service started, so
# the lock ends with this script.
lock_checkout() {
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/services.lock"
  if command -v flock >/dev/null; then flock 9; fi
}

case "${1:-}" in
  up)
    lock_checkout
    # FerretDB keeps its data in the local PostgreSQL, so that one runs whenever FerretDB does.
    want_pg=0; want_ferretdb=0; want_redis=0; want_stripe_mock=0; want_mailpit=0
    if [ -z "${MONGODB_URI:-}" ] || [ -z "${POSTGRES_URL:-}" ]; then want_pg=1; fi
    [ -n "${MONGODB_URI:-}" ] || want_ferretdb=1
    [ -n "${REDIS_URL:-}" ] || want_redis=1
    [ -n "${STRIPE_MOCK_URL:-}" ] || want_stripe_mock=1
    if [ -z "${MAILPIT_SMTP_URL:-}" ] || [ -z "${MAILPIT_API_URL:-}" ]; then want_mailpit=1; fi
    # Every port first, so that a collision stops us before anything starts.
    [ "$want_pg" -eq 0 ] || { resolve_pg_dir decide; check_port PostgreSQL "$POSTGRES_PORT" "$(pg_pid_file)" || true; }
    [ "$want_ferretdb" -eq 0 ] || check_port FerretDB "$FERRETDB_PORT" "$FERRET_DIR/ferretdb.pid" || true
    [ "$want_redis" -eq 0 ] || check_port Redis "$REDIS_PORT" "$REDIS_DIR/redis.pid" || true
    [ "$want_stripe_mock" -eq 0 ] || check_port stripe-mock "$STRIPE_MOCK_PORT" "$STRIPE_MOCK_DIR/stripe-mock.pid" || true
    [ "$want_mailpit" -eq 0 ] || mailpit_check || true
    [ "$want_pg" -eq 0 ] || postgres_up
    [ "$want_ferretdb" -eq 0 ] || { ferretdb_pg_setup; ferretdb_up; }
    [ "$want_redis" -eq 0 ] || redis_up
    [ "$want_stripe_mock" -eq 0 ] || stripe_mock_up
    [ "$want_mailpit" -eq 0 ] || mailpit_up
    echo "export MONGODB_URI=${MONGODB_URI:-mongodb://127.0.0.1:$FERRETDB_PORT/trade}"
    echo "export POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB}"
    echo "export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
    echo "export STRIPE_MOCK_URL=${STRIPE_MOCK_URL:-http://127.0.0.1:$STRIPE_MOCK_PORT}"
    echo "export MAILPIT_SMTP_URL=${MAILPIT_SMTP_URL:-smtp://127.0.0.1:$MAILPIT_SMTP_PORT}"
    echo "export MAILPIT_API_URL=${MAILPIT_API_URL:-http://127.0.0.1:$MAILPIT_HTTP_PORT}"
    ;;
  down)
    lock_checkout
    ferretdb_down; postgres_down; redis_down; stripe_mock_down; mailpit_down ;;
  status)
    resolve_pg_dir
    status_line FerretDB "$FERRETDB_PORT" "$FERRET_DIR/ferretdb.pid"
    status_line PostgreSQL "$POSTGRES_PORT" "$(pg_pid_file)"
    status_line Redis "$REDIS_PORT" "$REDIS_DIR/redis.pid"
    status_line stripe-mock "$STRIPE_MOCK_PORT" "$STRIPE_MOCK_DIR/stripe-mock.pid"
    status_line "Mailpit SMTP" "$MAILPIT_SMTP_PORT" "$MAILPIT_DIR/mailpit.pid"
    status_line "Mailpit HTTP" "$MAILPIT_HTTP_PORT" "$MAILPIT_DIR/mailpit.pid"
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
