#!/usr/bin/env bash
# `make demo`: starts the local sandbox provider, obtains a token from each of
# the four provider profiles with the C example (and the Python and PHP
# examples), makes SNAP service calls with the token (C example and CLI),
# then stops the sandbox. Loopback only; no network.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/demo-sandbox

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
  echo
  echo "== the provider calls back: a signed payment notification, verified by the example merchant endpoint"
  python3 examples/notification_receiver.py --public-key "$d/provider-public.pem" --port 0 \
      --port-file "$d/receiver.port" --max-requests 2 &
  local receiver=$!
  for _ in $(seq 1 100); do [[ -s $d/receiver.port ]] && break; sleep 0.05; done
  local url="http://127.0.0.1:$(cat "$d/receiver.port")/v1.0/transfer-va/payment"
  target/release/snapb2b-sandbox notify --dir "$d" --url "$url"
  echo "-- the same notification with its amount changed after signing:"
  target/release/snapb2b-sandbox notify --dir "$d" --url "$url" --tamper body || true
  wait $receiver
  rm -f "$d/receiver.port"
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
export -f run_examples run_service_calls
scripts/with-sandbox.sh "$dir" -- bash -c 'run_examples && run_service_calls'
