#!/usr/bin/env bash
# run.sh - the whole test suite, on a fresh Debian 12 machine as root, or as a normal user
# (with sudo when packages are missing):
# installs what is missing, builds, and runs every test with ctest.
#
#   bash tests/run.sh                      build in build/, run all tests
#   LOYALTY_SANITIZE=1 bash tests/run.sh   the same under AddressSanitizer and UBSan,
#                                          in build-sanitize/
#
# Extra arguments go to ctest (e.g. -R refunds, -R points.earn_is_one_point_per_whole_yuan, -V,
# -L unit). Each named test of an integration program is its own ctest test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh

if [ "${LOYALTY_SANITIZE:-0}" = 1 ]; then
  build=build-sanitize
  cmake_flags=(-DLOYALTY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  # gRPC's own libraries are not instrumented; LeakSanitizer still watches our code.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  build=build
  cmake_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi

cmake -S . -B "$build" "${cmake_flags[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
