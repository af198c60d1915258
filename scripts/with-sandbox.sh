#!/usr/bin/env bash
# Runs a command against a freshly started local sandbox provider.
#   scripts/with-sandbox.sh DIR [sandbox options --] command args...
# The command sees SNAPB2B_SANDBOX_DIR=DIR (configs in DIR/config-*.json).
# The sandbox is stopped when the command ends, whatever its outcome.
set -euo pipefail
dir=$1; shift
sandbox_args=()
if [[ " $* " == *" -- "* ]]; then
  while [[ $1 != -- ]]; do sandbox_args+=("$1"); shift; done
  shift
fi
bin=${SNAPB2B_SANDBOX_BIN:-target/release/snapb2b-sandbox}
mkdir -p "$dir"
rm -f "$dir/sandbox.json"
"$bin" --dir "$dir" --port 0 --max-seconds 900 --quiet "${sandbox_args[@]}" >"$dir/sandbox.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  [[ -s $dir/sandbox.json ]] && break
  kill -0 $pid 2>/dev/null || { echo "sandbox exited early:" >&2; cat "$dir/sandbox.log" >&2; exit 1; }
  sleep 0.1
done
[[ -s $dir/sandbox.json ]] || { echo "sandbox did not start within 20 s" >&2; exit 1; }
SNAPB2B_SANDBOX_DIR=$(cd "$dir" && pwd) "$@"
