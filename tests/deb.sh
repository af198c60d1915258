#!/usr/bin/env bash
# The .debs from `make deb` installed for real (dpkg -i, as root), used the
# way their users would, then removed and purged:
#   - the C example built with pkg-config against /usr only, run against
#     the packaged snapb2b-sandbox;
#   - the Python package (a copy away from the repository, no SNAPB2B_LIB)
#     and PHP's FFI find the system library by its soname;
#   - after dpkg -r / dpkg -P no file of the packages and no ldconfig entry
#     is left.
#   tests/deb.sh [DEBDIR]   (default build/deb)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
debdir=$(cd "${1:-build/deb}" && pwd) || exit 1
packages=(snapb2b libsnapb2b-dev libsnapb2b0)  # dependents first, for removal
[[ $(id -u) -eq 0 ]] || { echo "deb: must run as root (dpkg -i)" >&2; exit 1; }
debs=()
for pkg in "${packages[@]}"; do
  deb=$(ls "$debdir/${pkg}_"*.deb 2>/dev/null | tail -1)
  [[ -n $deb ]] || { echo "deb: no $pkg .deb in $debdir (run make deb)" >&2; exit 1; }
  debs+=("$deb")
done
installed() { [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]; }
known() { dpkg-query -W "$1" >/dev/null 2>&1 && [[ $(dpkg-query -W -f='${db:Status-Status}' "$1") != not-installed ]]; }
# This test removes what it installs: it must not take away someone's own copy.
for pkg in "${packages[@]}"; do
  ! known "$pkg" || { echo "deb: $pkg is already on this system; remove it first (dpkg -P $pkg)" >&2; exit 1; }
done
if ldconfig -p | grep snapb2b >/dev/null; then
  echo "deb: a libsnapb2b is already in the loader cache (ldconfig -p); the soname checks would prove nothing:" >&2
  ldconfig -p | grep snapb2b >&2
  exit 1
fi

# dpkg takes the system-wide lock that apt-get holds: wait for another
# install to finish (up to 2 min) rather than fail.
dpkg_waiting() {
  local out
  for _ in $(seq 1 60); do
    out=$(dpkg "$@" 2>&1) && { echo "$out"; return 0; }
    grep -q 'lock' <<<"$out" || { echo "$out"; return 1; }
    sleep 2
  done
  echo "$out"; return 1
}

