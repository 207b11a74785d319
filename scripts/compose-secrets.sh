#!/usr/bin/env bash
# Creates the secret files docker-compose.yml mounts (./secrets/*), each
# random, unless it exists already: running it again changes nothing.
# Files are 0644 so the app's non-root user (uid 10001) can read the
# bind-mounted copy; the directory is git- and docker-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p secrets
make_secret() { # name, openssl rand arguments
  local f="secrets/$1"
  shift
  if [[ -e "$f" ]]; then
    echo "kept    $f"
    return
  fi
  (umask 022 && openssl rand "$@" | tr -d '\n' >"$f")
  echo "created $f"
}
# Put inside no URL, but kept URL-safe anyway.
make_secret postgres_password -hex 24
make_secret jwt_secret -base64 48
# Needed only while the database has no user: once the admin exists the file
# may be emptied (: > secrets/bootstrap_admin_password).
make_secret bootstrap_admin_password -base64 24
# Seals hmac webhook secrets; rotating it means resealing them (README).
make_secret webhook_encryption_key -base64 48
echo "bootstrap admin password: secrets/bootstrap_admin_password" >&2
