#!/usr/bin/env bash
# Cross-checks the `snapb2b` command-line tool against openssl, computing every
# string to sign independently here:
#   - `snapb2b service-sign --key` (SHA256withRSA over
#     METHOD:path:lowercase(hex(sha256(minified body))):timestamp) verified with
#     `openssl dgst -sha256 -verify`, for bodies that are already minified (so
#     no minifier is needed here), the empty body, and pretty bodies (CRLF,
#     tabs, escapes, unicode) against their minified form written by hand;
#   - `snapb2b sign` (SHA256withRSA over client_id|timestamp) verified the same
#     way and compared byte for byte with `openssl dgst -sha256 -sign`;
#   - the other direction: openssl's signatures accepted by `snapb2b verify`.
#   tests/cli_crosscheck.sh BIN WORKDIR
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 SNAPB2B_BIN WORKDIR" >&2
  exit 2
fi
bin=$1; work=$2
rm -rf "$work"; mkdir -p "$work"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

sha256hex() { # file -> lowercase hex, checked with two tools
  local a b
  a=$(sha256sum < "$1" | cut -d' ' -f1)
  b=$(openssl dgst -sha256 -hex < "$1" | sed 's/^.*= *//')
  if [[ $a != "$b" ]]; then bad "sha256sum and openssl disagree on $1"; fi
  printf '%s' "$a"
}

verifies() { # name pubkey data-file base64-signature
  printf '%s' "$4" | base64 -d > "$work/sig.bin" 2>/dev/null || { bad "$1: signature is not base64"; return; }
  if openssl dgst -sha256 -verify "$2" -signature "$work/sig.bin" "$3" >/dev/null 2>&1; then
    ok
  else
    bad "$1: openssl does not verify the signature"
  fi
}

