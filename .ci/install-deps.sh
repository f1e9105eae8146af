#!/usr/bin/env bash
# install-deps.sh - the Debian 12 packages needed to build, run, test and benchmark.
# Installs only what is missing; needs root (or sudo) when something is.
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  libgrpc-dev libprotobuf-c-dev protobuf-c-compiler libpq-dev libssl-dev
  postgresql postgresql-contrib
  protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf
  openssl docker-compose
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
