#!/usr/bin/env bash
# `make bench`: Go micro-benchmarks of the hot paths, then a load run on
# loopback against a freshly built server (its own database, its own
# redis-server, rate limiting ON with a budget too large to trip), in both
# modes (embedded: an SQLite file; multi-instance: Postgres + Redis). Per
# mode it prints first issue 14's goal table, measured with wrk (a light load
# generator: GET /health, JWT and API-key GET /api/v1/auth/me, with the Redis
# commands and Postgres transactions each request costs, read from the
# stores' own counters), then the Go generator's table of the other
# scenarios (login, refresh, key creations, workflows, executions) and a
# burst of 1,000 API key creations.
#
# Bounded: the Go benchmarks run at BENCH_BENCHTIME each, the wrk part is
# 3 runs × BENCH_DURATION per mode (plus, in the Postgres mode, an idle
# window and an 11 s wait before each Postgres count), the Go generator
# 10 scenarios × BENCH_DURATION plus set-up; each part is killed by `timeout`
# if it overruns (about 6½ minutes in all on 2 cores with the defaults,
# 5 without the Go benchmarks). ^C stops it at once.
# Everything it creates (server process, redis-server, database, log file,
# SQLite file, wrk scripts) is removed on exit, however it exits.
#
#   BENCH_DURATION=5s     time per load scenario (wrk: whole seconds)
#   BENCH_BENCHTIME=500ms time per Go benchmark
#   BENCH_SKIP_GO=1       skip the Go benchmarks (load runs only)
#   BENCH_ONLY="A,B"      run only these Go-generator scenarios (names as printed)
#   BENCH_DELIVERIES=250  1 MiB webhook deliveries seeded for the executions
#                         scenario (3 concurrent full pages; its peak RSS is the
#                         number to watch: a page holds at most 4 MiB of bodies)
#   BENCH_PORT=18080      first port to try (the next free one is used)
#   BENCH_PG=postgres://postgres@127.0.0.1:5432   Postgres server URL (no database)
#   BENCH_REDIS=host:port use this Redis instead of a private redis-server (its
#                         command counts then include every other client's)
#   BENCH_PROFILE=1       CPU profile of the JWT /me run: not available, the
#                         server exposes no pprof endpoint (the script says so)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-5s}
BENCHTIME=${BENCH_BENCHTIME:-500ms}
PGURL_BASE=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
DB=m9m_bench_$$
PREFIX="bench:$$:"
LOG=$(mktemp /tmp/m9m-bench.XXXXXX.log)
WRKDIR=$(mktemp -d /tmp/m9m-bench-wrk.XXXXXX) # 0700: the generated Lua scripts (credentials) live here
SQLITE_DIR=""
SPID=""
RPID=""
RDIR=""
DB_CREATED=""

die() { echo "bench: $*" >&2; exit 1; }
took() { echo "   ($1 took $((SECONDS - $2)) s)"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    kill -TERM "$SPID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
  fi
  if [ -n "$DB_CREATED" ]; then
    psql "$PGURL_BASE/postgres?sslmode=disable" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ -n "$RPID" ]; then
    kill -TERM "$RPID" 2>/dev/null || true
    wait "$RPID" 2>/dev/null || true
  elif [ -n "${REDIS_ADDR:-}" ]; then
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --scan --pattern "${PREFIX}*" 2>/dev/null \
      | xargs -r redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" DEL >/dev/null 2>&1 || true
  fi
  rm -rf "$LOG" "$WRKDIR" ${RDIR:+"$RDIR"} ${SQLITE_DIR:+"$SQLITE_DIR"}
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in go psql redis-cli curl timeout; do
  command -v "$tool" >/dev/null || die "$tool is not installed (make services installs Postgres and Redis)"
done
# wrk (Debian's package) drives the goal table's runs: installed when missing,
# as scripts/services.sh installs Postgres, Redis and Chromium.
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk is not installed; installing it with apt-get" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2 \
      || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; } || true
  fi
  command -v wrk >/dev/null 2>&1 || die "cannot install wrk (need root and apt-get): install it (apt-get install -y wrk)"
fi
psql "$PGURL_BASE/postgres?sslmode=disable" -qtAc 'SELECT 1' >/dev/null 2>&1 \
  || die "Postgres at ${PGURL_BASE#*@} is not reachable: run 'make services' or set BENCH_PG"

# bounded SECONDS CMD...: CMD under timeout(1), left in the foreground
# process group so that ^C reaches it (bin/loadgen then stops wrk, removes
# its scripts and dies of the signal); a command ended by SIGINT or SIGTERM
# ends the bench, whose EXIT trap cleans up. A timeout (124) does not.
bounded() {
  local secs=$1 rc=0
  shift
  timeout --foreground -k 10 "$secs" "$@" || rc=$?
  case $rc in 130 | 143) exit "$rc" ;; esac
  return "$rc"
}

