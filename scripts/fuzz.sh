#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ and runs each one.
#
#   scripts/fuzz.sh [--smoke] [--seconds N] [--jobs N] [--merge] [--keep-going] [-v]
#                   [TARGET...] [-- LIBFUZZER_ARGS...]
#
#   (default)     run each target N seconds (default 60); what the fuzzer finds
#                 interesting accumulates in fuzz/work/<target>/ (not committed)
#   --smoke       replay the committed corpus fuzz/corpus/<target>/ and fuzz each
#                 target a few seconds (3 unless --seconds); new inputs are thrown
#                 away. Part of `make test`.
#   --seconds N   seconds per target
#   --jobs N      targets run at once (default: the number of cores)
#   --merge       after the run, minimise fuzz/corpus/<target>/ plus
#                 fuzz/work/<target>/ into fuzz/corpus/<target>/ (libFuzzer
#                 -set_cover_merge=1 on edge coverage; the hand-made seed-* files
#                 are always kept)
#   --merge-only  only that merge, no fuzzing
#   --keep-going  go on fuzzing after a crash (libFuzzer -fork=1
#                 -ignore_crashes=1), to collect every crash in one run
#   -v            print each target's whole libFuzzer log
#
# Stable Rust only. The targets are built as `cargo fuzz build --sanitizer none
# --debug-assertions` builds them (release, debug assertions, SanitizerCoverage,
# --cfg fuzzing); when cargo-fuzz is not installed the same cargo command is run
# directly, with the same flags and output, so no install is needed
# (SNAPB2B_FUZZ_BUILDER=cargo picks the direct command even when it is).
# A crash (any panic, a timeout over 10 s, more than 2 GiB) fails the target; its
# input is kept in fuzz/artifacts/<target>/. Ends with `fuzz: N passed, M failed`
# and exits non-zero when any target failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ=$ROOT/fuzz
TRIPLE=x86_64-unknown-linux-gnu
TARGET_DIR=${SNAPB2B_FUZZ_TARGET_DIR:-$FUZZ/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$PWD/$TARGET_DIR
ALL_TARGETS=(private_key public_key config token_response minify service_digest sandbox_request)
MAX_LEN=65536

smoke=0 seconds="" jobs="" merge=0 merge_only=0 keep_going=0 verbose=0 targets=() extra=()
while (($#)); do
  case $1 in
    --smoke) smoke=1 ;;
    --seconds) seconds=${2:?--seconds needs a number}; shift ;;
    --seconds=*) seconds=${1#*=} ;;
    --jobs|-j) jobs=${2:?--jobs needs a number}; shift ;;
    --jobs=*) jobs=${1#*=} ;;
    --merge) merge=1 ;;
    --merge-only) merge=1 merge_only=1 ;;
    --keep-going) keep_going=1 ;;
    -v|--verbose) verbose=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[[ -n $seconds ]] || seconds=$((smoke ? 3 : 60))
[[ -n $jobs ]] || jobs=$(nproc 2>/dev/null || echo 1)
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds and --jobs take numbers" >&2; exit 2; }
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $t (targets: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

# --- what the build needs: a C++ compiler for libFuzzer (quiet, idempotent) ---
if ! command -v c++ >/dev/null 2>&1; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "fuzz.sh: need root (or sudo) to install g++" >&2; exit 1; }
    sudo=sudo
  fi
  echo "fuzz.sh: installing g++ (libFuzzer is C++)"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq g++ >/dev/null
fi

