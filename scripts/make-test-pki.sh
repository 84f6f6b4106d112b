#!/bin/bash
# make-test-pki.sh DIR [SAN...]: a throwaway PKI for a TLS etcd in tests and
# measurements (never for production: the keys are unencrypted, valid 2 days).
# Writes into DIR:
#   ca.pem, ca.key             the CA
#   etcd.pem, etcd.key         etcd's certificate: IP:127.0.0.1, DNS:localhost and
#                              each SAN given (IP:10.77.0.10, DNS:master); serverAuth
#                              and clientAuth (etcd's JSON gateway dials its own gRPC
#                              port with it when --client-cert-auth is on)
#   client.pem, client-key.pem a client certificate WITHOUT a Common Name: with auth
#                              on, etcd's gateway refuses one that has a CN
# Keys are 0600, certificates 0644. Same recipe as the README's "Securing etcd".
set -euo pipefail
dir=$1
shift
sans="IP:127.0.0.1,DNS:localhost"
for san in "$@"; do sans="$sans,$san"; done
mkdir -p "$dir"
cd "$dir"
umask 077
key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${key[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=monitor test CA" 2>/dev/null
openssl req "${key[@]}" -keyout etcd.key -out etcd.csr -subj "/CN=etcd" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$sans" >etcd.ext
openssl x509 -req -in etcd.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out etcd.pem -days 2 \
    -extfile etcd.ext 2>/dev/null
openssl req "${key[@]}" -keyout client-key.pem -out client.csr -subj "/O=monitor" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 \
    -extfile client.ext 2>/dev/null
rm -f ./*.csr ./*.ext ca.srl
chmod 0644 ca.pem etcd.pem client.pem
chmod 0600 ca.key etcd.key client-key.pem