# free_port N: the first port from N on that nothing listens on.
free_port() {
  local p=$1
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
    p=$((p + 1))
  done
  echo "$p"
}

# The multi-instance mode's Redis: a private redis-server (nothing persisted),
# so that INFO's command count is the bench server's alone; the shared one on
# 6379 counts the commands of everyone's tests too.
if [ -n "${BENCH_REDIS:-}" ]; then
  REDIS_ADDR=$BENCH_REDIS
  REDIS_NOTE="Redis $REDIS_ADDR (BENCH_REDIS: shared, so its command counts include other clients')"
else
  command -v redis-server >/dev/null || die "redis-server is not installed (make services installs it), or set BENCH_REDIS"
  RDIR=$(mktemp -d /tmp/m9m-bench-redis.XXXXXX)
  rport=$(free_port 16379)
  redis-server --bind 127.0.0.1 --port "$rport" --dir "$RDIR" --save '' --appendonly no \
    --daemonize no --logfile "$RDIR/redis.log" >/dev/null 2>&1 &
  RPID=$!
  REDIS_ADDR=127.0.0.1:$rport
  REDIS_NOTE="a private redis-server on $REDIS_ADDR (pid $RPID)"
fi
REDIS_HOST=${REDIS_ADDR%:*}
REDIS_PORT=${REDIS_ADDR##*:}
for _ in $(seq 1 50); do
  [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] \
  || die "Redis at $REDIS_ADDR is not reachable: run 'make services' or set BENCH_REDIS"

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "== machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM," \
  "$(go env GOVERSION) $(go env GOOS)/$(go env GOARCH), Linux $(uname -r)," \
  "$(redis-server --version 2>/dev/null | awk '{print $1, $3}' | tr -d 'v=')," \
  "PostgreSQL $(psql "$PGURL_BASE/postgres?sslmode=disable" -qtAc 'SHOW server_version' | cut -d' ' -f1)"
echo "== load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the load generator and the server share these cores)"
echo

if [ -z "${BENCH_SKIP_GO:-}" ]; then
  echo "== Go benchmarks (benchtime $BENCHTIME, -benchmem)"
  t=$SECONDS
  timeout 150 go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -count 1 -timeout 140s \
    ./adapter/jwt/ ./domain/apikey/ ./adapter/crypto/ ./usecase/authn/ ./adapter/http/ ./adapter/redis/ ./adapter/postgres/ ./adapter/sqlite/ 2>&1 \
    | grep -E '^(Benchmark|ok|FAIL|---|panic)' || echo "bench: the Go benchmarks failed or timed out (see above)" >&2
  # Rebuilding the Redis denylist from 100k revocations in Postgres: how long
  # JWT requests answer 503 after Redis lost its memory (issue 17), and
  # replaying the login throttle's known clients from 100k sessions after it.
  timeout 120 go test -run '^$' -bench 'RevocationRebuild100k|KnownClientReplay100k' -benchtime 3x -count 1 -timeout 110s ./test/e2e/ 2>&1 \
    | grep -E '^(Benchmark|ok|FAIL|---|panic)' || echo "bench: the rebuild benchmark failed or timed out (see above)" >&2
  took "Go benchmarks" "$t"
  echo
fi

t=$SECONDS
"${MAKE:-make}" -s build
go build -o bin/loadgen ./test/load
took "building bin/m9m and bin/loadgen" "$t"

port=$(free_port "${BENCH_PORT:-18080}")

psql "$PGURL_BASE/postgres?sslmode=disable" -qc "CREATE DATABASE $DB" >/dev/null
DB_CREATED=1

# The counters, checked against work of a known count before any server
# uses them: two INFO calls, one EVAL of 3 commands, 200 queries of a table on a
# connection kept open (as the server's pool keeps its own).
echo "== counter check ($REDIS_NOTE; Postgres database $DB, before the server starts)"
M9M_LOAD_PG_URL="$PGURL_BASE/postgres?sslmode=disable" bounded 60 bin/loadgen -count-check -redis "$REDIS_ADDR" -pg-db "$DB" \
  || echo "bench: the counter check failed: the per-request counts below are not to be trusted" >&2
echo

if [ -n "${BENCH_PROFILE:-}" ]; then
  echo "bench: BENCH_PROFILE: the server exposes no pprof endpoint (no /debug/pprof), so no CPU profile is taken;" \
    "profile the stack in process instead: go test -run '^\$' -bench Stack/log=warn/me -cpuprofile cpu.out ./adapter/http/" >&2
fi

ADMIN_PW="bench-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"

# The login throttle stays on (its Redis calls are part of login's cost)
# with limits too large to trip: it counts every attempt before judging it,
# so 32 concurrent logins of one user would otherwise be refused with 429.
# Secrets reach the server and the load generator through the environment,
# never argv (which every user of the machine can read in ps).
#
# The budget's slack is 5% of its burst (500,000 of 10,000,000): at this
# budget's rate (T = 1 µs) a slice is valid slack × T = 0.5 s, so leasing
# saves round trips; the default slack (5) would make slices valid for 5 µs,
# shorter than a Redis round trip (README: the slack).
#
# load_run MODE COUNTERS ENV...: start bin/m9m serve with ENV, run the wrk
# goal table (COUNTERS: loadgen flags naming the stores to count), then
# every other scenario and a burst of 1,000 API key creations, stop it.
load_run() {
  local mode=$1 counters=$2
  shift 2
  env -i PATH="$PATH" HOME="$HOME" \
    M9M_SERVER_HOST=127.0.0.1 M9M_SERVER_PORT="$port" \
    M9M_SECURITY_JWT_SECRET="$SECRET" \
    M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME=admin M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PW" \
    M9M_PERFORMANCE_RATE_LIMIT_ENABLED=true \
    M9M_PERFORMANCE_RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 M9M_PERFORMANCE_RATE_LIMIT_BURST=10000000 \
    M9M_PERFORMANCE_RATE_LIMIT_SLACK=500000 \
    M9M_SECURITY_LOGIN_THROTTLE_MAX_FAILURES_PER_USER=100000000 M9M_SECURITY_LOGIN_THROTTLE_MAX_FAILURES_PER_IP=100000000 \
    M9M_SECURITY_API_KEYS_MAX_PER_USER=10000 \
    M9M_LOG_LEVEL=warn \
    "$@" \
    bin/m9m serve >"$LOG" 2>&1 &
  SPID=$!

  t=$SECONDS
  started=""
  for _ in $(seq 1 150); do # 30 s: migrations on a busy machine
    if ! kill -0 "$SPID" 2>/dev/null; then
      echo "bench: the server exited during start-up; its log:" >&2
      tail -n 40 "$LOG" >&2
      exit 1
    fi
    if curl -fsS -m 1 "http://127.0.0.1:$port/health" >/dev/null 2>&1; then started=1; break; fi
    sleep 0.2
  done
  if [ -z "$started" ]; then
    echo "bench: the server did not answer /health on 127.0.0.1:$port within 30 s; its log:" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi

  took "server start-up" "$t"
  t=$SECONDS
  echo "== wrk, $mode: server pid $SPID on 127.0.0.1:$port, log level warn; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
  # shellcheck disable=SC2086 # $counters is a list of flags
  M9M_LOAD_PASSWORD="$ADMIN_PW" M9M_LOAD_PG_URL="$PGURL_BASE/postgres?sslmode=disable" bounded 330 \
    bin/loadgen -wrk -mode "$mode" -url "http://127.0.0.1:$port" -duration "$DURATION" -c 32 -wrk-threads 2 \
    -pid "$SPID" -user admin -max-time 300s -wrk-dir "$WRKDIR" $counters \
    || echo "bench: the $mode wrk run failed or reported errors" >&2
  took "wrk runs ($mode)" "$t"
  echo

  t=$SECONDS
  echo "== load (Go generator), $mode: the other scenarios, $DURATION each, 32 connections (login flood: 64);" \
    "load average now $(cut -d' ' -f1-3 /proc/loadavg)"
  M9M_LOAD_PASSWORD="$ADMIN_PW" bounded 240 bin/loadgen -url "http://127.0.0.1:$port" -duration "$DURATION" \
    -pid "$SPID" -user admin -max-time 220s -key-burst 1000 -skip "JWT GET /api/v1/auth/me,API key GET /api/v1/auth/me" \
    -deliveries "${BENCH_DELIVERIES:-250}" ${BENCH_ONLY:+-only "$BENCH_ONLY"} || echo "bench: the $mode load run reported errors" >&2
  took "load run ($mode)" "$t"
  if grep -q '"level":"error"' "$LOG"; then
    echo "bench: the server logged errors during the run:" >&2
    grep '"level":"error"' "$LOG" | head -n 5 >&2
  fi
  kill -TERM "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=""
  echo
}

# The embedded mode first: one process, one SQLite file, nothing on the
# network (what the hot path costs with no round trip at all).
SQLITE_DIR=$(mktemp -d /tmp/m9m-bench-sqlite.XXXXXX)
load_run "embedded (SQLite file, in-process revocations and budgets)" "" M9M_DATABASE_URL="sqlite:$SQLITE_DIR/m9m.db"
rm -rf "$SQLITE_DIR"
SQLITE_DIR=""

load_run "multi-instance (Postgres + Redis on loopback)" "-redis $REDIS_ADDR -pg-db $DB" \
  M9M_DATABASE_URL="$PGURL_BASE/$DB?sslmode=disable" \
  M9M_REDIS_URL="redis://$REDIS_ADDR/0" M9M_REDIS_KEY_PREFIX="$PREFIX"

echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
