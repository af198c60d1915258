#!/usr/bin/env bash
# `make bench`: performance figures of libsnapb2b and its bindings, each as a
# ratio against a baseline measured in the same run on the same machine.
# Not a test: it prints the figures and a table (also written to
# build/bench-results.md) and exits 0 unless a benchmark could not run.
#
#   benches/run.sh            (expects `make build` done: target/release/libsnapb2b.so)
#
# BENCH_SECONDS (default 1) and BENCH_REPEATS (default 5) set the length of
# one timed run and how many runs each figure is the best of (rounds
# interleave the compared cases, so a burst of load from elsewhere hits one
# round of each). Timings need an idle machine: before each timed step the
# script waits for other processes to go quiet, BENCH_QUIET_WAIT seconds in
# all (default 90), then measures anyway and records how busy it was.
# Step 10 (php-fpm behind nginx) takes FPM_SECONDS, FPM_CONCURRENCY and
# FPM_FFI=true|preload (see benches/fpm_bench.sh). Steps 11-13 (service
# calls) install libcurl's headers and PHP's curl extension when missing,
# steps 16-18 (cache_url) redis-server, which they start on loopback.
# The whole run takes 2 to 4 minutes (plus, the first time, installing
# nginx, php-fpm and wrk from Debian for step 10).
set -uo pipefail
cd "$(dirname "$0")/.."

export BENCH_SECONDS=${BENCH_SECONDS:-1}
export BENCH_REPEATS=${BENCH_REPEATS:-5}
export QUIET_DEADLINE=$((EPOCHSECONDS + ${BENCH_QUIET_WAIT:-90}))
export OUT=build/bench
export FIGURES=$OUT/figures.txt   # "name value..." lines, rendered at the end
REL=target/release
PHP=(php -d ffi.enable=1)
CFLAGS=(-O2 -g -Wall -Wextra -Werror -std=c11 -pthread -Icrates/snapb2b-ffi/include)

mkdir -p "$OUT"
: >"$FIGURES"

# Appends "name value..." to the figures file and echoes it.
fig() { echo "$*" | tee -a "$FIGURES"; }
export -f fig

# Busy CPU over half a second, all processes, in hundredths of a core.
busy_cores() {
  local u n s i w q sq st b0 t0
  read -r _ u n s i w q sq st _ </proc/stat
  b0=$((u + n + s + q + sq + st)) t0=$((u + n + s + i + w + q + sq + st))
  sleep 0.5
  read -r _ u n s i w q sq st _ </proc/stat
  echo $(((u + n + s + q + sq + st - b0) * 100 * $(nproc) / (u + n + s + i + w + q + sq + st - t0)))
}
# Waits (within the run's overall budget) until other processes use less
# than a quarter of a core, then records how busy the machine was.
wait_quiet() {
  local busy start=$EPOCHSECONDS waited=
  while busy=$(busy_cores); ((busy > 25 && EPOCHSECONDS < QUIET_DEADLINE)); do
    [[ $waited ]] || echo "   (other processes keep the machine busy: waiting for quiet)"
    waited=1
    sleep 2
  done
  [[ $waited ]] && echo "   (waited $((EPOCHSECONDS - start)) s)"
  fig "busy_before_$1" "$((busy / 100)).$(printf %02d $((busy % 100)))"
}
export -f busy_cores wait_quiet

# Runs a benchmark program, keeping its "name value..." output lines as
# figures; a failure is reported and leaves the figures missing.
# The first argument names the step (for the busy_before_ figure).
measure() {
  local step=$1 label=$2; shift 2
  echo "== $label"
  wait_quiet "$step"
  local out status
  out=$("$@")
  status=$?
  echo "$out" | tee -a "$FIGURES"
  if ((status != 0)); then
    echo "!! $label could not run (exit status $status)"
    return 1
  fi
}
export -f measure

if [[ ! -f $REL/libsnapb2b.so ]]; then
  echo "benches/run.sh: $REL/libsnapb2b.so is missing: run \`make build\` first" >&2
  exit 1
fi

echo "== machine"
{
  echo "nproc $(nproc)"
  echo "cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "openssl $(openssl version 2>/dev/null || echo none)"
  echo "php $(php -r 'echo PHP_VERSION, " (openssl ext: ", OPENSSL_VERSION_TEXT, ")";' 2>/dev/null || echo none)"
  echo "python $(python3 -c 'import platform; print(platform.python_version())' 2>/dev/null || echo none)"
  echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "library $(readlink -f $REL/libsnapb2b.so) ($(stat -c %y $REL/libsnapb2b.so | cut -d. -f1))"
} | tee -a "$FIGURES"

