#!/usr/bin/env bash
# `make bench`: Go micro-benchmarks of the hot paths, then a load run on
# loopback against a freshly built server (own database and Redis prefix,
# rate limiting ON with a budget too large to trip), printing one table.
# Bounded: BENCH_DURATION per scenario (default 5s) × 7 scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-5s}
BENCHTIME=${BENCH_BENCHTIME:-1s}
PORT=${BENCH_PORT:-18080}
DB=m9m_bench_$$
PREFIX="bench:$$:"
PGURL_BASE=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
ADMIN_PW="bench-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), $(uname -m)"
echo
echo "== Go benchmarks (benchtime $BENCHTIME)"
go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -count 1 \
  ./adapter/jwt/ ./domain/apikey/ ./adapter/crypto/ ./adapter/http/ ./adapter/redis/ ./usecase/... 2>&1 \
  | grep -E '^(Benchmark|ok|FAIL|---)' || true
echo

go build -o bin/loadgen ./test/load
psql "$PGURL_BASE/postgres?sslmode=disable" -qc "CREATE DATABASE $DB" >/dev/null

cleanup() {
  [ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null || true
  psql "$PGURL_BASE/postgres?sslmode=disable" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 --scan --pattern "${PREFIX}*" 2>/dev/null | xargs -r redis-cli -h 127.0.0.1 DEL >/dev/null 2>&1 || true
}
trap cleanup EXIT

env -i PATH="$PATH" HOME="$HOME" \
  M9M_SERVER_HOST=127.0.0.1 M9M_SERVER_PORT="$PORT" \
  M9M_DATABASE_URL="$PGURL_BASE/$DB?sslmode=disable" \
  M9M_REDIS_URL=redis://127.0.0.1:6379/0 M9M_REDIS_KEY_PREFIX="$PREFIX" \
  M9M_SECURITY_JWT_SECRET="$SECRET" \
  M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME=admin M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PW" \
  M9M_PERFORMANCE_RATE_LIMIT_ENABLED=true \
  M9M_PERFORMANCE_RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 M9M_PERFORMANCE_RATE_LIMIT_BURST=10000000 \
  M9M_LOG_LEVEL=warn \
  bin/m9m serve > "/tmp/m9m-bench-$$.log" 2>&1 &
SPID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null || { echo "server did not start:"; cat "/tmp/m9m-bench-$$.log"; exit 1; }

echo "== load: $DURATION per scenario, 32 connections (login flood: 64), server and load generator share the cores"
bin/loadgen -url "http://127.0.0.1:$PORT" -duration "$DURATION" -pid "$SPID" -user admin -password "$ADMIN_PW"
rm -f "/tmp/m9m-bench-$$.log"
