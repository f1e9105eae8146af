#!/usr/bin/env bash
# run.sh - the interoperability test: Debian's python3-grpcio (a client nobody here wrote)
# against the real server, with stubs generated from proto/ now.
#
#   tests/interop/run.sh PROTO_DIR OUT_DIR      (LOYALTY_TEST_ENV names the harness env)
set -euo pipefail
proto=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out" && mkdir -p "$out"
protoc -I "$proto" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  loyalty/v1/common.proto loyalty/v1/points.proto loyalty/v1/admin.proto grpc/health/v1/health.proto
# Debian's modules live with /usr/bin/python3, not with a python3 earlier on PATH.
exec /usr/bin/python3 "$here/interop_test.py" "$out"