tmp=$(mktemp -d)
cleanup() {
  dpkg_waiting -P "${packages[@]}" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
passed=0 failed=0
check() { # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}

# --- install ---------------------------------------------------------------
out=$(dpkg_waiting -i "${debs[@]}")
check "dpkg -i succeeds ($out)" test $? -eq 0
for pkg in "${packages[@]}"; do
  check "$pkg is installed" installed "$pkg"
  dpkg -L "$pkg" >"$tmp/$pkg.list"
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch
real=$(readlink -f "$libdir/libsnapb2b.so.0.1.0")
is_packaged_lib() { # PATH: the packaged library, by whatever path (/lib is /usr/lib with usrmerge)
  [[ -n $1 && $(readlink -f "$1") == "$real" ]]
}
check "ldconfig resolves libsnapb2b.so.0 to the packaged file (the package's trigger ran)" \
  is_packaged_lib "$(ldconfig -p | sed -n 's/^\s*libsnapb2b\.so\.0 (.*) => //p')"
for f in /usr/bin/snapb2b /usr/bin/snapb2b-sandbox $libdir/libsnapb2b.so.0.1.0; do
  check "$f is stripped" bash -c '! readelf -S "$0" | grep -Eq "\.(debug_info|symtab) "' "$f"
done
check "snapb2b --version names the package's version" \
  grep -q "$(dpkg-query -W -f='${Version}' snapb2b | cut -d- -f1)" <<<"$(/usr/bin/snapb2b --version 2>&1)"
check "dpkg --verify finds every file as packaged" dpkg --verify "${packages[@]}"

# --- C: pkg-config against the installed files, away from the repository ----
mkdir -p "$tmp/c"
cp examples/get_token.c "$tmp/c/"
flags=$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs snapb2b)
check "pkg-config names the system library ($flags)" grep -q -- "-lsnapb2b" <<<"$flags"
(cd "$tmp/c" && env -u LIBRARY_PATH -u C_INCLUDE_PATH -u CPATH cc -Wall -Werror get_token.c $flags -o get_token)
check "the C example builds against /usr/include and $libdir" test -x "$tmp/c/get_token"
check "the C example loads the packaged libsnapb2b.so.0" \
  is_packaged_lib "$(env -u LD_LIBRARY_PATH ldd "$tmp/c/get_token" | sed -n 's/^\s*libsnapb2b\.so\.0 => \(\S*\) .*/\1/p')"

# Static: the packaged archive (debug info stripped) still links and runs.
static_libs=$(env -u PKG_CONFIG_PATH pkg-config --static --libs-only-l snapb2b | sed 's/-lsnapb2b//')
(cd "$tmp/c" && cc -Wall -Werror get_token.c "$libdir/libsnapb2b.a" $static_libs -o get_token_static 2>&1)
check "the C example links statically with $libdir/libsnapb2b.a" test -x "$tmp/c/get_token_static"
check "the static example needs no libsnapb2b.so" bash -c '! ldd "$0" | grep -q snapb2b' "$tmp/c/get_token_static"

# Each language's example against the packaged sandbox, from $tmp.
export SNAPB2B_SANDBOX_BIN=/usr/bin/snapb2b-sandbox
unset SNAPB2B_LIB LD_LIBRARY_PATH PYTHONPATH
sandbox=$tmp/sandbox
token_ok() { # OUTPUT: a masked token for provider doku
  grep -q '^provider:   doku$' <<<"$1" && grep -Eq '^token:      [^ ]{6}\.\.\.[^ ]{4} \(Bearer\)$' <<<"$1"
}
for bin in get_token get_token_static; do
  out=$(cd "$tmp" && "$repo/scripts/with-sandbox.sh" "$sandbox" -- bash -c '"$0" "$SNAPB2B_SANDBOX_DIR/config-doku.json"' "$tmp/c/$bin" 2>&1)
  check "C example ($bin): a token from the packaged sandbox ($out)" token_ok "$out"
done

# --- Python: the package copied out, no library of its own ------------------
mkdir -p "$tmp/py"
cp -r bindings/python/snapb2b "$tmp/py/"
rm -f "$tmp/py/snapb2b/"*.so*
cp examples/get_token.py "$tmp/py/"
probe='
import os, runpy, sys
sys.path.insert(0, os.getcwd())  # the copy here; -I keeps everything else out
sys.argv = ["get_token.py", sys.argv[1]]
try:
    runpy.run_path("get_token.py", run_name="__main__")
except SystemExit as e:
    code = e.code
import snapb2b._native as native
print("loaded:", native.path)
for m in sorted({l.split()[-1] for l in open("/proc/self/maps") if "snapb2b.so" in l}):
    print("mapped:", m)
sys.exit(code)
'
out=$(cd "$tmp/py" && "$repo/scripts/with-sandbox.sh" "$sandbox" -- \
  bash -c 'python3 -I -c "$0" "$SNAPB2B_SANDBOX_DIR/config-doku.json"' "$probe" 2>&1)
check "Python example: a token ($out)" token_ok "$out"
check "Python: loaded by soname through the system loader" grep -q '^loaded: libsnapb2b.so.0$' <<<"$out"
mapped=$(sed -n 's/^mapped: //p' <<<"$out")
check "Python: the one libsnapb2b mapped is the packaged file ($mapped)" is_packaged_lib "$mapped"

# --- PHP: FFI::cdef by soname ---------------------------------------------
if command -v php >/dev/null; then
  out=$(cd "$tmp" && php -d ffi.enable=1 -r '
    $ffi = FFI::cdef("const char *b2b_version(void);", "libsnapb2b.so.0");
    $v = $ffi->b2b_version();
    echo is_string($v) ? $v : FFI::string($v), "\n";
    foreach (file("/proc/self/maps") as $l) {
      if (strpos($l, "snapb2b.so") !== false) { echo substr(trim($l), strrpos(trim($l), " ") + 1), "\n"; break; }
    }' 2>&1)
  { read -r php_version; read -r php_mapped; } <<<"$out"
  check "PHP FFI::cdef(..., 'libsnapb2b.so.0'): b2b_version() answers ($out)" \
    test "$php_version" = "$(dpkg-query -W -f='${Version}' libsnapb2b0 | cut -d- -f1)"
  check "PHP: the library mapped is the packaged file" is_packaged_lib "$php_mapped"
else
  echo "deb: php is not installed: PHP check skipped" >&2
fi

# --- removal ---------------------------------------------------------------
out=$(dpkg_waiting -r "${packages[@]}")
check "dpkg -r succeeds ($out)" test $? -eq 0
for pkg in "${packages[@]}"; do
  # Folders may be shared with other packages (/usr/lib/...): only files count.
  left=$(while read -r f; do [[ -e $f && ! -d $f ]] || [[ -L $f ]] && echo "$f"; done <"$tmp/$pkg.list")
  check "dpkg -r $pkg: none of its files left ($left)" test -z "$left"
done
out=$(dpkg_waiting -P "${packages[@]}")
check "dpkg -P succeeds ($out)" test $? -eq 0
for pkg in "${packages[@]}"; do
  check "dpkg -P $pkg: dpkg keeps no record of it" bash -c '! dpkg-query -W -f="\${db:Status-Status}" "$0" 2>/dev/null | grep -qv not-installed' "$pkg"
done
check "the loader cache has no libsnapb2b (ldconfig -p)" bash -c '! ldconfig -p | grep -q snapb2b'
check "no pkg-config snapb2b left" bash -c '! env -u PKG_CONFIG_PATH pkg-config --exists snapb2b'

echo "deb: $passed passed, $failed failed"
((failed == 0))