for bits in 2048 3072; do
  key=$work/key$bits.pem; pub=$work/pub$bits.pem
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:$bits -out "$key" 2>/dev/null
  openssl pkey -in "$key" -pubout -out "$pub"

  # --- service signatures (asymmetric) --------------------------------------
  # METHOD (as given) | path | minified body ("" = no body) | timestamp
  cases=(
    'POST|/v1.0/transfer-va/create-va|{"partnerServiceId":"  088899","customerNo":"12345678901234567890","virtualAccountNo":"  08889912345678901234567890","totalAmount":{"value":"12345678.00","currency":"IDR"}}|2024-12-31T10:11:40+07:00'
    'post|/v1.0/qr/qr-mpm-generate|{"partnerReferenceNo":"2020102900000000000001","amount":{"value":"12345678.00","currency":"IDR"}}|2024-03-05T10:37:16.196Z'
    'GET|/v1.0/balance-inquiry?accountNo=123&x=a%20b||2024-03-01T08:27:49Z'
    'DELETE|/v1.0/x||2023-07-31T07:10:00.123+07:00'
    'POST|/v1.0/notify|{"name":"Kopi Susu é 日本","note":"a\/b \"q\" \\ ","n":[1.0e+2,-0.5,true,null],"e":{}}|2024-01-02T03:04:05+07:00'
    'PUT|/v1.0/debit/payment-host-to-host|[]|2025-06-30T23:59:59Z'
  )
  for c in "${cases[@]}"; do
    IFS='|' read -r method path body ts <<< "$c"
    name="rsa$bits service $method $path"
    printf '%s' "$body" > "$work/body.json"
    upper=$(printf '%s' "$method" | tr '[:lower:]' '[:upper:]')
    printf '%s:%s:%s:%s' "$upper" "$path" "$(sha256hex "$work/body.json")" "$ts" > "$work/sts.txt"
    args=(service-sign --key "$key" --method "$method" --path "$path" --timestamp "$ts")
    [[ -n $body ]] && args+=(--body-file "$work/body.json")
    if ! sig=$("$bin" "${args[@]}" 2>"$work/err.txt"); then
      bad "$name: snapb2b failed: $(cat "$work/err.txt")"; continue
    fi
    verifies "$name" "$pub" "$work/sts.txt" "$sig"
    # Deterministic (PKCS#1 v1.5): identical to openssl's own signature.
    want=$(openssl dgst -sha256 -sign "$key" "$work/sts.txt" | base64 -w0)
    if [[ $sig == "$want" ]]; then ok; else bad "$name: differs from openssl dgst -sign"; fi
    # The body on stdin signs the same; --headers carries the same values.
    if [[ -n $body ]]; then
      got=$("$bin" service-sign --key "$key" --method "$method" --path "$path" --timestamp "$ts" --body - < "$work/body.json")
      if [[ $got == "$sig" ]]; then ok; else bad "$name: --body - differs from --body-file"; fi
    fi
    headers=$("$bin" "${args[@]}" --headers)
    if [[ $headers == "X-TIMESTAMP: $ts"$'\n'"X-SIGNATURE: $sig" ]]; then ok; else bad "$name: --headers output"; fi
    # openssl's signature accepted by `snapb2b verify --service`.
    vargs=(verify --service --public-key "$pub" --method "$upper" --path "$path" --timestamp "$ts" --signature "$want" --max-skew-s 0)
    [[ -n $body ]] && vargs+=(--body-file "$work/body.json")
    if [[ $("$bin" "${vargs[@]}" 2>&1) == valid ]]; then ok; else bad "$name: snapb2b verify --service refuses openssl's signature"; fi
  done

  # A body with whitespace signs like its minified form (whitespace added
  # here to a known minified body, so no minifier is needed to know the answer).
  min='{"a":{"b":[1,2]},"c":"x y"}'
  pretty=$'{\n  "a" : { "b" : [ 1, 2 ] },\n\t"c": "x y"\n}\n'
  s1=$("$bin" service-sign --key "$key" --method POST --path /p --timestamp 2024-12-31T10:11:40+07:00 --body "$min")
  s2=$("$bin" service-sign --key "$key" --method POST --path /p --timestamp 2024-12-31T10:11:40+07:00 --body "$pretty")
  if [[ $s1 == "$s2" ]]; then ok; else bad "rsa$bits: whitespace changes the service signature"; fi

  # Bodies as they arrive (indented, CRLF, tabs) against their minified form
  # written out by hand: the signature over the pretty body must verify with
  # openssl over METHOD:path:sha256(minified):ts. Escapes, unicode, number
  # spelling and whitespace inside strings are kept.
  pretty_bodies=(
    $'{\r\n  "name" : "Kopi Susu \\u00e9 é",\r\n  "note" : "a\\/b \\"q\\"  two  spaces\\t",\r\n  "n" : [ 1.0e+2 , -0.50 , true , null ]\r\n}\r\n'
    $'\n\t[ { "a" : { } } ,\t"x y" ,\n 0 ]  '
  )
  minified_bodies=(
    '{"name":"Kopi Susu \u00e9 é","note":"a\/b \"q\"  two  spaces\t","n":[1.0e+2,-0.50,true,null]}'
    '[{"a":{}},"x y",0]'
  )
  for i in "${!pretty_bodies[@]}"; do
    printf '%s' "${pretty_bodies[$i]}" > "$work/pretty.json"
    printf '%s' "${minified_bodies[$i]}" > "$work/min.json"
    ts=2024-12-31T10:11:40+07:00
    printf 'POST:/v1.0/notify:%s:%s' "$(sha256hex "$work/min.json")" "$ts" > "$work/sts.txt"
    sig=$("$bin" service-sign --key "$key" --method POST --path /v1.0/notify --timestamp "$ts" --body-file "$work/pretty.json")
    verifies "rsa$bits pretty body $i" "$pub" "$work/sts.txt" "$sig"
    got=$("$bin" minify "$work/pretty.json" 2>&1 || true)
    if [[ $got == "${minified_bodies[$i]}" ]]; then ok; else bad "rsa$bits pretty body $i: minify gave $got"; fi
  done

  # --- token-request signatures --------------------------------------------
  for client in MCH-0008 "G1234325-SNAP" "3f9c8962-4c4b-4bb6-b3c1-8fc883519c02"; do
    for ts in 2022-10-07T14:18:39+07:00 2024-03-01T08:27:49.024Z gen:utc gen:wib_ms; do
      if [[ $ts == gen:* ]]; then
        args=(--style "${ts#gen:}")
      else
        args=(--timestamp "$ts")
      fi
      name="rsa$bits sign $client ${ts}"
      if ! out=$("$bin" sign --key "$key" --client-id "$client" "${args[@]}" 2>"$work/err.txt"); then
        bad "$name: snapb2b failed: $(cat "$work/err.txt")"; continue
      fi
      got_ts=$(sed -n 's/^X-TIMESTAMP: //p' <<< "$out")
      got_client=$(sed -n 's/^X-CLIENT-KEY: //p' <<< "$out")
      sig=$(sed -n 's/^X-SIGNATURE: //p' <<< "$out")
      if [[ $(wc -l <<< "$out") -eq 3 && $got_client == "$client" && -n $got_ts && -n $sig ]]; then ok; else bad "$name: output lines"; fi
      if [[ $ts != gen:* && $got_ts != "$ts" ]]; then bad "$name: printed timestamp differs"; fi
      printf '%s|%s' "$client" "$got_ts" > "$work/sts.txt"
      verifies "$name" "$pub" "$work/sts.txt" "$sig"
      want=$(openssl dgst -sha256 -sign "$key" "$work/sts.txt" | base64 -w0)
      if [[ $sig == "$want" ]]; then ok; else bad "$name: differs from openssl dgst -sign"; fi
      if [[ $("$bin" verify --public-key "$pub" --client-id "$client" --timestamp "$got_ts" --signature "$want" --max-skew-s 0) == valid ]]; then
        ok
      else
        bad "$name: snapb2b verify refuses openssl's signature"
      fi
    done
  done

  # Key from stdin and from the environment sign the same.
  ref=$("$bin" sign --key "$key" --client-id C --timestamp 2024-12-31T10:11:40+07:00)
  got=$("$bin" sign --key - --client-id C --timestamp 2024-12-31T10:11:40+07:00 < "$key")
  if [[ $got == "$ref" ]]; then ok; else bad "rsa$bits: --key - differs"; fi
  got=$(SNAPB2B_CROSSCHECK_KEY=$(cat "$key") "$bin" sign --key-env SNAPB2B_CROSSCHECK_KEY --client-id C --timestamp 2024-12-31T10:11:40+07:00)
  if [[ $got == "$ref" ]]; then ok; else bad "rsa$bits: --key-env differs"; fi
done

# A tampered string to sign must not verify (the check above can fail).
printf 'C|2024-12-31T10:11:40+07:00' > "$work/sts.txt"
sig=$("$bin" sign --key "$work/key2048.pem" --client-id C --timestamp 2024-12-31T10:11:41+07:00 | sed -n 's/^X-SIGNATURE: //p')
printf '%s' "$sig" | base64 -d > "$work/sig.bin"
if openssl dgst -sha256 -verify "$work/pub2048.pem" -signature "$work/sig.bin" "$work/sts.txt" >/dev/null 2>&1; then
  bad "a signature over another timestamp verified"
else
  ok
fi

echo "cli-crosscheck: $pass passed, $fail failed"
((fail == 0))
