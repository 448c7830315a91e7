#!/usr/bin/env bash
# A throwaway PostgreSQL for the store's tests: Debian's `postgresql` (installed with apt
# when no initdb is found under /usr/lib/postgresql/*/bin), a cluster under target/pg,
# listening on a Unix socket in that folder and on 127.0.0.1 (a free port, kept across
# runs), trust authentication (a test cluster: nothing but this machine can reach it),
# and a database `microvet`.
#
#   scripts/postgres.sh        start (or find running) and print its postgres:// URL
#   scripts/postgres.sh stop   stop it (the cluster's files stay for the next start)
#
# Idempotent. Only the URL goes to stdout; progress goes to stderr. Run as root, the
# server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pgdir="$root/target/pg"
data="$pgdir/data"
portfile="$pgdir/port"
superuser=microvet
database=microvet

say() { printf 'postgres.sh: %s\n' "$*" >&2; }

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local p tries=0
  while [ "$tries" -lt 200 ]; do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
    tries=$((tries + 1))
  done
  say "no free port found on 127.0.0.1"
  return 1
}

bin=$(find_bin || true)

if [ "${1:-}" = stop ]; then
  if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 || true
  fi
  exit 0
fi
if [ -n "${1:-}" ]; then
  say "unknown argument \`$1\` (expected nothing or \`stop\`)"
  exit 2
fi

if [ -z "$bin" ]; then
  say "installing Debian's postgresql (apt)"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  bin=$(find_bin) || { say "initdb not found under /usr/lib/postgresql/*/bin after installing"; exit 1; }
fi

if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
fi

mkdir -p "$pgdir"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$pgdir"
  chmod 0700 "$pgdir"
  # The postgres user must reach target/pg through the folders above it.
  d="$pgdir"
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    if ! runuser -u postgres -- test -x "$d"; then
      say "the postgres user cannot enter $d (make it world-searchable: chmod o+x)"
      exit 1
    fi
  done
fi

if [ ! -f "$data/PG_VERSION" ]; then
  say "initdb $data"
  as_owner "$bin/initdb" -D "$data" -U "$superuser" --auth=trust --encoding=UTF8 \
    --locale=C >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2; exit 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$pgdir'"
    echo "fsync = off"
    echo "max_connections = 200"
  } >>"$data/postgresql.conf"
fi

if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  port=$(cat "$portfile" 2>/dev/null || true)
  if [ -z "$port" ] || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    port=$(free_port)
  fi
  echo "$port" >"$portfile"
  say "starting on 127.0.0.1:$port and $pgdir/.s.PGSQL.$port"
  as_owner "$bin/pg_ctl" -D "$data" -l "$pgdir/server.log" -w -t 60 -o "-p $port" start >&2 \
    || { tail -n 30 "$pgdir/server.log" >&2; exit 1; }
fi
port=$(cat "$portfile")

exists=$(as_owner "$bin/psql" -h "$pgdir" -p "$port" -U "$superuser" -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$database'")
if [ "$exists" != 1 ]; then
  as_owner "$bin/createdb" -h "$pgdir" -p "$port" -U "$superuser" "$database"
fi

echo "postgres://$superuser@127.0.0.1:$port/$database"
