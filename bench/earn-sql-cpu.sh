#!/usr/bin/env bash
# earn-sql-cpu.sh - PostgreSQL's CPU time per earn of the service's earn write
# (loyalty_earn_batch, 64 members a call, as group commit sends it), beside its CPU time per
# transaction of the plain earn of bench/pgbench_earn.sql, each on one backend of the same
# database, read from /proc (user + system). For changes to db/functions: it leaves out gRPC
# and the load generator, and reads CPU time rather than wall time, so that a busy machine
# moves it less than bench/earn.sh.
#
#   bash bench/earn-sql-cpu.sh [BATCHES [ROUNDS]]   defaults: 60 batches of 64, 3 rounds
#
# Environment: BENCH_BUILD_DIR (default build-bench: the loyaltyd whose database code is
# measured), BENCH_DIR (default: mktemp), BENCH_KEEP=1 keeps it, BENCH_OCCURRED_AGO (e.g.
# '10 minutes'; default none: the earns happen now) dates every earn that long ago, after the
# program's last change, as tills that always send occurred_at do. Runs as root or any user.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
batches=${1:-60}
rounds=${2:-3}
build=${BENCH_BUILD_DIR:-build-bench}
case $build in /*) ;; *) build=$root/$build ;; esac
die() { echo "earn-sql-cpu.sh: $*" >&2; exit 1; }
pgcluster() { (cd / && "$root/db/pgcluster.sh" "$@"); }
[[ $batches =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || die "BATCHES and ROUNDS are counts"
occurred=""
if [ -n "${BENCH_OCCURRED_AGO:-}" ]; then
  [[ $BENCH_OCCURRED_AGO =~ ^[0-9]+\ (seconds|minutes|hours)$ ]] || die "BENCH_OCCURRED_AGO: N seconds|minutes|hours"
  occurred=", array_fill(now() - interval '$BENCH_OCCURRED_AGO', ARRAY[64])"
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target loyaltyd >/dev/null
psql=$(ls /usr/lib/postgresql/*/bin/psql | tail -1)

work=${BENCH_DIR:-$(mktemp -d /tmp/loyalty-sqlcpu.XXXXXX)}
mkdir -p "$work" && chmod 755 "$work"
cleanup() {
  local rc=$?
  pgcluster stop "$work/pg" || true
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

conninfo=$(pgcluster start "$work/pg")
"$build/server/loyaltyd" --db "$conninfo" --migrate-only --log-level warn
"$psql" -X -q -v ON_ERROR_STOP=1 "$conninfo" <<'SQL'
INSERT INTO stores (store_code, name, channel) VALUES ('BENCH01', 'bench', 1);
INSERT INTO members (phone, name) SELECT '139' || lpad(g::text, 8, '0'), 'm' FROM generate_series(1, 2000) g;
CREATE TABLE bench_ledger (txn_id bigserial PRIMARY KEY, member_id bigint NOT NULL,
  kind text NOT NULL, points bigint NOT NULL, amount_cents bigint NOT NULL,
  order_id text NOT NULL, request_id text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX bench_ledger_member ON bench_ledger (member_id, txn_id);
CREATE TABLE bench_balance (member_id bigint PRIMARY KEY, balance bigint NOT NULL DEFAULT 0,
  lifetime_spend_cents bigint NOT NULL DEFAULT 0) WITH (fillfactor = 80);
INSERT INTO bench_balance (member_id) SELECT generate_series(1, 2000);
VACUUM ANALYZE;
SQL

hz=$(getconf CLK_TCK)
# CPU microseconds that one backend spends on the statements of file $1, per unit of $2.
measure() {
  local script=$work/run.sql pid before after
  { echo '\set ON_ERROR_STOP 1'; echo '\o '"$work/pid"; echo 'SELECT pg_backend_pid();'
    echo '\o'; echo 'SELECT pg_sleep(0.5);'; cat "$1"; echo 'SELECT pg_sleep(0.5);'; } >"$script"
  rm -f "$work/pid"
  "$psql" -X -q -At "$conninfo" -f "$script" >"$work/out" 2>&1 &
  local client=$!
  for _ in $(seq 50); do [ -s "$work/pid" ] && break; sleep 0.05; done
  pid=$(tr -dc 0-9 <"$work/pid")
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  after=$before
  while kill -0 "$client" 2>/dev/null; do
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo "$after")
    sleep 0.1
  done
  wait "$client" || { cat "$work/out" >&2; die "psql failed"; }
  echo $(( (after - before) * 1000000 / hz / $2 ))
}

n=$((batches * 64))
# Round 0 warms the caches and the backend's plans up; it is not reported.
for round in $(seq 0 "$rounds"); do
  # The service: batches of 64 distinct members, new requests and orders.
  for b in $(seq "$batches"); do
    tag=r$round-b$b-$RANDOM$RANDOM
    echo "SELECT count(*) FROM loyalty_earn_batch(array_fill('bench'::text, ARRAY[64]),
      array_fill('BENCH01'::text, ARRAY[64]), ARRAY(SELECT '$tag-' || g FROM generate_series(1, 64) g),
      array_fill('\\x01'::bytea, ARRAY[64]),
      ARRAY(SELECT member_id FROM members ORDER BY random() LIMIT 64),
      ARRAY(SELECT 'o$tag-' || g FROM generate_series(1, 64) g), array_fill(19900::bigint, ARRAY[64])$occurred);"
  done >"$work/service.sql"
  # The baseline: the same number of plain earns, one transaction each.
  for i in $(seq "$n"); do
    m=$((RANDOM % 2000 + 1))
    echo "BEGIN; INSERT INTO bench_ledger (member_id, kind, points, amount_cents, order_id, request_id)
      VALUES ($m, 'earn', 199, 19900, 'pgb-$round-$i', 'pgb-req-$round-$i');
      UPDATE bench_balance SET balance = balance + 199, lifetime_spend_cents = lifetime_spend_cents + 19900
      WHERE member_id = $m; COMMIT;"
  done >"$work/baseline.sql"
  service=$(measure "$work/service.sql" "$n")
  baseline=$(measure "$work/baseline.sql" "$n")
  [ "$round" = 0 ] && continue
  echo "round $round: service $service us CPU per earn, plain earn $baseline us per transaction," \
       "ratio $(awk -v s="$service" -v b="$baseline" 'BEGIN { printf "%.2f", b / s }') (plain/service)"
done
