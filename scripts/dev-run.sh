#!/usr/bin/env bash
# `make run`: serve on a fresh clone with nothing configured and no service
# running: the embedded mode, everything in one SQLite file (.dev/m9m.db),
# a development JWT secret and a bootstrap admin password generated once
# into .dev/ (ignored by git). Any M9M_* variable you set wins, e.g.
# M9M_SERVER_PORT=8099 make run; with M9M_DATABASE_URL=postgres://... (and
# M9M_REDIS_URL) it serves the multi-instance mode on your Postgres and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .dev
chmod 700 .dev

if [ ! -s .dev/jwt_secret ]; then
  head -c 48 /dev/urandom | base64 | tr -d '\n' > .dev/jwt_secret
  chmod 600 .dev/jwt_secret
fi
new_password=0
if [ ! -s .dev/admin_password ]; then
  head -c 18 /dev/urandom | base64 | tr -d '\n/+=' > .dev/admin_password
  chmod 600 .dev/admin_password
  new_password=1
fi

cat >&2 <<'WARN'
################################################################################
#  DEVELOPMENT MODE: using a generated JWT secret from .dev/jwt_secret.        #
#  Never use it in production: set security.jwt.secret (or _file) yourself.   #
################################################################################
WARN

if [ -z "${M9M_DATABASE_URL:-}" ] && [ -z "${M9M_DATABASE_URL_FILE:-}" ]; then
  export M9M_DATABASE_URL="sqlite:$PWD/.dev/m9m.db"
  echo "embedded mode: everything in $PWD/.dev/m9m.db (no Postgres, no Redis)" >&2
fi

if [ -z "${M9M_SECURITY_JWT_SECRET:-}" ]; then
  export M9M_SECURITY_JWT_SECRET_FILE="${M9M_SECURITY_JWT_SECRET_FILE:-$PWD/.dev/jwt_secret}"
fi
export M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME="${M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME:-admin}"
if [ -z "${M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD:-}" ]; then
  export M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD_FILE="${M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD_FILE:-$PWD/.dev/admin_password}"
  if [ "$new_password" = 1 ]; then
    echo "bootstrap admin: username '$M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME', password '$(cat .dev/admin_password)' (shown once; kept in .dev/admin_password)" >&2
  else
    echo "bootstrap admin password: see .dev/admin_password (only used while the database has no users)" >&2
  fi
fi
export M9M_LOG_FORMAT="${M9M_LOG_FORMAT:-console}"

exec bin/m9m serve ${CONFIG:+--config "$CONFIG"}
