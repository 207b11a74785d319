#!/usr/bin/env bash
# Makes sure Postgres (127.0.0.1:5432, user postgres, trust auth) and Redis
# (127.0.0.1:6379) are running for tests and `make run`: starts them if they
# are installed, installs them with apt-get when missing and we are root, and
# falls back to `docker compose up -d postgres redis` where Docker exists.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

say() { echo "services: $*" >&2; }

pg_ok() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -h "$PGHOST" -p "$PGPORT" -q
  else
    (exec 3<>"/dev/tcp/$PGHOST/$PGPORT") 2>/dev/null
  fi
}
redis_ok() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null
  fi
}
wait_for() { # name check
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  say "$1 did not come up"; return 1
}
have_docker() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }
apt_updated=0
apt_install() {
  is_root || return 1
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ $apt_updated = 0 ]; then apt-get update -qq >&2 && apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! have_docker; then
    say "Postgres is not installed; installing it with apt-get"
    apt_install postgresql postgresql-client || { say "cannot install Postgres (need root and apt-get). Install it, or set TEST_DATABASE_URL."; return 1; }
    trust_local_postgres
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    local ver
    ver=$(ls /etc/postgresql | sort -V | tail -n1)
    say "starting Postgres $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || true
  elif have_docker; then
    say "starting Postgres with docker compose"
    docker compose up -d postgres >&2
  fi
  wait_for postgres pg_ok
}

# A fresh Debian cluster asks for passwords on 127.0.0.1; the tests and
# `make run` connect as postgres without one, like the machines CI runs on.
trust_local_postgres() {
  local hba
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | head -n1) || return 0
  [ -n "$hba" ] || return 0
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
}

start_redis() {
  if ! command -v redis-server >/dev/null 2>&1 && ! have_docker; then
    say "Redis is not installed; installing it with apt-get"
    apt_install redis-server || { say "cannot install Redis (need root and apt-get). Install it, or set TEST_REDIS_URL."; return 1; }
  fi
  if command -v redis-server >/dev/null 2>&1; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >&2
  elif have_docker; then
    say "starting Redis with docker compose"
    docker compose up -d redis >&2
  fi
  wait_for redis redis_ok
}

# The console's browser tests (test/browser) drive Debian's Chromium found
# on PATH; chromedp downloads nothing. Without it they fail, saying so.
chromium_ok() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
    command -v google-chrome >/dev/null 2>&1 || command -v google-chrome-stable >/dev/null 2>&1
}
install_chromium() {
  say "Chromium is not installed; installing it with apt-get (for the console's browser tests)"
  apt_install chromium || say "cannot install Chromium (need root and apt-get): install it (apt-get install -y chromium) or the browser tests fail"
}

pg_ok || start_postgres
redis_ok || start_redis
# Tests that restart Redis or build a Redis Cluster start redis-server
# processes of their own and call redis-cli, even when the shared Redis
# runs in Docker.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  say "redis-server/redis-cli missing (tests start their own servers); installing them with apt-get"
  apt_install redis-server || say "cannot install redis-server; the Redis restart and Cluster tests will fail saying so"
fi
chromium_ok || install_chromium
say "Postgres ($PGHOST:$PGPORT) and Redis (127.0.0.1:$REDIS_PORT) are up"
