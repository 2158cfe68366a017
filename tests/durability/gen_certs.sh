#!/usr/bin/env bash
# gen_certs.sh DIR - test certificates, made fresh for each run: a CA, a
# server certificate for "localhost" and a client certificate that it
# signed, and a rogue CA with a client certificate of its own.
set -euo pipefail
cd "$1"
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
ca() { # name
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -days 2 -subj "/CN=$1" \
		-out "$1.pem" 2>/dev/null
}
leaf() { # name ca cn ext
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
	printf '%s\n' "$4" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
		-CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
ca ca
ca rogue-ca
leaf server ca localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
leaf client ca worker-1 "extendedKeyUsage=clientAuth"
leaf rogue rogue-ca worker-1 "extendedKeyUsage=clientAuth"
