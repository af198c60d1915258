#!/usr/bin/env bash
# PHP as legacy shops deploy it: a php-fpm pool (pm = static, 8 children)
# behind nginx, both started here on loopback and stopped on exit, failure
# or Ctrl-C. Three pages, loaded with wrk in interleaved rounds:
#   hello.php       echo "ok" (the baseline: nginx + FastCGI + PHP alone)
#   token.php       new SnapB2B\TokenClient (doku sandbox config + a cache_file
#                   shared by the workers), getToken(), a service signature;
#                   the config from a PHP file returning an array (opcache)
#   token_json.php  the same with the config JSON read and decoded per request
#
#   scripts/with-sandbox.sh DIR -- benches/fpm_bench.sh     (run.sh does this)
#   benches/fpm_bench.sh install      only install what is missing, then exit
#
# Prints "name value..." figure lines on stdout, progress on stderr:
#   fpm_hello_rps / fpm_token_rps / fpm_token_json_rps
#                                   best requests/s of the rounds
#   fpm_token_p50_ms / _p99_ms      median over the rounds of wrk's percentiles
#   fpm_sandbox_token_requests      token requests the sandbox saw (must be 1)
# A round is FPM_SECONDS (default 2) of wrk at FPM_CONCURRENCY (default 20)
# connections: bounded in time, so in requests (a few thousand on 2 cores);
# BENCH_REPEATS (default 5) counts the rounds of each page.
# FPM_FFI=true (default: FFI::cdef in every request, as most shops enable
# it) or preload (the binding's production advice: opcache.preload of
# bindings/php/preload.php, ffi.enable=preload). Installs nginx,
# php-fpm and wrk from Debian when missing. Never leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${FPM_SECONDS:-2}
concurrency=${FPM_CONCURRENCY:-20}
rounds=${BENCH_REPEATS:-5}
ffi_mode=${FPM_FFI:-true}
threads=2 # wrk threads: the machine has 2 cores, shared with nginx and php-fpm
dir=$root/${OUT:-build/bench}/fpm
lib=$root/target/release/libsnapb2b.so
say() { echo "   $*" >&2; }
die() { echo "fpm_bench: $*" >&2; exit 1; }
[[ $ffi_mode == true || $ffi_mode == preload ]] || die "FPM_FFI must be true or preload"

[[ -f $lib ]] || die "$lib is missing: run \`make build\` first"

# --- tools: installed quietly, only when missing (as install-test-deps.sh does)
php_version=$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;') || die "php (CLI) is missing"
find_fpm() { command -v "php-fpm$php_version" || command -v /usr/sbin/"php-fpm$php_version"; }
missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
find_fpm >/dev/null || missing+=("php$php_version-fpm")
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    sudo=sudo
  fi
  say "installing ${missing[*]}"
  # Debian starts nginx and php-fpm as services on install unless a
  # policy-rc.d says no: add a temporary one when the system has none.
  # DPkg::Lock::Timeout: wait for another apt run instead of failing.
  added_policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  status=0
  { $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}"; } \
    >/dev/null || status=$?
  [[ $added_policy ]] && $sudo rm -f /usr/sbin/policy-rc.d
  ((status == 0)) || die "apt-get install ${missing[*]} failed"
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)
fpm=$(find_fpm)
# (not grep -q: its early exit would fail the pipe under pipefail)
"$fpm" -m 2>/dev/null | grep -x FFI >/dev/null || die "$fpm has no FFI extension"
[[ ${1:-} == install ]] && exit 0
: "${SNAPB2B_SANDBOX_DIR:?run inside scripts/with-sandbox.sh}"

