#!/usr/bin/env bash
# start.sh - the ctest fixture: a throwaway PostgreSQL and the real loyaltyd on a free port.
#
#   tests/harness/start.sh WORKDIR LOYALTYD LOYALTYCTL
#
# Writes WORKDIR/env (KEY=VALUE lines the tests read through LOYALTY_TEST_ENV). The server's
# log is WORKDIR/loyaltyd.log; stop.sh checks it and the server's exit status.
set -euo pipefail
work=$1 loyaltyd=$2 loyaltyctl=$3
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

"$here/stop.sh" "$work" >/dev/null 2>&1 || true
"$source_dir/db/pgcluster.sh" destroy "$work/pg"
rm -rf "$work"
mkdir -p "$work"
owner=$("$source_dir/db/pgcluster.sh" start "$work/pg")
# The server runs as the least-privileged role the schema creates; it is applied as the owner.
hq_key=$("$loyaltyd" --db-owner "$owner" --init-hq-key test-hq --log-level warn)
conninfo=${owner/user=loyalty/user=loyalty_server}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# The subshell records loyaltyd's exit status for stop.sh.
setsid bash -c '"$1" --db "$2" --db-owner "$5" --listen "127.0.0.1:$3" --pool-size 8 --threads 64 \
  --log-level info >"$4/loyaltyd.log" 2>&1 & pid=$!; echo $pid >"$4/loyaltyd.pid"; wait $pid;
  echo $? >"$4/loyaltyd.exit"' \
  _ "$loyaltyd" "$conninfo" "$port" "$work" "$owner" </dev/null >/dev/null 2>&1 &

for _ in $(seq 1 100); do
  if "$loyaltyctl" --server "127.0.0.1:$port" --timeout 1000 health >/dev/null 2>&1; then
    cat >"$work/env" <<ENV
LOYALTY_TEST_SERVER=127.0.0.1:$port
LOYALTY_TEST_HQ_KEY=$hq_key
LOYALTY_TEST_DB=$owner
LOYALTY_TEST_SERVER_DB=$conninfo
LOYALTY_TEST_PGDIR=$work/pg
LOYALTY_TEST_LOG=$work/loyaltyd.log
LOYALTY_TEST_SERVER_PID=$(cat "$work/loyaltyd.pid")
LOYALTY_SOURCE_DIR=$source_dir
ENV
    echo "loyaltyd serving on 127.0.0.1:$port, PostgreSQL: $conninfo"
    exit 0
  fi
  sleep 0.2
done
echo "loyaltyd did not become healthy; its log:" >&2
cat "$work/loyaltyd.log" >&2
exit 1
