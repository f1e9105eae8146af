#!/usr/bin/env bash
# run-local.sh - build and run the loyalty service locally, with a demo, in one command.
#
#   bash server/run-local.sh [LOYALTYD FLAGS...]     e.g. --threads 8 --log-level debug
#
# On a fresh Debian 12 machine, as root or as a user with sudo:
#   1. installs the Debian packages (.ci/install-deps.sh; only what is missing),
#   2. builds everything into build/ (CMake),
#   3. starts a local PostgreSQL cluster in .local/pg (db/pgcluster.sh; kept across runs),
#   4. on the first run: creates an HQ key (.local/hq.key, mode 600) and a demo (two stores,
#      a store key in .local/store-SH001.key, a member with a purchase),
#   5. prints how to call it with loyaltyctl, then runs loyaltyd in the foreground on
#      $LOYALTY_LISTEN (default 127.0.0.1:50051). Ctrl-C stops it, then PostgreSQL.
#
# Extra arguments go to loyaltyd (see build/server/loyaltyd --help); set the address with
# LOYALTY_LISTEN rather than --listen so that the printed instructions match.
# Start afresh: rm -rf .local (as root, when the cluster is elsewhere: see .local/pgdir).
set -euo pipefail

case "${1:-}" in -h|--help) sed -n '2,18p' "$0"; exit 0 ;; esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
local_dir=$root/.local
build=$root/build
listen=${LOYALTY_LISTEN:-127.0.0.1:50051}
say() { printf '\n== %s\n' "$*"; }
# From / so that commands run as the postgres user do not complain about our working directory.
pgcluster() { (cd / && "$root/db/pgcluster.sh" "$@"); }
die() { echo "run-local: $*" >&2; exit 1; }

say "dependencies (.ci/install-deps.sh)"
bash "$root/.ci/install-deps.sh"

say "build ($build)"
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)"
loyaltyd=$build/server/loyaltyd
ctl=$build/client/loyaltyctl

mkdir -p "$local_dir"
chmod 755 "$local_dir"
# As root, PostgreSQL runs as the postgres user, which must reach its data directory. When
# the repository is somewhere it cannot (e.g. under /root), the cluster goes to that user's
# home, /var/lib/postgresql, which survives reboots (unlike /tmp).
pgdir=$local_dir/pg
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$local_dir"; then
  pgdir=/var/lib/postgresql/loyalty-local-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
fi
echo "$pgdir" >"$local_dir/pgdir"

say "PostgreSQL ($pgdir)"
pghome=$pgdir  # where db/pgcluster.sh keeps the data: $pgdir, or what $pgdir/home names
if [ -f "$pgdir/home" ]; then
  pghome=$(cat "$pgdir/home")
  [ -d "$pghome" ] || rm -f "$pgdir/home"  # gone (a /tmp cleared at boot): start afresh
fi
if [ ! -f "$pghome/data/PG_VERSION" ]; then
  # A new cluster: keys and demo of an earlier one are meaningless.
  rm -f "$local_dir/hq.key" "$local_dir"/store-*.key "$local_dir/demo.done"
fi
pg_started=false
demo_pid=
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [ -n "$demo_pid" ]; then
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  if [ "$pg_started" = true ]; then
    echo "run-local: stopping PostgreSQL" >&2
    pgcluster stop "$pgdir" || true
  fi
}
trap cleanup EXIT
if [ -f "$pgdir/port" ] && pgcluster conninfo "$pgdir" >/dev/null 2>&1 &&
   psql -X -q -d "$(pgcluster conninfo "$pgdir")" -c 'SELECT 1' >/dev/null 2>&1; then
  conninfo=$(pgcluster conninfo "$pgdir")
  echo "already running (left running on exit)"
else
  conninfo=$(pgcluster start "$pgdir")
  pg_started=true
fi
echo "$conninfo"

"$loyaltyd" --db "$conninfo" --migrate-only --log-level warn ||
  die "the database in .local/pg cannot take this loyaltyd's code (above why); rm -rf .local starts afresh"

if [ ! -s "$local_dir/hq.key" ]; then
  say "HQ key (.local/hq.key)"
  (umask 077 && "$loyaltyd" --db "$conninfo" --init-hq-key hq >"$local_dir/hq.key.new")
  mv "$local_dir/hq.key.new" "$local_dir/hq.key"
fi
hq_key=$(cat "$local_dir/hq.key")

if [ ! -f "$local_dir/demo.done" ]; then
  say "demo data (first run)"
  "$loyaltyd" --db "$conninfo" --listen "$listen" --log-level warn "$@" &
  demo_pid=$!
  for _ in $(seq 50); do
    "$ctl" --server "$listen" health >/dev/null 2>&1 && break
    kill -0 "$demo_pid" 2>/dev/null || die "loyaltyd did not start (is $listen in use?)"
    sleep 0.2
  done
  export LOYALTY_SERVER=$listen
  LOYALTY_KEY=$hq_key "$ctl" store add SH001 --name 'Shanghai Nanjing Rd' --channel pos \
    --region SH >/dev/null
  LOYALTY_KEY=$hq_key "$ctl" store add TMALL01 --name 'Tmall flagship' --channel tmall \
    >/dev/null
  store_key=$(LOYALTY_KEY=$hq_key "$ctl" --json key issue SH001 2>/dev/null |
    sed -n 's/.*"secret":"\([^"]*\)".*/\1/p')
  [ -n "$store_key" ] || die "could not issue the demo store key"
  (umask 077 && echo "$store_key" >"$local_dir/store-SH001.key")
  member_id=$(LOYALTY_KEY=$store_key "$ctl" --json member enroll --phone 13800138000 \
    --name 'Li Hong' --birthday 1990-03-05 --identity pos_card:C0001 \
    --request-id demo-enroll-1 | sed -n 's/.*"member_id":\([0-9]*\).*/\1/p')
  [ -n "$member_id" ] || die "could not enroll the demo member"
  LOYALTY_KEY=$store_key "$ctl" points earn "$member_id" 1299.00 --order POS-0001 \
    --request-id demo-earn-1
  kill -TERM "$demo_pid"
  wait "$demo_pid" || true
  demo_pid=
  echo "$member_id" >"$local_dir/demo.done"
fi
member_id=$(cat "$local_dir/demo.done")

cat <<EOF

== ready. In another shell:
  export LOYALTY_SERVER=$listen
  export LOYALTY_KEY=\$(cat $local_dir/hq.key)      # HQ key (a store key: .local/store-SH001.key)
  export PATH=$build/client:\$PATH
  loyaltyctl store list
  loyaltyctl member show --phone 13800138000
  loyaltyctl points balance $member_id
  loyaltyctl points earn $member_id 88.50 --order POS-0002 --store SH001
  loyaltyctl points redeem $member_id 100 --store SH001
  loyaltyctl points history $member_id
  loyaltyctl --help

== loyaltyd on $listen (Ctrl-C to stop)
EOF
# Ctrl-C reaches loyaltyd, which stops gracefully; the script then goes on to stop PostgreSQL.
trap ':' INT
"$loyaltyd" --db "$conninfo" --listen "$listen" "$@" || rc=$?
exit "${rc:-0}"
