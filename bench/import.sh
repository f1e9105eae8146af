#!/usr/bin/env bash
# import.sh - `loyaltyctl import orders` throughput, order rows a second through gRPC into
# the real ledger (validation, order uniqueness, hash chains, spend and tiers), beside a
# baseline in the same run: a plain COPY of the same file into a table of text columns on
# the same database. Prints both and the ratio (target: >= 20,000 order rows/s).
#
#   bash bench/import.sh [ORDERS [MEMBERS]]        defaults: 200000 orders, 20000 members
#
# The brand is generated here (20 stores, the members, orders spread over the members at
# random, one in 20 a full or partial refund of an earlier purchase; bench/gen-brand makes
# richer brands when it is on the branch). Environment:
#   BENCH_BUILD_DIR=build-bench  Release build used (relative to the repository)
#   BENCH_DIR=/tmp/...           where the throwaway cluster and files live (default: mktemp)
#   BENCH_KEEP=1                 keep BENCH_DIR afterwards
#   PG_FSYNC=on                  fsync of the cluster (db/pgcluster.sh)
#   BENCH_JOBS=2                 loyaltyctl import orders --jobs (parts sent at once)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
orders=${1:-200000}
members=${2:-20000}
build=${BENCH_BUILD_DIR:-build-bench}
case $build in /*) ;; *) build=$root/$build ;; esac

die() { echo "import.sh: $*" >&2; exit 1; }
pgcluster() { (cd / && "$root/db/pgcluster.sh" "$@"); }
[[ $orders =~ ^[1-9][0-9]*$ ]] || die "ORDERS must be a positive integer"
[[ $members =~ ^[1-9][0-9]*$ ]] || die "MEMBERS must be a positive integer"
pgbin=
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/psql" ] && pgbin=$d; done
[ -n "$pgbin" ] || die "psql not found"

echo "== build (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target loyaltyd loyaltyctl >/dev/null
loyaltyd=$build/server/loyaltyd
ctl=$build/client/loyaltyctl

work=${BENCH_DIR:-$(mktemp -d /tmp/loyalty-import-bench.XXXXXX)}
mkdir -p "$work"
chmod 755 "$work"
daemon_pid=
cleanup() {
  local rc=$?
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  pgcluster stop "$work/pg" || true
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    echo "import.sh: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== generating $orders orders of $members members in $work"
/usr/bin/python3 - "$work" "$orders" "$members" <<'PY'
import random, sys
work, n_orders, n_members = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(42)
with open(f"{work}/stores.csv", "w") as f:
    f.write("store_code,name,channel,region\n")
    for s in range(20):
        f.write(f"S{s:03d},Store {s},{'pos' if s < 15 else 'tmall'},R{s % 5}\n")
with open(f"{work}/members.csv", "w") as f:
    f.write("phone,name,birthday,identities,enrolled_store,enrolled_at\n")
    for m in range(n_members):
        f.write(f"139{m:08d},Member {m},,pos_card:{m},S{m % 20:03d},2020-01-01T10:00:00+08:00\n")
with open(f"{work}/orders.csv", "w") as f:
    f.write("store,order_id,kind,member,amount,occurred_at,points\n")
    purchases = []
    for o in range(n_orders):
        if purchases and rnd.random() < 0.05:
            store, order, member, cents, day = purchases.pop(rnd.randrange(len(purchases)))
            refund = cents if rnd.random() < 0.5 else max(1, cents // 3)
            f.write(f"{store},{order},refund,{member},{refund // 100}.{refund % 100:02d},"
                    f"2024-{(day // 28) % 12 + 1:02d}-{day % 28 + 1:02d}T20:00:00+08:00,\n")
            continue
        store = f"S{rnd.randrange(20):03d}"
        member = f"139{rnd.randrange(n_members):08d}"
        cents = rnd.randrange(1000, 200000)
        day = rnd.randrange(300)
        order = f"O{o}"
        purchases.append((store, order, member, cents, day))
        f.write(f"{store},{order},purchase,{member},{cents // 100}.{cents % 100:02d},"
                f"2024-{(day // 28) % 12 + 1:02d}-{day % 28 + 1:02d}T12:00:00+08:00,\n")
PY

echo "== PostgreSQL in $work/pg (fsync=${PG_FSYNC:-on})"
conninfo=$(pgcluster start "$work/pg")
hq_key=$("$loyaltyd" --db "$conninfo" --init-hq-key bench --log-level warn)
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=127.0.0.1:$port
"$loyaltyd" --db "$conninfo" --listen "$server" --log-level warn >"$work/loyaltyd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
  "$ctl" --server "$server" health >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/loyaltyd.log" >&2; die "loyaltyd exited"; }
  sleep 0.1
done
export LOYALTY_SERVER=$server LOYALTY_KEY=$hq_key
"$ctl" --timeout 60000 import stores "$work/stores.csv" >/dev/null
"$ctl" --timeout 60000 import members "$work/members.csv" | tail -n 1

jobs=${BENCH_JOBS:-2}
echo "== service: loyaltyctl import orders --jobs $jobs ($orders rows)"
start=$(date +%s.%N)
"$ctl" --timeout 60000 import orders --no-order-points --jobs "$jobs" "$work/orders.csv" \
  2>/dev/null | tee "$work/import.out"
end=$(date +%s.%N)
service_rate=$(awk -v n="$orders" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
grep -Eq "rejected +0( |$)" "$work/import.out" || die "rows were rejected (see $work)"
"$ctl" audit verify | head -n 1

echo "== baseline: COPY of the same file into a table of text columns"
"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$conninfo" \
  -c "CREATE TABLE bench_orders (store text, order_id text, kind text, member text,
        amount text, occurred_at text, points text)"
start=$(date +%s.%N)
"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$conninfo" \
  -c "\\copy bench_orders FROM '$work/orders.csv' WITH (FORMAT csv, HEADER true)"
end=$(date +%s.%N)
copy_rate=$(awk -v n="$orders" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')

echo "RESULT jobs=$jobs import_orders_rows_per_s=$service_rate copy_rows_per_s=$copy_rate" \
     "ratio=$(awk -v a="$service_rate" -v b="$copy_rate" 'BEGIN { printf "%.3f", a / b }')"