# --- build ----------------------------------------------------------------------
build_start=$SECONDS
unset CARGO_TARGET_DIR
if [[ ${SNAPB2B_FUZZ_BUILDER:-} != cargo ]] && cargo fuzz --version >/dev/null 2>&1; then
  builder="cargo fuzz build"
  (cd "$FUZZ" && cargo fuzz build --sanitizer none --debug-assertions --target-dir "$TARGET_DIR" \
) >"$FUZZ/.build.log" 2>&1 || build_failed=1
else
  # Exactly what cargo-fuzz 0.13 runs for `build --sanitizer none --debug-assertions`.
  builder="cargo build (cargo-fuzz's flags)"
  (cd "$FUZZ" && RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
-Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions -Ccodegen-units=1${RUSTFLAGS:+ $RUSTFLAGS}" \
    cargo build --manifest-path "$FUZZ/Cargo.toml" --target "$TRIPLE" --release \
      --config 'profile.release.debug="line-tables-only"' --bins --target-dir "$TARGET_DIR" \
) >"$FUZZ/.build.log" 2>&1 || build_failed=1
fi
if [[ -n ${build_failed:-} ]]; then
  tail -40 "$FUZZ/.build.log" >&2
  echo "fuzz.sh: building the fuzz targets failed (full log: fuzz/.build.log)" >&2
  echo "fuzz: 0 passed, ${#targets[@]} failed"
  exit 1
fi
echo "fuzz: built the fuzz targets with $builder in $((SECONDS - build_start)) s"

# --- run --------------------------------------------------------------------------
BIN=$TARGET_DIR/$TRIPLE/release
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
touch "$LOGS/.start"

run_one() {
  local t=$1 work
  mkdir -p "$FUZZ/artifacts/$t" "$FUZZ/corpus/$t"
  if ((smoke)); then
    work=$LOGS/corpus-$t          # finds are thrown away
  else
    work=$FUZZ/work/$t
  fi
  mkdir -p "$work"
  local args=(-max_len=$MAX_LEN -timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds"
              -print_final_stats=1 -artifact_prefix="$FUZZ/artifacts/$t/")
  ((keep_going)) && args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  local rc=0
  (cd "$LOGS" && exec "$BIN/$t" "${args[@]}" ${extra[@]+"${extra[@]}"} "$work" "$FUZZ/corpus/$t") \
    >"$LOGS/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$LOGS/$t.rc"
}

passed=0 failed=0
if ((!merge_only)); then
run_start=$SECONDS
running=0
for t in "${targets[@]}"; do
  if ((running >= jobs)); then wait -n || true; running=$((running - 1)); fi
  run_one "$t" &
  running=$((running + 1))
done
wait || true

total_execs=0
for t in "${targets[@]}"; do
  log=$LOGS/$t.log
  rc=$(cat "$LOGS/$t.rc" 2>/dev/null || echo 1)
  ((verbose)) && { echo "----- $t -----"; cat "$log"; }
  execs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  [[ -n $execs ]] || execs=$(grep -oE '^#[0-9]+' "$log" | tr -d '#' | tail -1 || true)  # fork mode
  execs=${execs:-0}
  total_execs=$((total_execs + execs))
  # Inputs that crashed, timed out or ran out of memory during this run.
  mapfile -t found < <(find "$FUZZ/artifacts/$t" -type f -newer "$LOGS/.start" 2>/dev/null | sort)
  if ((smoke)); then
    where="corpus $(find "$FUZZ/corpus/$t" -type f | wc -l) files"
  else
    where="corpus $(find "$FUZZ/corpus/$t" -type f | wc -l) + work $(find "$FUZZ/work/$t" -type f | wc -l) files"
  fi
  if [[ $rc == 0 ]] && ((${#found[@]} == 0)); then
    passed=$((passed + 1))
    printf 'fuzz: %-16s ok      %10s execs (%s)\n' "$t" "$execs" "$where"
  else
    failed=$((failed + 1))
    printf 'fuzz: %-16s FAILED  %10s execs, %s input(s) saved\n' "$t" "$execs" "${#found[@]}"
    grep -m1 -E "ERROR: libFuzzer" "$log" | sed 's/^.*ERROR: /      /' || true
    # Each saved input replayed once: the panic it causes, one line per distinct
    # place (timeouts and out-of-memory inputs are listed, not replayed).
    declare -A seen=()
    for a in ${found[@]+"${found[@]}"}; do
      case ${a##*/} in
        crash-*)
          why=$("$BIN/$t" -runs=1 "$a" 2>&1 | grep -m1 -A1 "panicked at" | sed 's/^thread .* panicked at //' \
                | tr '\n' ' ' | cut -c1-240 || true)
          why=${why:-crashed (no panic message: a signal)} ;;
        *) why="${a##*/}" ; why=${why%%-*} ;;
      esac
      key=${why%%:*}:$(cut -d: -f2 <<<"$why")
      [[ -n ${seen[$key]:-} ]] && continue
      seen[$key]=1
      echo "      $why"
      echo "        input: ${a#"$ROOT/"}   (replay: ${BIN#"$ROOT/"}/$t ${a#"$ROOT/"})"
    done
    unset seen
    ((verbose)) || echo "      (scripts/fuzz.sh -v $t for the whole log)"
  fi
done
echo "fuzz: $total_execs executions in $((SECONDS - run_start)) s"

fi

if ((merge)); then
  for t in "${targets[@]}"; do
    new=$(mktemp -d)
    cp "$FUZZ/corpus/$t"/seed-* "$new/" 2>/dev/null || true
    old=$(mktemp -d)
    find "$FUZZ/corpus/$t" -maxdepth 1 -type f ! -name 'seed-*' -exec cp {} "$old/" \;
    mkdir -p "$FUZZ/work/$t"
    # Edge coverage without hit counts keeps the committed corpus small.
    if (cd "$LOGS" && "$BIN/$t" -set_cover_merge=1 -use_counters=0 -max_len=$MAX_LEN -timeout=10 \
        -rss_limit_mb=2048 "$new" "$old" "$FUZZ/work/$t") >"$LOGS/$t.merge.log" 2>&1; then
      rm -rf "$FUZZ/corpus/$t" && mv "$new" "$FUZZ/corpus/$t" && rm -rf "$old"
      files=$(find "$FUZZ/corpus/$t" -type f | wc -l)
      kib=$(find "$FUZZ/corpus/$t" -type f -printf '%s\n' | awk '{s += $1} END {print int((s + 1023) / 1024)}')
      echo "fuzz: merged $t: $files files, $kib KiB"
      ((files <= 200 && kib <= 1024)) || echo "fuzz: note: $t's corpus is over 200 files / 1 MiB" >&2
      ((merge_only)) && passed=$((passed + 1))
    else
      rm -rf "$new" "$old"
      echo "fuzz: merging $t failed; corpus unchanged" >&2
      failed=$((failed + 1))
    fi
  done
fi

echo "fuzz: $passed passed, $failed failed"
((failed == 0))
