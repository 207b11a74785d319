#!/usr/bin/env bash
# `make run`: serve on a fresh clone with nothing configured. Uses the local
# Postgres (database m9m, created if missing) and Redis, a development JWT
# secret, webhook encryption key and admin password generated once into
# .dev/ (ignored by git). Any M9M_* variable you set wins, e.g.
# M9M_SERVER_PORT=8099 make run.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .dev
chmod 700 .dev

if [ ! -s .dev/jwt_secret ]; then
  head -c 48 /dev/urandom | base64 | tr -d '\n' > .dev/jwt_secret
  chmod 600 .dev/jwt_secret
fi
if [ ! -s .dev/webhook_encryption_key ]; then
  head -c 48 /dev/urandom | base64 | tr -d '\n' > .dev/webhook_encryption_key
  chmod 600 .dev/webhook_encryption_key
fi
if [ ! -s .dev/admin_password ]; then
  head -c 18 /dev/urandom | base64 | tr -d '\n/+=' > .dev/admin_password
  chmod 600 .dev/admin_password
fi

cat >&2 <<'WARN'
################################################################################
#  DEVELOPMENT MODE: using a generated JWT secret and webhook encryption key  #
#  from .dev/. Never use them in production: set security.jwt.secret and      #
#  security.webhook_encryption_key (or their _file keys) yourself.            #
################################################################################
WARN

if [ -z "${M9M_DATABASE_URL:-}" ] && [ -z "${M9M_DATABASE_URL_FILE:-}" ]; then
  if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='m9m'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE m9m" >&2
  fi
fi

if [ -z "${M9M_SECURITY_JWT_SECRET:-}" ]; then
  export M9M_SECURITY_JWT_SECRET_FILE="${M9M_SECURITY_JWT_SECRET_FILE:-$PWD/.dev/jwt_secret}"
fi
if [ -z "${M9M_SECURITY_WEBHOOK_ENCRYPTION_KEY:-}" ]; then
  export M9M_SECURITY_WEBHOOK_ENCRYPTION_KEY_FILE="${M9M_SECURITY_WEBHOOK_ENCRYPTION_KEY_FILE:-$PWD/.dev/webhook_encryption_key}"
fi
# The development admin is created here, before serving, so that the
# password shown is one that works: when the database already has this
# admin (another clone, or .dev/ removed), its password is whatever was set
# then, and none is shown. Set M9M_SECURITY_BOOTSTRAP_ADMIN_* to use the
# server's bootstrap instead.
if [ -z "${M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD:-}${M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD_FILE:-}" ]; then
  admin_user="${DEV_ADMIN_USERNAME:-admin}"
  if out=$(bin/m9m user create ${CONFIG:+--config "$CONFIG"} --username "$admin_user" --role admin --password-stdin < .dev/admin_password 2>&1); then
    echo "development admin created: username '$admin_user', password '$(cat .dev/admin_password)' (kept in .dev/admin_password)" >&2
  elif grep -q "already taken" <<<"$out"; then
    cat >&2 <<EXISTS
development admin '$admin_user' already exists in this database, so no password is shown: it keeps the
password it was created with (.dev/admin_password only if this clone created it). To get an admin you
can log in as: bin/m9m user create --username NAME --role admin --password-stdin, then set the old
admin's password with PATCH /api/v1/users/{id} {"password": "..."}; or start over with an empty database.
EXISTS
  else
    echo "$out" >&2
    exit 1
  fi
fi
export M9M_LOG_FORMAT="${M9M_LOG_FORMAT:-console}"

exec bin/m9m serve ${CONFIG:+--config "$CONFIG"}
