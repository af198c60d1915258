#!/usr/bin/env bash
# `make demo`: starts the local sandbox provider, obtains a token from each of
# the four provider profiles with the C example (and the Python and PHP
# examples), makes SNAP service calls with the token (C example and CLI),
# then stops the sandbox. Loopback only; no network.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/demo-sandbox

# The provider calls the merchant back: `snapb2b-sandbox notify` asks the
# example merchant endpoint for a token, then sends a signed notification.
notify_merchant_endpoint() {
  local d=$1 n=target/release/snapb2b-sandbox pid url rc=0
  echo
  echo "== the provider calls back: a token request, then a signed payment notification, answered by the example merchant endpoint"
  # The merchant trusts the sandbox provider's public key; a random token
  # secret, never printed.
  python3 - "$d" > "$d/merchant-server.json" <<'PY'
import json, secrets, sys
d = sys.argv[1]
print(json.dumps({"partners": [{"client_id": "SANDBOX-PROVIDER", "public_key_file": d + "/provider-public.pem"}],
                  "token_secret": secrets.token_hex(24)}))
PY
  rm -f "$d/merchant.out"
  # -u: the "listening on" line must reach the file unbuffered.
  SNAPB2B_SERVER_CONFIG="$d/merchant-server.json" python3 -u examples/merchant_endpoint.py --port 0 \
      > "$d/merchant.out" 2> "$d/merchant.err" &
  pid=$!
  for _ in $(seq 1 200); do
    grep -q 'listening on http://' "$d/merchant.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  url=$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$d/merchant.out" | head -n 1)
  if [[ -z $url ]]; then
    echo "merchant_endpoint.py did not start:"; cat "$d/merchant.err"
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    return 1
  fi
  url="${url%/}/v1.0/transfer-va/payment"
  echo "\$ snapb2b-sandbox notify --url $url"
  $n notify --dir "$d" --url "$url" || rc=1
  echo "-- the amount changed after signing (--tamper body): refused"
  $n notify --dir "$d" --url "$url" --tamper body || rc=1
  echo "-- sent twice with the same X-EXTERNAL-ID (--replay): the second is a replay"
  $n notify --dir "$d" --url "$url" --replay || rc=1
  echo "-- without asking for a token first (--no-token): refused"
  $n notify --dir "$d" --url "$url" --no-token || rc=1
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  rm -f "$d/merchant.out" "$d/merchant.err" "$d/merchant-server.json"
  return $rc
}
# Without examples/merchant_endpoint.py: the signature-only receiver, which
# issues no tokens, so the notifications go without one.
notify_receiver() {
  local d=$1 receiver url
  echo
  echo "== the provider calls back: a signed payment notification, verified by the example merchant endpoint"
  python3 examples/notification_receiver.py --public-key "$d/provider-public.pem" --port 0 \
      --port-file "$d/receiver.port" --max-requests 2 &
  receiver=$!
  for _ in $(seq 1 100); do [[ -s $d/receiver.port ]] && break; sleep 0.05; done
  url="http://127.0.0.1:$(cat "$d/receiver.port")/v1.0/transfer-va/payment"
  target/release/snapb2b-sandbox notify --dir "$d" --url "$url" --no-token
  echo "-- the same notification with its amount changed after signing:"
  target/release/snapb2b-sandbox notify --dir "$d" --url "$url" --no-token --tamper body
  wait $receiver
  rm -f "$d/receiver.port"
}
run_examples() {
  local d=$SNAPB2B_SANDBOX_DIR
  echo "sandbox provider: $(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["base_url"])' "$d/sandbox.json")"
  for provider in doku nicepay klikoo snap; do
    echo
    echo "== C example, provider $provider"
    build/get_token "$d/config-$provider.json"
  done
  if [[ -f examples/get_token.py ]]; then
    echo
    echo "== Python example (ctypes), provider nicepay"
    python3 examples/get_token.py "$d/config-nicepay.json"
  fi
  if [[ -f examples/get_token.php ]]; then
    echo
    if command -v php >/dev/null 2>&1; then
      echo "== PHP example (FFI), provider doku"
      php -d ffi.enable=1 examples/get_token.php "$d/config-doku.json"
    else
      echo "== PHP example skipped: php is not installed (make test installs php-cli)"
    fi
  fi
  if [[ -f examples/merchant_endpoint.py ]]; then
    notify_merchant_endpoint "$d"
  else
    notify_receiver "$d"
  fi
  echo
  echo "== an error, explained: a client id the provider does not know"
  python3 - "$d/config-doku.json" > "$d/config-unknown.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["client_id"] = "UNKNOWN-CLIENT"; print(json.dumps(c))
PY
  set +e
  build/get_token "$d/config-unknown.json"
  echo "(exit status $?: B2B_PROVIDER)"
}
run_service_calls() {
  local d=$SNAPB2B_SANDBOX_DIR out id
  local base cli=target/release/snapb2b inquiry=/v1.0/transfer-va/inquiry
  base=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["base_url"])' "$d/sandbox.json")
  # The snap config plus client_secret and channel_id; the token cached in a
  # file, so that each run of the example starts with the last one's token.
  scripts/call-config.py "$d" "cache_file=\"$d/token.cache\"" > "$d/config-call.json"
  echo
  echo "== a service call with the token: a virtual-account inquiry (C example, b2b_client_request)"
  out=$(build/service_call "$d/config-call.json")
  echo "$out"
  if grep -q '^http status:   404$' <<<"$out"; then
    echo "(this sandbox has no service endpoints yet: the rest of the service-call part is skipped)"
    return 0
  fi
  echo
  echo "== the provider revokes every token; the cached one is refused (401), renewed, and the call sent again"
  python3 - "$base/sandbox/tokens/revoke" "$d/ca.pem" <<'PY'
import ssl, sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b"", method="POST"),
                       context=ssl.create_default_context(cafile=sys.argv[2]), timeout=10).read()
PY
  build/service_call "$d/config-call.json"
  echo
  echo "== the same call from Python (Client.request) and PHP (TokenClient::request)"
  python3 examples/service_call.py "$d/config-call.json"
  if command -v php >/dev/null 2>&1; then
    php -d ffi.enable=1 examples/service_call.php "$d/config-call.json"
  else
    echo "(PHP example skipped: php is not installed; make test installs php-cli)"
  fi
  echo
  echo "== the CLI: snapb2b call with a chosen X-EXTERNAL-ID, then the same id again"
  cat > "$d/va-inquiry.json" <<'JSON'
{"partnerServiceId": "  088899", "customerNo": "12345678901234567890",
 "virtualAccountNo": "  08889912345678901234567890", "inquiryRequestId": "abcdef-123456-abcdef"}
JSON
  id=$($cli external-id)
  echo "\$ snapb2b call --config config-call.json POST $inquiry --data @va-inquiry.json --external-id $id"
  $cli call --config "$d/config-call.json" POST "$inquiry" --data @"$d/va-inquiry.json" --external-id "$id"
  echo
  echo "-- the same X-EXTERNAL-ID again: the provider refuses a repeat within the day"
  $cli call --config "$d/config-call.json" POST "$inquiry" --data @"$d/va-inquiry.json" --external-id "$id"
  echo "(exit status $?: B2B_PROVIDER)"
}
export -f notify_merchant_endpoint notify_receiver run_examples run_service_calls
scripts/with-sandbox.sh "$dir" -- bash -c 'run_examples && run_service_calls'
