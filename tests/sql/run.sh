#!/usr/bin/env bash
# run.sh - one SQL test, PostgreSQL style (as pg_regress runs one): tests/sql/NAME.sql is run
# by psql, echoing its input, and the output must be tests/sql/expected/NAME.out.
#
#   tests/sql/run.sh NAME LOYALTYD RESULTS_DIR
#
# In the cluster of the ctest "server" fixture (its env file is named by LOYALTY_TEST_ENV),
# it creates a fresh database named after the test, applies the schema with
# `LOYALTYD --db-owner CONNINFO --migrate-only`, runs
# `psql -X -a -q -v ON_ERROR_STOP=0 -f NAME.sql` into RESULTS_DIR/NAME.out, and compares it
# with expected/NAME.out (`diff -u`, shown on failure). The database is dropped afterwards.
#
# LOYALTY_SQL_ACCEPT=1 makes the output the new expected file (review it before committing):
#   LOYALTY_SQL_ACCEPT=1 bash tests/run.sh -R sql.refund_proportions
set -euo pipefail
[ $# = 3 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
name=$1 loyaltyd=$2 results=$3
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "sql.$name: $*" >&2; exit 1; }

[ -f "$here/$name.sql" ] || die "no $here/$name.sql"
env_file=${LOYALTY_TEST_ENV:-}
[ -n "$env_file" ] && [ -f "$env_file" ] || die "LOYALTY_TEST_ENV must name the fixture's env file (run via ctest)"
owner=$(sed -n 's/^LOYALTY_TEST_DB=//p' "$env_file")
[ -n "$owner" ] || die "no LOYALTY_TEST_DB in $env_file"

psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -1)
[ -x "$psql" ] || die "psql not found (apt-get install postgresql-client)"

# The same conninfo, another database (the fixture writes key=value conninfo).
db=sql_$(echo "$name" | tr -c 'A-Za-z0-9_\n' '_' | tr 'A-Z' 'a-z')
if [[ $owner == *dbname=* ]]; then
  conninfo=$(echo "$owner" | sed -E "s/dbname=[^ ]*/dbname=$db/")
else
  conninfo="$owner dbname=$db"
fi

# Deterministic output, whatever the machine: psql and the server's session settings.
export PGTZ=UTC PGDATESTYLE=ISO PGCLIENTENCODING=UTF8 LC_ALL=C.UTF-8
unset PGOPTIONS PSQLRC
admin() {
  PGOPTIONS="-c client_min_messages=warning" "$psql" -X -q -v ON_ERROR_STOP=1 "$owner" "$@" >/dev/null
}

admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
admin -c "CREATE DATABASE $db"
trap 'admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true' EXIT

"$loyaltyd" --db-owner "$conninfo" --migrate-only --log-level warn \
  || die "the database code (loyaltyd --migrate-only) failed in database $db"

mkdir -p "$results"
out=$results/$name.out
# Relative to tests/sql, so that psql's error lines ("psql:NAME.sql:12: ERROR: ...") do not
# name the checkout.
(cd "$here" && "$psql" -X -a -q -v ON_ERROR_STOP=0 -d "$conninfo" -f "$name.sql") >"$out" 2>&1 \
  || die "psql failed (exit $?); its output: $out"

expected=$here/expected/$name.out
if [ "${LOYALTY_SQL_ACCEPT:-0}" = 1 ]; then
  mkdir -p "$here/expected"
  cp "$out" "$expected"
  echo "sql.$name: wrote $expected"
  exit 0
fi
[ -f "$expected" ] || die "no $expected; LOYALTY_SQL_ACCEPT=1 writes it from $out"
if ! diff -u "$expected" "$out"; then
  echo "sql.$name: output differs from expected/$name.out (above); LOYALTY_SQL_ACCEPT=1 makes it the expected output" >&2
  exit 1
fi
