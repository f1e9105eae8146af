#!/usr/bin/env bash
# stop.sh - the fixture's cleanup: SIGTERM to loyaltyd, which must exit 0 with nothing from
# the sanitizers in its log; then stop PostgreSQL.
#
#   tests/harness/stop.sh WORKDIR
set -uo pipefail
work=$1
here=$(cd "$(dirname "$0")" && pwd)
status=0
if [ -f "$work/loyaltyd.pid" ]; then
  kill -TERM "$(cat "$work/loyaltyd.pid")" 2>/dev/null
  for _ in $(seq 1 150); do
    [ -f "$work/loyaltyd.exit" ] && break
    sleep 0.2
  done
  code=$(cat "$work/loyaltyd.exit" 2>/dev/null || echo "none")
  rm -f "$work/loyaltyd.pid"
  if [ "$code" != 0 ]; then
    echo "loyaltyd exit status after SIGTERM: $code (want 0)" >&2
    status=1
  fi
fi
if [ -f "$work/loyaltyd.log" ] &&
   grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$work/loyaltyd.log" >&2; then
  echo "the sanitizers reported problems in loyaltyd (above)" >&2
  status=1
fi
# loyaltyd logs at error level only what should never happen (an internal database error, a
# group-commit batch failing for an unknown reason): the suite must not cause any.
if [ -f "$work/loyaltyd.log" ] && grep -E "Z error " "$work/loyaltyd.log" >&2; then
  echo "loyaltyd logged errors (above)" >&2
  status=1
fi
if [ $status != 0 ] && [ -f "$work/loyaltyd.log" ]; then
  echo "--- last lines of $work/loyaltyd.log" >&2
  tail -40 "$work/loyaltyd.log" >&2
fi
[ -d "$work/pg" ] && "$here/../../db/pgcluster.sh" stop "$work/pg"
exit $status