# --- configuration, all under $dir
rm -rf "$dir"
mkdir -p "$dir/www" "$dir/tmp"
cp benches/fpm/hello.php benches/fpm/token.php benches/fpm/token_json.php "$dir/www/"
sock=$dir/php-fpm.sock
((${#sock} < 100)) || die "socket path too long for a unix socket: $sock"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
config=$SNAPB2B_SANDBOX_DIR/config-doku.json
cache=$dir/token-cache.json
# The same config as PHP source (what token.php requires), outside the web root.
config_php=$dir/config.php
php -r '$c = json_decode(file_get_contents($argv[1]), true, 8, JSON_THROW_ON_ERROR); $c["cache_file"] = $argv[2];
  file_put_contents($argv[3], "<?php\nreturn " . var_export($c, true) . ";\n");' "$config" "$cache" "$config_php" ||
  die "cannot write $config_php from $config"
as_root=""
[[ $(id -u) -eq 0 ]] && as_root=1

{
  echo "[global]"
  echo "pid = $dir/php-fpm.pid"
  echo "error_log = $dir/php-fpm.log"
  echo "daemonize = no"
  echo "[bench]"
  # As root the pool must name a user; the current one (php-fpm -R allows root).
  [[ $as_root ]] && echo "user = $(id -un)" && echo "group = $(id -gn)"
  echo "listen = $sock"
  echo "listen.mode = 0600"
  echo "pm = static"
  echo "pm.max_children = 8"
  echo "env[SNAPB2B_LIB] = $lib"
  echo "env[BENCH_ROOT] = $root"
  echo "env[BENCH_CONFIG] = $config"
  echo "env[BENCH_CACHE] = $cache"
  echo "env[BENCH_CONFIG_PHP] = $config_php"
  # FFI::cdef outside preload needs ffi.enable = true (the default allows preload only).
  [[ $ffi_mode == true ]] && echo "php_admin_value[ffi.enable] = true"
  echo "php_admin_flag[display_errors] = off"
  echo "php_admin_flag[log_errors] = on"
  echo "php_admin_value[error_log] = $dir/php-errors.log"
} >"$dir/php-fpm.conf"

cat >"$dir/nginx.conf" <<EOF
$([[ $as_root ]] && echo "user $(id -un) $(id -gn);")
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $dir/www;
    location ~ \.php\$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_pass unix:$sock;
    }
  }
}
EOF

# --- start both; stop them (by pid) whatever happens
fpm_pid="" nginx_pid=""
cleanup() {
  local pids=() pid i
  [[ $nginx_pid ]] && pids+=("$nginx_pid")
  if [[ $fpm_pid ]]; then
    pids+=("$fpm_pid")
    # Its children, should the master need SIGKILL (they would outlive it).
    pids+=($(pgrep -P "$fpm_pid" 2>/dev/null || true))
  fi
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "${pids[@]}" 2>/dev/null || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && { say "pid $pid did not stop on TERM: KILL"; kill -KILL "$pid" 2>/dev/null || true; }
  done
  wait 2>/dev/null || true
  rm -f "$sock"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$nginx" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" 2>&1 >&2 ||
  die "nginx rejects $dir/nginx.conf"
fpm_args=()
if [[ $ffi_mode == preload ]]; then
  # Preloading is master-wide (PHP_INI_SYSTEM): php-fpm's -d, not the pool.
  # The header goes through ffi.preload: preload.php's own FFI::load()
  # does not work under opcache.preload_user, which root needs.
  php bindings/php/preload.php --write-header "$dir/snapb2b_ffi.h" --lib "$lib" >&2 ||
    die "preload.php --write-header failed"
  fpm_args=(-d ffi.enable=preload -d ffi.preload="$dir/snapb2b_ffi.h"
    -d opcache.enable=1 -d opcache.preload="$root/bindings/php/preload.php")
  [[ $as_root ]] && fpm_args+=(-d opcache.preload_user="$(id -un)")
fi
SNAPB2B_LIB=$lib "$fpm" --nodaemonize --fpm-config "$dir/php-fpm.conf" ${as_root:+-R} \
  -c /etc/php/"$php_version"/fpm/php.ini "${fpm_args[@]}" >"$dir/php-fpm.out" 2>&1 &
fpm_pid=$!
"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" >"$dir/nginx.out" 2>&1 &
nginx_pid=$!

url=http://127.0.0.1:$port
get() { curl -s --max-time 30 -o "$dir/page.out" -w '%{http_code}' "$url/$1" || true; }
for ((i = 0; i < 100; i++)); do
  [[ $(get hello.php) == 200 ]] && break
  kill -0 "$fpm_pid" 2>/dev/null || die "php-fpm exited: $(cat "$dir/php-fpm.out" "$dir/php-fpm.log" 2>/dev/null)"
  kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited: $(cat "$dir/nginx.out" "$dir/nginx-error.log" 2>/dev/null)"
  sleep 0.1
done
[[ $(cat "$dir/page.out" 2>/dev/null) == ok ]] || die "hello.php did not answer \"ok\" within 10 s: $(cat "$dir/page.out" "$dir/nginx-error.log" 2>/dev/null)"

# Sandbox token requests: before any token.php request, and after all.
base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$SNAPB2B_SANDBOX_DIR/sandbox.json" 2>/dev/null) ||
  die "no sandbox running in $SNAPB2B_SANDBOX_DIR (its sandbox.json)"
token_requests() {
  curl -sf --max-time 10 --cacert "$SNAPB2B_SANDBOX_DIR/ca.pem" "$base/sandbox/stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token_requests"])' 2>/dev/null
}
r0=$(token_requests) || die "cannot read $base/sandbox/stats"
code=$(get token.php)
[[ $code == 200 && $(cat "$dir/page.out") == "ok fetched "* ]] ||
  die "token.php answered HTTP $code: $(cat "$dir/page.out") $(cat "$dir/php-errors.log" 2>/dev/null)"