# A 2048-bit key, the size SNAP providers issue; generated once per run so
# every benchmark signs with the same key.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/key.pem" 2>/dev/null
export KEY=$OUT/key.pem

# The C programs: linked against this tree's library (rpath) and libcrypto.
build_c() {
  ${CC:-cc} "${CFLAGS[@]}" "benches/$1.c" -L$REL -lsnapb2b -lcrypto \
    -Wl,-rpath,"$(pwd)/$REL" -o "$OUT/$1"
}
build_c sign_bench && build_c client_bench && build_c server_bench || echo "!! the C benchmarks do not compile"

# Steps 11-12 need libcurl's headers (the C baseline) and PHP's curl
# extension (the PHP baseline): installed from Debian when missing, as
# fpm_bench.sh installs its servers. A policy-rc.d keeps apt from
# restarting php-fpm services (php-curl triggers that) while it runs.
curl_missing=()
echo '#include <curl/curl.h>' | ${CC:-cc} -E - >/dev/null 2>&1 || curl_missing+=(libcurl4-openssl-dev)
php -r 'exit(function_exists("curl_init") ? 0 : 1);' 2>/dev/null ||
  curl_missing+=("php$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')-curl")
command -v redis-server >/dev/null 2>&1 || curl_missing+=(redis-server)
if ((${#curl_missing[@]})); then
  echo "== installing ${curl_missing[*]} (for the service-call baselines and cache_url)"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  added_policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  { $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${curl_missing[@]}"; } >/dev/null ||
    echo "!! apt-get install ${curl_missing[*]} failed"
  [[ $added_policy ]] && $sudo rm -f /usr/sbin/policy-rc.d
fi
# The service-call benchmark also links libcurl.
${CC:-cc} "${CFLAGS[@]}" benches/request_bench.c -L$REL -lsnapb2b -lcurl -lcrypto \
  -Wl,-rpath,"$(pwd)/$REL" -o "$OUT/request_bench" || echo "!! benches/request_bench.c does not compile"

# 1 + 2: b2b_sign vs raw OpenSSL, and 1 vs 2 threads (one program, rounds interleaved).
measure c_sign "C: b2b_sign vs OpenSSL EVP_DigestSign, 1 and 2 threads" \
  "$OUT/sign_bench" "$KEY" "$BENCH_SECONDS" "$BENCH_REPEATS"

# 14-15: the merchant's side, b2b_server_token and b2b_server_check, against
# raw OpenSSL verification of the same data (one program, rounds interleaved;
# it generates its own provider key and signs before timing).
measure c_server "C: b2b_server_token and b2b_server_check vs OpenSSL EVP_DigestVerify" \
  "$OUT/server_bench" "$BENCH_SECONDS" "$BENCH_REPEATS"

# 3: PHP binding vs openssl_sign with the same PEM string.
measure php_sign "PHP: SnapB2B\\Signer::sign vs openssl_sign" \
  "${PHP[@]}" benches/sign_bench.php "$KEY" "$BENCH_SECONDS" "$BENCH_REPEATS"

# 4: Python binding vs cryptography.
measure py_sign "Python: snapb2b.sign vs cryptography" \
  python3 benches/sign_bench.py "$KEY" "$BENCH_SECONDS" "$BENCH_REPEATS"

# 5-7 need the sandbox provider; they run inside scripts/with-sandbox.sh.
sandbox_benches() {
  local dir=$SNAPB2B_SANDBOX_DIR config=$SNAPB2B_SANDBOX_DIR/config-snap.json
  local base ca
  base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$dir/sandbox.json")
  ca=$dir/ca.pem
  # Sandbox counters, read with curl: each read is one connection of its
  # own, counted before the answer is written, so a before/after pair
  # includes exactly one extra connection (the "after" read).
  stats() {
    curl -sf --cacert "$ca" "$base/sandbox/stats" |
      python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["connections"], s["token_requests"])'
  }
  local c0 r0 c1 r1

  # 7: 100 forced renewals on one client: the kept connection is reused.
  read -r c0 r0 < <(stats)
  measure renew "C: 100 forced renewals (b2b_client_invalidate + b2b_client_token) on one client" \
    "$OUT/client_bench" renew "$config" 100
  read -r c1 r1 < <(stats)
  [[ -n $c0 && -n $c1 ]] && fig renew_connections $((c1 - c0 - 1)) && fig renew_token_requests $((r1 - r0))
  # Baseline: 100 one-shot b2b_get_token calls, which keep nothing.
  read -r c0 r0 < <(stats)
  measure get_token "C: 100 one-shot b2b_get_token (baseline: no kept connection)" \
    "$OUT/client_bench" get_token "$config" 100
  read -r c1 r1 < <(stats)
  [[ -n $c0 && -n $c1 ]] && fig get_token_connections $((c1 - c0 - 1)) && fig get_token_token_requests $((r1 - r0))

  # 8: one-shot tokens with a full system trust store: the system bundle
  # (as Python finds it) plus the sandbox's CA, named by SSL_CERT_FILE for
  # both the library and the hand-written Python baseline.
  local bundle=$OUT/system-roots-plus-sandbox.pem system
  system=$(python3 -c 'import ssl; print(ssl.get_default_verify_paths().cafile or "")')
  { [[ -f $system ]] && cat "$system"; cat "$ca"; } >"$bundle"
  measure py_oneshot "Python: one-shot snapb2b.get_token vs a hand-written request (system trust store)" \
    env SSL_CERT_FILE="$bundle" SSL_CERT_DIR=/nonexistent \
    python3 benches/token_oneshot.py "$config" "$BENCH_SECONDS" "$BENCH_REPEATS"

  # 5: the cached-token fast path from C and from PHP.
  measure c_cached "C: b2b_client_token on a fresh cached token" \
    "$OUT/client_bench" cached "$config" "$BENCH_SECONDS" "$BENCH_REPEATS"
  measure php_cached "PHP: token on a fresh cached token" \
    "${PHP[@]}" benches/client_bench.php "$config" "$BENCH_SECONDS" "$BENCH_REPEATS"

  # 16-18: the token shared by a fleet through Redis (cache_url), with a
  # redis-server of this run's own on a free loopback port.
  redis_benches

  # 6: fresh PHP processes sharing one cache_file (and, as the baseline,
  # the same processes without it). Each scenario starts with no cache file.
  local cache=$OUT/token-cache.json
  processes() { # NAME COUNT sequential|concurrent CACHE_FILE|-
    local name=$1 count=$2 how=$3 file=$4 i fails=0 r0 r1 c0 start_at
    [[ $file == - ]] || rm -f "$file" "$file.lock"
    rm -f "$OUT"/proc-*.out
    read -r c0 r0 < <(stats)
    local t0=$EPOCHREALTIME
    if [[ $how == sequential ]]; then
      for ((i = 0; i < count; i++)); do
        "${PHP[@]}" benches/token_once.php "$config" "$file" >"$OUT/proc-$i.out" 2>&1 || fails=$((fails + 1))
      done
    else
      # All load PHP and the library first, then ask at the same instant.
      start_at=$(python3 -c 'import time; print(time.time() + 3)')
      local pids=()
      for ((i = 0; i < count; i++)); do
        "${PHP[@]}" benches/token_once.php "$config" "$file" "$start_at" >"$OUT/proc-$i.out" 2>&1 &
        pids+=($!)
      done
      for pid in "${pids[@]}"; do wait "$pid" || fails=$((fails + 1)); done
    fi
    local t1=$EPOCHREALTIME
    read -r _ r1 < <(stats)
    [[ -n $r0 && -n $r1 ]] && fig "${name}_token_requests" $((r1 - r0))
    fig "${name}_failures" $fails
    fig "${name}_fetched" "$(cat "$OUT"/proc-*.out | grep -c '^fetched')"
    fig "${name}_seconds" "$(python3 -c "print(round($t1 - $t0, 2))")"
    if [[ $how == concurrent ]]; then
      # How far apart the processes really asked (they aim at one instant).
      fig "${name}_spread_s" "$(cat "$OUT"/proc-*.out | awk 'NF == 2 { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
        END { printf "%.3f\n", max - min }')"
    fi
    if ((fails > 0)); then
      echo "!! $fails of $count processes failed; first failure:"
      grep -L -E '^(fetched|cached|unknown)( |$)' "$OUT"/proc-*.out | head -1 | xargs -r cat
    fi
  }
  echo "== PHP: 50 processes one after another, then 20 at once, with and without one cache_file"
  processes seq_cache 50 sequential "$cache"
  processes seq_nocache 50 sequential -
  processes conc_cache 20 concurrent "$cache"
  processes conc_nocache 20 concurrent -
  fig php_process_mode "$("${PHP[@]}" -r 'require "benches/php_common.php"; echo binding_has_native_client() ? "binding" : "raw-ffi";')"

  # 9: one PHP process creating a TokenClient per iteration (cache_file),
  # against one Signer::sign.
  read -r _ r0 < <(stats)
  measure php_loop "PHP: new TokenClient + getToken per iteration (cache_file) vs one Signer::sign" \
    "${PHP[@]}" benches/client_loop.php "$dir/config-doku.json" "$OUT/loop-cache.json" "$BENCH_SECONDS" "$BENCH_REPEATS"
  read -r _ r1 < <(stats)
  [[ -n $r0 && -n $r1 ]] && fig php_loop_token_requests $((r1 - r0))

  # 11-13: SNAP service calls (VA inquiry) against hand-written baselines.
  # The sandbox's `snap` config plus the service-call keys from sandbox.json.
  local service=$dir/config-service.json
  python3 - "$config" "$dir/sandbox.json" "$service" <<'PY'
import json, sys
config, sandbox = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
config.update(client_secret=sandbox["service_client_secret"], channel_id=sandbox["service_channel_id"])
json.dump(config, open(sys.argv[3], "w"), indent=1)
PY
  # The sandbox's own count of accepted service calls (and connections),
  # before and after each step: it must equal what the programs counted.
  svc_stats() {
    curl -sf --cacert "$ca" "$base/sandbox/stats" |
      python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["connections"], s["service_ok"], s["service_calls"])'
  }
  local step label s0 a0 s1 a1
  for step in c_request py_request php_request; do
    case $step in
      c_request) label="C: b2b_client_request vs a libcurl keep-alive loop with precomputed headers"
        set -- "$OUT/request_bench" "$service" "$BENCH_SECONDS" "$BENCH_REPEATS" ;;
      py_request) label="Python: Client.request vs http.client keep-alive + hmac/hashlib"
        set -- python3 benches/request_bench.py "$service" "$BENCH_SECONDS" "$BENCH_REPEATS" ;;
      php_request) label="PHP: TokenClient::request vs curl (new handle per call) + hash_hmac"
        set -- "${PHP[@]}" benches/request_bench.php "$service" "$BENCH_SECONDS" "$BENCH_REPEATS" ;;
    esac
    read -r c0 s0 a0 < <(svc_stats)
    measure "$step" "$label" "$@"
    read -r c1 s1 a1 < <(svc_stats)
    # Minus the "after" read's own connection.
    [[ -n $c0 && -n $c1 ]] && fig "${step}_sandbox_connections" $((c1 - c0 - 1)) &&
      fig "${step}_sandbox_ok" $((s1 - s0)) && fig "${step}_sandbox_calls" $((a1 - a0))
  done

  # 10: a php-fpm pool behind nginx, token page vs hello page (it reads the
  # sandbox's counters itself). Installing the servers is not timed.
  benches/fpm_bench.sh install || echo "!! nginx, php-fpm or wrk are missing and could not be installed"
  measure fpm "PHP-FPM (pm static, 8 children) behind nginx: token.php vs hello.php under wrk" \
    benches/fpm_bench.sh
  measure fpm_preload "PHP-FPM as above with the binding preloaded (opcache.preload, ffi.enable=preload)" \
    env FPM_FFI=preload FPM_FIGURES=fpm_preload benches/fpm_bench.sh
}
redis_benches() {
  local config=$SNAPB2B_SANDBOX_DIR/config-snap.json port dead rdir rpid
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rdir=$OUT/redis
  rm -rf "$rdir" && mkdir -p "$rdir"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$rdir" >"$rdir/log" 2>&1 &
  rpid=$!
  # Its round trip, for reference: PING over one kept connection (Python).
  python3 - "$port" >>"$FIGURES" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit(1)
        time.sleep(0.05)
took = []
for _ in range(2000):
    t = time.perf_counter()
    s.sendall(b"PING\r\n")
    assert s.recv(7) == b"+PONG\r\n"
    took.append(time.perf_counter() - t)
took.sort()
print("redis_ping_us {:.1f}".format(took[len(took) // 2] * 1e6))
PY
  # (A heredoc inside an `if` does not survive `export -f`.)
  local started=$?
  if ((started != 0)); then
    echo "!! redis-server did not start: steps 16-18 skipped"
    kill "$rpid" 2>/dev/null
    return 1
  fi
  tail -1 "$FIGURES"
  python3 - "$config" "redis://127.0.0.1:$port" "redis://127.0.0.1:$dead" "$OUT" <<'PY'
import json, sys
config, url, dead, out = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
def write(name, **extra):
    json.dump(dict(config, **extra), open("{}/config-{}.json".format(out, name), "w"))
write("redis", cache_url=url, cache_key_prefix="bench-hit:")
write("redis-miss", cache_url=url, cache_key_prefix="bench-miss:")
write("file-miss", cache_file=out + "/miss-token.json")
for h in range(4):
    write("fleet-redis-{}".format(h), cache_file="{}/fleet-redis-{}.json".format(out, h), cache_url=url,
          cache_key_prefix="bench-fleet:")
    write("fleet-noredis-{}".format(h), cache_file="{}/fleet-noredis-{}.json".format(out, h))
    write("fleet-down-{}".format(h), cache_file="{}/fleet-down-{}.json".format(out, h), cache_url=dead)
PY
  local base ca
  base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$SNAPB2B_SANDBOX_DIR/sandbox.json")
  ca=$SNAPB2B_SANDBOX_DIR/ca.pem
  token_requests() {
    curl -sf --cacert "$ca" "$base/sandbox/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token_requests"])'
  }

  # 16: 4 hosts (each its own cache_file) x 10 processes asking at one
  # instant: with one cache_url, without, and with cache_url's Redis down.
  fleet() { # NAME
    local name=$1 h i fails=0 r0 r1 start_at pids=()
    rm -f "$OUT"/fleet-"$name"-*.json.lock "$OUT"/fleet-"$name"-?.json "$OUT"/fleet-*.out
    r0=$(token_requests)
    start_at=$(python3 -c 'import time; print(time.time() + 2)')
    for h in 0 1 2 3; do
      for i in 0 1 2 3 4 5 6 7 8 9; do
        "$OUT/client_bench" once "$OUT/config-fleet-$name-$h.json" "$start_at" >"$OUT/fleet-$h-$i.out" 2>&1 &
        pids+=($!)
      done
    done
    for pid in "${pids[@]}"; do wait "$pid" || fails=$((fails + 1)); done
    r1=$(token_requests)
    [[ -n $r0 && -n $r1 ]] && fig "fleet_${name}_token_requests" $((r1 - r0))
    fig "fleet_${name}_failures" $fails
    fig "fleet_${name}_fetched" "$(cat "$OUT"/fleet-*.out | grep -c '^fetched')"
  }
  echo "== C: 4 hosts x 10 processes at once, each host its own cache_file, with and without one cache_url"
  fleet redis
  fleet noredis
  fleet down

  # 17: the in-memory hit with cache_url configured (Redis is not asked).
  measure c_cached_redis "C: b2b_client_token on a fresh cached token, cache_url set" \
    "$OUT/client_bench" cached_as c_client_token_cached_redis "$OUT/config-redis.json" "$BENCH_SECONDS" "$BENCH_REPEATS"

  # 18: a new client's first token served by the shared level (Redis, or
  # the host's cache_file as the comparison), after one process fetched it.
  "$OUT/client_bench" once "$OUT/config-redis-miss.json" 0 >/dev/null &&
    measure redis_miss "C: a new client's first token from Redis (connect + GET), median of 200" \
      "$OUT/client_bench" first_token c_first_token_redis_us "$OUT/config-redis-miss.json" 200
  rm -f "$OUT/miss-token.json" "$OUT/miss-token.json.lock"
  "$OUT/client_bench" once "$OUT/config-file-miss.json" 0 >/dev/null &&
    measure file_miss "C: a new client's first token from cache_file, median of 200" \
      "$OUT/client_bench" first_token c_first_token_file_us "$OUT/config-file-miss.json" 200

  kill "$rpid" 2>/dev/null
  wait "$rpid" 2>/dev/null
  return 0
}
export -f sandbox_benches redis_benches
# Arrays do not cross `bash -c`; the sandbox part re-declares what it needs.
scripts/with-sandbox.sh "$OUT/sandbox" -- bash -c 'PHP=(php -d ffi.enable=1); sandbox_benches' ||
  echo "!! the sandbox benchmarks could not run"

fig library_after "$(stat -c %y $REL/libsnapb2b.so | cut -d. -f1)"

# The table, from the figures file.
python3 benches/report.py "$FIGURES" build/bench-results.md
