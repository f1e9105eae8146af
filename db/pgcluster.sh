#!/usr/bin/env bash
# pgcluster.sh - a throwaway PostgreSQL cluster for development, tests and benchmarks.
#
#   db/pgcluster.sh start DIR [PORT]   create (first time) and start a cluster in DIR;
#                                      prints its libpq conninfo on stdout
#   db/pgcluster.sh stop DIR           stop it (fast shutdown)
#   db/pgcluster.sh restart DIR        stop then start again, same port
#   db/pgcluster.sh conninfo DIR       print the conninfo of a cluster made here
#   db/pgcluster.sh destroy DIR        stop it and delete its files
#
# The cluster listens on 127.0.0.1:PORT (default: a free port) and on a Unix socket in its
# data home, trusts local connections, and has one database "loyalty". PostgreSQL refuses to
# run as root, so as root the cluster runs as the "postgres" system user; when that user
# cannot reach DIR (a checkout under /root, say), the data home is a directory under /tmp
# named in DIR/home. Either way DIR keeps the cluster's coordinates (home, port, user).
set -euo pipefail

die() { echo "pgcluster: $*" >&2; exit 1; }

pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  die "PostgreSQL server binaries not found (apt-get install postgresql)"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  /usr/bin/python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
PY
}

# Where the cluster's files and socket are: DIR itself, or what DIR/home names.
home_of() { if [ -f "$1/home" ]; then cat "$1/home"; else echo "$1"; fi; }

conninfo() { echo "host=$(home_of "$1") port=$(cat "$1/port") dbname=loyalty user=$(cat "$1/user")"; }

start() {
  local dir=$1 port=${2:-} bin home
  bin=$(pg_bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  home=$dir
  if [ "$(id -u)" = 0 ]; then
    if [ -f "$dir/home" ]; then
      home=$(cat "$dir/home")
    elif ! runuser -u postgres -- test -w "$dir" 2>/dev/null && ! { chown postgres: "$dir" &&
         runuser -u postgres -- test -w "$dir"; } 2>/dev/null; then
      home=$(mktemp -d /tmp/loyalty-pg.XXXXXX)
      echo "$home" >"$dir/home"
    fi
    chown postgres: "$home"
  fi
  if [ ! -f "$home/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$home/data" -U loyalty --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    echo loyalty >"$dir/user"
  fi
  [ -n "$port" ] || port=$( [ -f "$dir/port" ] && cat "$dir/port" || free_port )
  echo "$port" >"$dir/port"
  as_owner "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 \
    -o "-p $port -k $home -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${PG_FSYNC:-on}" \
    start >/dev/null || { tail -20 "$home/server.log" >&2; die "pg_ctl start failed"; }
  as_owner "$bin/psql" -h "$home" -p "$port" -U loyalty -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='loyalty'" | grep -q 1 \
    || as_owner "$bin/createdb" -h "$home" -p "$port" -U loyalty loyalty
  conninfo "$dir"
}

stop() {
  local dir=$1 home
  home=$(home_of "$dir")
  [ -f "$home/data/postmaster.pid" ] || return 0
  as_owner "$(pg_bindir)/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null
}

case "${1:-}" in
  start)    [ $# -ge 2 ] || die "usage: $0 start DIR [PORT]"; start "$2" "${3:-}" ;;
  stop)     [ $# -ge 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  restart)  [ $# -ge 2 ] || die "usage: $0 restart DIR"; stop "$2"; start "$2" >/dev/null ;;
  conninfo) [ $# -ge 2 ] || die "usage: $0 conninfo DIR"; conninfo "$(cd "$2" && pwd)" ;;
  destroy)  [ $# -ge 2 ] || die "usage: $0 destroy DIR"
            [ -d "$2" ] || exit 0
            stop "$2"; home=$(home_of "$2"); rm -rf "$home" "$2" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