code=$(get token_json.php)
[[ $code == 200 && $(cat "$dir/page.out") == "ok cached "* ]] ||
  die "token_json.php answered HTTP $code: $(cat "$dir/page.out") $(cat "$dir/php-errors.log" 2>/dev/null)"

# One round: SECONDS of PAGE at CONCURRENCY; prints wrk's result line.
round() { # PAGE SECONDS
  wrk -t"$threads" -c"$concurrency" -d"$2"s --timeout 10s -s benches/fpm/wrk.lua "$url/$1" |
    grep '^result ' || die "wrk failed on $1"
}
# Warm-up (not counted): every worker compiles the pages and loads the library.
round hello.php 1 >/dev/null
round token.php 1 >/dev/null
round token_json.php 1 >/dev/null
say "$rounds rounds of $seconds s at concurrency $concurrency, pages interleaved"
: >"$dir/rounds.txt"
for ((r = 0; r < rounds; r++)); do
  for page in hello token token_json; do
    line=$(round $page.php "$seconds")
    # On Ctrl-C wrk stops without failing (and bash, seeing it exit
    # normally, runs no INT trap) while the servers quit: stop here.
    [[ $(get hello.php) == 200 ]] || die "nginx or php-fpm stopped during the $page round (interrupted?)"
    echo "$page $line" >>"$dir/rounds.txt"
    say "$page: $line"
  done
done
r1=$(token_requests) || die "cannot read $base/sandbox/stats"
for page in token token_json; do # still served from the cache after the load
  code=$(get $page.php)
  [[ $code == 200 && $(cat "$dir/page.out") == "ok cached "* ]] ||
    die "$page.php after the load answered HTTP $code: $(cat "$dir/page.out")"
done

# Figure names start with FPM_FIGURES (default fpm): run.sh measures both
# ffi.enable modes in one run, as fpm_ and fpm_preload_.
figures=${FPM_FIGURES:-fpm}
python3 - "$dir/rounds.txt" "$figures" <<'EOF'
import statistics, sys
rounds = {"hello": [], "token": [], "token_json": []}
for line in open(sys.argv[1]):
    page, _, n, us, p50, p99, errors = line.split()
    rounds[page].append((int(n) / (int(us) / 1e6), int(p50) / 1000, int(p99) / 1000, int(errors), int(n)))
for page, rs in rounds.items():
    print(sys.argv[2] + "_%s_rps %.1f" % (page, max(r[0] for r in rs)))
    print(sys.argv[2] + "_%s_p50_ms %.2f" % (page, statistics.median(r[1] for r in rs)))
    print(sys.argv[2] + "_%s_p99_ms %.2f" % (page, statistics.median(r[2] for r in rs)))
    print(sys.argv[2] + "_%s_errors %d" % (page, sum(r[3] for r in rs)))
    print(sys.argv[2] + "_%s_http_requests %d" % (page, sum(r[4] for r in rs)))
EOF
echo "${figures}_sandbox_token_requests $((r1 - r0))"
echo "${figures}_setup ffi.enable=$ffi_mode, $rounds rounds x $seconds s, concurrency $concurrency, wrk -t$threads, pm static 8 children, php $php_version"
