#!/usr/bin/env bash
# make-certs.sh - a test CA, a server certificate and store client certificates, made with
# the openssl command; the TLS tests use them, and they show the steps for a deployment.
#
#   tests/harness/make-certs.sh DIR [STORE_CODE]
#
# DIR/ca.pem, ca.key             the CA the server trusts for client certificates
# DIR/server.pem, server.key     for loyaltyd: CN localhost, SANs localhost and 127.0.0.1
# DIR/store.pem, store.key       a client certificate, CN = STORE_CODE (default SH001)
# DIR/hq.pem, hq.key             a client certificate for HQ keys, CN = hq
# DIR/other-ca.pem, rogue.pem, rogue.key   a second CA and a client certificate it signed
set -euo pipefail
dir=$1 store=${2:-SH001}
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

ca() { # NAME SUBJECT
  openssl req -x509 "${ec[@]}" -keyout "$1.key" -out "$1.pem" -days 30 -subj "$2" 2>/dev/null
}
leaf() { # NAME CA SUBJECT EXTENSIONS
  openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "$3" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 30 \
    -out "$1.pem" -extfile <(printf '%s\n' "$4") 2>/dev/null
  rm -f "$1.csr"
}

ca ca "/CN=Loyalty Test CA"
ca other-ca "/CN=Some Other CA"
leaf server ca "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf store ca "/CN=$store" "extendedKeyUsage=clientAuth"
leaf hq ca "/CN=hq" "extendedKeyUsage=clientAuth"
leaf rogue other-ca "/CN=$store" "extendedKeyUsage=clientAuth"
chmod 600 ./*.key
echo "$dir"
