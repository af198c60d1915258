#!/usr/bin/env bash
# The C example (examples/get_token.c) end to end against the sandbox, as
# `make test` runs it through scripts/with-sandbox.sh: a token from each
# provider profile, shown masked; a refusal shown as the library's message
# with the status code as exit status; one run under valgrind.
#   tests/example.sh build/get_token
set -uo pipefail
bin=$1
dir=${SNAPB2B_SANDBOX_DIR:?run through scripts/with-sandbox.sh}
passed=0 failed=0
check() { # DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}

for provider in doku nicepay klikoo snap midtrans bnc; do
  out=$("$bin" "$dir/config-$provider.json" 2>&1)
  status=$?
  check "$provider: exit 0 ($out)" test $status -eq 0
  check "$provider: names the provider" grep -q "^provider:   $provider$" <<<"$out"
  check "$provider: token masked as 6...4 (never whole)" \
    grep -Eq '^token:      [^ ]{6}\.\.\.[^ ]{4} \(Bearer\)$' <<<"$out"
  check "$provider: Authorization from the token's own type" \
    grep -Eq '^header:     Authorization: Bearer [^ ]{6}\.\.\.[^ ]{4}$' <<<"$out"
  check "$provider: expiry in about 900 s" grep -Eq '^expires at: .* \(in (89[0-9]|900) s\)$' <<<"$out"
done

# A client the provider does not know: the message, and PROVIDER (6) as status.
python3 - "$dir/config-doku.json" "$dir/config-unknown.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["client_id"] = "NOT-REGISTERED"
json.dump(c, open(sys.argv[2], "w"))
PY
out=$("$bin" "$dir/config-unknown.json" 2>&1)
status=$?
check "refusal: exit status 6 (B2B_PROVIDER), got $status" test $status -eq 6
check "refusal: the library's message ($out)" grep -q '^error: .*4017300.*Unknown Client' <<<"$out"
check "no config: usage, exit 2" bash -c '"$0" >/dev/null 2>&1; test $? -eq 2' "$bin"

# The example's whole life (load, request, free) under valgrind.
if command -v valgrind >/dev/null; then
  out=$(valgrind --quiet --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --suppressions=crates/snapb2b-ffi/tests/c/valgrind.supp \
    "$bin" "$dir/config-klikoo.json" 2>&1)
  status=$?
  check "valgrind: clean run, exit $status ($out)" test $status -eq 0
fi

echo "example: $passed passed, $failed failed"
((failed == 0))
