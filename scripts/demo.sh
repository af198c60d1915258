#!/usr/bin/env bash
# `make demo`: starts the local sandbox provider, obtains a token from each of
# the four provider profiles with the C example (and the Python and PHP
# examples), then stops the sandbox. Loopback only; no network.
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
  if [[ -f examples/get_token.php ]] && command -v php >/dev/null 2>&1; then
    echo
    echo "== PHP example (FFI), provider doku"
    php -d ffi.enable=1 examples/get_token.php "$d/config-doku.json"
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
export -f run_examples
scripts/with-sandbox.sh "$dir" -- bash -c run_examples
