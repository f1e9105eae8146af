#!/usr/bin/env bash
# reports.sh - how long each member report takes (docs/analytics.md), through loyaltyctl
# against a running loyaltyd holding a brand (e.g. one from bench/gen-brand, imported as the
# README says), over 5 as_of dates, 3 months apart, ending at END: milliseconds of wall time
# per call (the CLI's start and the gRPC call included). Restart loyaltyd before it to time
# first calls after a start; nothing is cached between calls either way.
#
#   LOYALTY_SERVER=127.0.0.1:50051 LOYALTY_KEY=lk_... bash bench/reports.sh [END [STORE]]
#
# END defaults to 2025-12-31 (the end of gen-brand's default history); STORE (default SH001)
# is the store of the filtered KPI call. LOYALTYCTL: the loyaltyctl to run (default
# build/client/loyaltyctl).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
end=${1:-2025-12-31}
store=${2:-SH001}
ctl=${LOYALTYCTL:-$root/build/client/loyaltyctl}

ms() {
  local start=$(date +%s%N)
  "$@" >/dev/null || { echo "reports.sh: failed: $*" >&2; exit 1; }
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}

printf '%-10s %9s %9s %9s %9s %9s %9s\n' as_of lifecycle migration rfm kpi kpi_store stores
for back in 0 3 6 9 12; do
  d=$(date -d "$end -$back months" +%Y-%m-%d)
  month=$(date -d "$d" +%Y-%m-01)
  quarter=$(date -d "$d -3 months" +%Y-%m-%d)
  week=$(date -d "$d -6 days" +%Y-%m-%d)
  printf '%-10s %9s %9s %9s %9s %9s %9s\n' "$d" \
    "$(ms "$ctl" report lifecycle --as-of "$d" --json)" \
    "$(ms "$ctl" report migration --from "$quarter" --as-of "$d" --json)" \
    "$(ms "$ctl" report rfm --as-of "$d" --json)" \
    "$(ms "$ctl" report kpi --from "$month" --to "$d" --json)" \
    "$(ms "$ctl" report kpi --from "$month" --to "$d" --store "$store" --json)" \
    "$(ms "$ctl" report stores --from "$week" --to "$d" --json)"
done
