#!/bin/bash
# Make a self-signed P-256 certificate and key for development and tests:
# OUTDIR/cert.pem and OUTDIR/key.pem (PKCS#8, unencrypted), CN=localhost,
# valid for localhost, 127.0.0.1 and the lwIP boards' addresses (10.0.2.15
# QEMU user net, 10.0.3.2 host-lwip). Never commit the result: the key is
# a secret and a development one at that. Usage: scripts/certs.sh OUTDIR [DAYS]
set -euo pipefail

OUT=${1:?usage: scripts/certs.sh OUTDIR [DAYS]}
DAYS=${2:-825}
SAN="DNS:localhost,IP:127.0.0.1,IP:10.0.2.15,IP:10.0.3.2"

command -v openssl >/dev/null || { echo "certs: openssl not found (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$OUT"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes \
	-days "$DAYS" -subj "/CN=localhost" \
	-addext "subjectAltName=$SAN" \
	-addext "basicConstraints=critical,CA:FALSE" \
	-addext "keyUsage=critical,digitalSignature" \
	-addext "extendedKeyUsage=serverAuth" \
	-keyout "$OUT/key.pem.tmp" -out "$OUT/cert.pem.tmp" 2>/dev/null
mv "$OUT/key.pem.tmp" "$OUT/key.pem"
mv "$OUT/cert.pem.tmp" "$OUT/cert.pem"
chmod 644 "$OUT/cert.pem"
echo "certs: self-signed P-256 development pair in $OUT/ (cert.pem, key.pem; $SAN)"
