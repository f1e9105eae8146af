#!/usr/bin/env bash
# earn.sh - Earn throughput of the service through gRPC, beside pgbench running a plain
# earn transaction (BEGIN; INSERT ledger row; UPDATE balance; COMMIT) on the same database
# at the same concurrency. Prints both and the ratio service/pgbench (target: >= 1.5).
#
#   bash bench/earn.sh [CONCURRENCY [SECONDS]]        defaults: 16 clients, 20 s each
#
# Environment:
#   BENCH_MEMBERS=1000         members the earns are spread over (both sides)
#   BENCH_BUILD_DIR=build-bench  Release build used (relative to the repository)
#   BENCH_DIR=/tmp/...         where the throwaway PostgreSQL cluster lives (default: mktemp)
#   BENCH_KEEP=1               keep BENCH_DIR (cluster data, loyaltyd.log) afterwards
#   LOYALTYD_ARGS="..."        extra loyaltyd flags (e.g. "--earn-batch 1 --pool-size 16")
#   PGBENCH_ARGS="..."         extra pgbench flags (e.g. "-M prepared")
#   PG_FSYNC=on                fsync of the cluster (db/pgcluster.sh); keep it on to measure
#                              durable commits
#
# Needs the packages of .ci/install-deps.sh (postgresql-contrib for pgbench). Runs as root
# (PostgreSQL then runs as the postgres user) or as any user. Everything it starts is stopped
# on exit, also on Ctrl-C or failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
concurrency=${1:-16}
duration=${2:-20}
members=${BENCH_MEMBERS:-1000}
build=${BENCH_BUILD_DIR:-build-bench}
case $build in /*) ;; *) build=$root/$build ;; esac

die() { echo "earn.sh: $*" >&2; exit 1; }
# From / so that commands run as the postgres user do not complain about our working directory.
pgcluster() { (cd / && "$root/db/pgcluster.sh" "$@"); }
[[ $concurrency =~ ^[1-9][0-9]*$ ]] || die "CONCURRENCY must be a positive integer"
[[ $duration =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive integer"
[[ $members =~ ^[1-9][0-9]*$ ]] || die "BENCH_MEMBERS must be a positive integer"

pgbin=
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pgbench" ] && pgbin=$d; done
[ -n "$pgbin" ] || die "pgbench not found (apt-get install postgresql-contrib)"

echo "== build (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target loyaltyd loyaltyctl loyalty-loadgen >/dev/null
loyaltyd=$build/server/loyaltyd
ctl=$build/client/loyaltyctl
loadgen=$build/bench/loyalty-loadgen

work=${BENCH_DIR:-$(mktemp -d /tmp/loyalty-bench.XXXXXX)}
mkdir -p "$work"
chmod 755 "$work"  # the postgres user (when we are root) must reach the cluster inside
daemon_pid=

cleanup() {
  local rc=$?
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  pgcluster stop "$work/pg" || true
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    echo "earn.sh: kept $work (loyaltyd.log, pg/server.log)" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== PostgreSQL in $work/pg (fsync=${PG_FSYNC:-on})"
conninfo=$(pgcluster start "$work/pg")
hq_key=$("$loyaltyd" --db "$conninfo" --init-hq-key bench --log-level warn)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=127.0.0.1:$port
# shellcheck disable=SC2086  # LOYALTYD_ARGS is a list of flags
"$loyaltyd" --db "$conninfo" --listen "$server" --log-level warn ${LOYALTYD_ARGS:-} \
  >"$work/loyaltyd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
  "$ctl" --server "$server" health >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/loyaltyd.log" >&2; die "loyaltyd exited"; }
  sleep 0.1
done
"$ctl" --server "$server" health >/dev/null || die "loyaltyd does not answer on $server"

# Machine-wide CPU use between two snapshots of /proc/stat: "busy%" (user+system+irq+steal).
cpu_snapshot() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
cpu_busy() {  # BEFORE_SNAPSHOT
  local b0 t0 b1 t1
  read -r b0 t0 <<<"$1"
  read -r b1 t1 < <(cpu_snapshot)
  echo $(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
}

export LOYALTY_SERVER=$server
LOYALTY_KEY=$hq_key "$ctl" store add BENCH01 --name "Bench store" --channel pos >/dev/null
store_key=$(LOYALTY_KEY=$hq_key "$ctl" --json key issue BENCH01 2>/dev/null |
  sed -n 's/.*"secret":"\([^"]*\)".*/\1/p')
[ -n "$store_key" ] || die "could not issue a store key"

echo "== service: loyalty-loadgen, $concurrency clients, $duration s, $members members"
before=$(cpu_snapshot)
"$loadgen" --server "$server" --key "$store_key" --concurrency "$concurrency" \
  --duration "$duration" --members "$members" | tee "$work/loadgen.out"
service_rate=$(sed -n 's/^RESULT .* rate=\([0-9.]*\) .*/\1/p' "$work/loadgen.out")
[ -n "$service_rate" ] || die "no result from loyalty-loadgen"
echo "machine cpu busy (enrolment included): $(cpu_busy "$before")% of $(nproc) cores"
daemon_ms=$(awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' \
  "/proc/$daemon_pid/stat")
echo "loyaltyd cpu (ms, user+sys, enrolment included): $daemon_ms"
kill -TERM "$daemon_pid"
wait "$daemon_pid" || die "loyaltyd did not exit cleanly (see $work/loyaltyd.log)"
daemon_pid=

echo "== pgbench: $concurrency clients, $duration s, $members members, bench/pgbench_earn.sql"
"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -v members="$members" "$conninfo" <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_ledger, bench_balance;
CREATE TABLE bench_ledger (
  txn_id       bigserial PRIMARY KEY,
  member_id    bigint NOT NULL,
  kind         text NOT NULL,
  points       bigint NOT NULL,
  amount_cents bigint NOT NULL,
  order_id     text NOT NULL,
  request_id   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bench_ledger_member ON bench_ledger (member_id, txn_id);
CREATE TABLE bench_balance (
  member_id            bigint PRIMARY KEY,
  balance              bigint NOT NULL DEFAULT 0,
  lifetime_spend_cents bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 80);
INSERT INTO bench_balance (member_id) SELECT generate_series(1, :members);
VACUUM ANALYZE bench_balance;
SQL
before=$(cpu_snapshot)
# shellcheck disable=SC2086  # PGBENCH_ARGS is a list of flags
"$pgbin/pgbench" -n -c "$concurrency" -j 2 -T "$duration" -D members="$members" \
  ${PGBENCH_ARGS:-} -f "$root/bench/pgbench_earn.sql" "$conninfo" 2>&1 | tee "$work/pgbench.out"
echo "machine cpu busy: $(cpu_busy "$before")% of $(nproc) cores"
pgbench_rate=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/pgbench.out")
[ -n "$pgbench_rate" ] || die "no result from pgbench"
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")
[ "${failed:-0}" = 0 ] || die "pgbench had $failed failed transactions"

echo "== result ($concurrency clients, $duration s, $members members, $(nproc) cores)"
awk -v s="$service_rate" -v p="$pgbench_rate" 'BEGIN {
  printf "service (gRPC Earn)       %10.1f earns/s\n", s
  printf "pgbench (plain earn txn)  %10.1f txn/s\n", p
  printf "ratio service/pgbench     %10.2f  (target >= 1.50)\n", s / p
}'
