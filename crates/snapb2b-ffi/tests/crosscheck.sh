#!/usr/bin/env bash
# Cross-checks b2b_sign (through the shared library, via sign_tool) against
# `openssl dgst -sha256 -sign` byte for byte, for every accepted key form,
# and against the public SNAP vectors in $SNAPB2B_VECTORS.
#   tests/crosscheck.sh SIGN_TOOL WORKDIR
set -euo pipefail
tool=$1; work=$2
rm -rf "$work"; mkdir -p "$work"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

expect_same() { # name keyfile client timestamp reference_pem
  local got want
  got=$("$tool" "$2" "$3" "$4") || { bad "$1: sign_tool failed"; return; }
  want=$(printf '%s|%s' "$3" "$4" | openssl dgst -sha256 -sign "$5" | base64 -w0)
  if [[ $got == "$want" ]]; then ok; else bad "$1: signature differs from openssl"; fi
}

for bits in 2048 3072 4096; do
  k=$work/rsa$bits
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:$bits -out $k.pkcs8.pem 2>/dev/null
  openssl rsa -in $k.pkcs8.pem -traditional -out $k.pkcs1.pem 2>/dev/null
  grep -q "BEGIN RSA PRIVATE KEY" $k.pkcs1.pem || { bad "no PKCS#1 form generated"; continue; }
  openssl pkey -in $k.pkcs8.pem -outform DER -out $k.pkcs8.der
  openssl rsa -in $k.pkcs8.pem -traditional -outform DER -out $k.pkcs1.der 2>/dev/null
  base64 -w0 $k.pkcs8.der > $k.bare8.txt
  base64 -w0 $k.pkcs1.der > $k.bare1.txt
  base64 -w64 $k.pkcs8.der > $k.bare8wrapped.txt
  sed 's/$/\r/' $k.pkcs8.pem > $k.crlf.pem
  awk 'BEGIN{ORS="\\n"} {print}' $k.pkcs8.pem > $k.literal-n.txt
  tr -d '\n' < $k.pkcs1.pem > $k.stripped.pem
  { printf '\n\n   '; cat $k.pkcs8.pem; printf '   \n\n'; } > $k.spaced.pem
  for form in pkcs8.pem pkcs1.pem bare8.txt bare1.txt bare8wrapped.txt crlf.pem literal-n.txt stripped.pem spaced.pem; do
    expect_same "rsa$bits $form" $k.$form "MCH-0008-$bits" "2022-10-07T14:18:39+07:00" $k.pkcs8.pem
  done
  expect_same "rsa$bits unicode" $k.pkcs8.pem "klien-é-日本" "2024-03-01T08:27:49.024Z" $k.pkcs8.pem
done

# Forms that must be refused with KEY (2), not signed.
k=$work/rsa2048
openssl pkey -in $k.pkcs8.pem -pubout -out $work/public.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out $work/rsa1024.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $work/ec.pem
openssl pkcs8 -topk8 -in $k.pkcs8.pem -passout pass:secret -out $work/encrypted.pem
for refused in public.pem rsa1024.pem ec.pem encrypted.pem; do
  set +e; "$tool" $work/$refused c t >/dev/null 2>$work/err.txt; rc=$?; set -e
  if [[ $rc == 2 ]]; then ok; else bad "$refused: status $rc, want 2 (KEY)"; fi
done

# Public vectors.
vectors=${SNAPB2B_VECTORS:-tests/vectors}
if [[ -f $vectors/snap-vectors.json ]]; then
  while IFS=$'\t' read -r client ts sig; do
    got=$("$tool" "$vectors/public-demo-key.pem" "$client" "$ts")
    if [[ $got == "$sig" ]]; then ok; else bad "vector $client|$ts"; fi
  done < <(python3 -c '
import json, sys
for v in json.load(open(sys.argv[1]))["asymmetric_b2b_token"]:
    print(v["client_id"], v["timestamp"], v["signature"], sep="\t")' "$vectors/snap-vectors.json")
else
  bad "public vectors not found at $vectors (set SNAPB2B_VECTORS)"
fi

echo "crosscheck: $pass passed, $fail failed"
((fail == 0))
