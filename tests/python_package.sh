#!/usr/bin/env bash
# The Python distributions as a user gets them: `python -m build --sdist
# --wheel` on bindings/python, then each installed into a fresh venv and
# used from a folder where the checkout is not visible, running
# examples/get_token.py (copied out) against the sandbox. Checks that the
# package loads its own bundled libsnapb2b.so, that the wheel is tagged
# py3-none-<platform> and installs on the oldest and newest Pythons found,
# that the bundled copy carries no debug info, and that the sdist builds the
# library with cargo (CARGO_TARGET_DIR=build/cargo-python keeps it warm).
#   tests/python_package.sh          (after `make build`)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
python=${PYTHON:-$repo/build/venv/bin/python}
[[ -x $python ]] || { echo "python-package: no $python (run scripts/install-test-deps.sh)" >&2; exit 1; }
[[ -f target/release/libsnapb2b.so ]] || { echo "python-package: run make build first" >&2; exit 1; }
export SNAPB2B_SANDBOX_BIN=$repo/target/release/snapb2b-sandbox
export CARGO_TARGET_DIR=${SNAPB2B_PY_CARGO_TARGET_DIR:-$repo/build/cargo-python}
unset SNAPB2B_LIB SNAPB2B_BUNDLE PYTHONPATH LD_LIBRARY_PATH SNAPB2B_WRITE_HEADER

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}
build_id() { readelf -n "$1" | sed -n 's/^\s*Build ID: //p'; }

# --- build ------------------------------------------------------------------
dist=$tmp/dist
"$python" -m build --sdist --wheel --outdir "$dist" bindings/python >"$tmp/build.log" 2>&1
status=$?
rm -rf bindings/python/build bindings/python/snapb2b.egg-info  # in-tree leftovers
check "python -m build succeeds (log: $(tail -5 "$tmp/build.log"))" test $status -eq 0
check "the build prints no deprecation warning ($(grep -i deprecat "$tmp/build.log" | head -3))" \
  bash -c '! grep -qi deprecat "$0"' "$tmp/build.log"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' bindings/python/pyproject.toml)
platform=$("$python" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
wheel=$dist/snapb2b-$version-py3-none-$platform.whl
sdist=$dist/snapb2b-$version.tar.gz
check "the wheel is tagged py3-none-$platform ($(ls "$dist"))" test -f "$wheel"
check "the sdist is there" test -f "$sdist"
[[ -f $wheel && -f $sdist ]] || { echo "python-package: $passed passed, $failed failed"; exit 1; }

# The wheel: the checkout's library, its debug info stripped.
mkdir -p "$tmp/wheel"
(cd "$tmp/wheel" && "$python" -m zipfile -e "$wheel" .)
bundled=$tmp/wheel/snapb2b/libsnapb2b.so
check "the wheel carries snapb2b/libsnapb2b.so" test -f "$bundled"
check "the bundled library is the checkout's build (same build id)" \
  test "$(build_id "$bundled")" = "$(build_id target/release/libsnapb2b.so)"
check "the bundled library has no debug info" bash -c '! readelf -S "$0" | grep -q "\.debug_"' "$bundled"
size=$(stat -c %s "$bundled")
echo "python-package: bundled libsnapb2b.so $size bytes (checkout build $(stat -L -c %s target/release/libsnapb2b.so)), wheel $(stat -c %s "$wheel") bytes"
check "the bundled library is under 4 MB ($size)" test "$size" -lt 4000000
check "WHEEL says Root-Is-Purelib: false" grep -q '^Root-Is-Purelib: false' "$tmp"/wheel/snapb2b-*.dist-info/WHEEL
check "METADATA has License-Expression: MIT" grep -q '^License-Expression: MIT$' "$tmp"/wheel/snapb2b-*.dist-info/METADATA

# auditwheel: which manylinux tag the wheel could have, and which system
# libraries it needs from outside any manylinux policy.
audit=$("$python" -m auditwheel show "$wheel" 2>&1)
check "auditwheel show reads the wheel ($audit)" grep -q 'is consistent with' <<<"$audit"
echo "python-package: auditwheel: $(tr '\n' ' ' <<<"$audit" | sed 's/  */ /g; s/^ //')"
for needed in $(objdump -p "$bundled" | awk '/NEEDED/ {print $2}'); do
  case $needed in libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libgcc_s.so.*|ld-linux*) continue ;; esac
  check "auditwheel names $needed, which the library needs from the system" grep -q "$needed" <<<"$audit"
done

# The sdist: the Rust workspace under rust/, no build output.
listing=$(tar tzf "$sdist")
for f in rust/Cargo.toml rust/Cargo.lock rust/crates/snapb2b-ffi/build.rs rust/crates/snapb2b-ffi/cbindgen.toml \
  rust/crates/snapb2b-ffi/src/lib.rs rust/crates/snapb2b/src/lib.rs setup.py pyproject.toml snapb2b/_native.py; do
  check "the sdist has $f" grep -qx "snapb2b-$version/$f" <<<"$listing"
done
check "the sdist has no built library or target/" bash -c '! grep -Eq "\.so$|/target/" <<<"$0"' "$listing"

# --- install and run, away from the checkout ------------------------------
run_example() { # NAME VENV: get_token.py with the venv's Python, from $tmp/NAME
  local name=$1 venv=$2 out site
  mkdir -p "$tmp/$name"
  cp examples/get_token.py "$tmp/$name/"
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
  # The example's own process reports the library it loaded and mapped.
  local probe='
import runpy, sys
sys.argv = ["get_token.py", sys.argv[1]]
code = 0
try:
    runpy.run_path("get_token.py", run_name="__main__")
except SystemExit as e:
    code = e.code
import snapb2b, snapb2b._native as native
print("module:", snapb2b.__file__)
print("loaded:", native.path)
for m in sorted({l.split()[-1] for l in open("/proc/self/maps") if "snapb2b" in l and ".so" in l}):
    print("mapped:", m)
sys.exit(code)
'
  out=$(cd "$tmp/$name" && "$repo/scripts/with-sandbox.sh" "$tmp/$name/sandbox" -- \
    bash -c '"$0" -I -c "$1" "$SNAPB2B_SANDBOX_DIR/config-doku.json"' "$venv/bin/python" "$probe" 2>&1)
  check "$name: get_token.py gets a token ($out)" \
    bash -c 'grep -q "^provider:   doku$" <<<"$0" && grep -Eq "^token:      [^ ]{6}\.\.\.[^ ]{4} \(Bearer\)$" <<<"$0"' "$out"
  check "$name: snapb2b imported from the venv" grep -qx "module: $site/snapb2b/__init__.py" <<<"$out"
  check "$name: loaded the bundled library" grep -qx "loaded: $site/snapb2b/libsnapb2b.so" <<<"$out"
  check "$name: the only libsnapb2b mapped is the bundled one" \
    test "$(sed -n 's/^mapped: //p' <<<"$out")" = "$site/snapb2b/libsnapb2b.so"
}

new_venv() { # INTERPRETER DIR
  "$1" -m venv "$2" >/dev/null 2>&1 || "$1" -m venv --without-pip "$2"
}

# The wheel, on this Python and on the oldest and newest found.
interpreters=("$(readlink -f "$("$python" -c 'import sys; print(sys._base_executable)')")")
for v in 3.8 3.13; do
  for candidate in "$(command -v python$v 2>/dev/null)" "$(pyenv root 2>/dev/null)"/versions/$v*/bin/python$v; do
    [[ -n $candidate && -x $candidate ]] && "$candidate" -c '' 2>/dev/null && { interpreters+=("$candidate"); break; }
  done
done
echo "python-package: the wheel on ${interpreters[*]}"
for interpreter in "${interpreters[@]}"; do
  tag=$("$interpreter" -c 'import sys; print("py%d%d" % sys.version_info[:2])')
  new_venv "$interpreter" "$tmp/venv-wheel-$tag"
  (cd "$tmp" && "$tmp/venv-wheel-$tag/bin/python" -m pip install -q --no-index --no-deps \
    --disable-pip-version-check "$wheel") >"$tmp/pip-$tag.log" 2>&1
  check "wheel installs on $tag ($(tail -3 "$tmp/pip-$tag.log"))" test $? -eq 0
  run_example "wheel-$tag" "$tmp/venv-wheel-$tag"
done

# The sdist: pip builds the library with cargo (no cached wheel).
new_venv "${interpreters[0]}" "$tmp/venv-sdist"
start=$(date +%s)
(cd "$tmp" && "$tmp/venv-sdist/bin/python" -m pip install -q --no-cache-dir --no-deps \
  --disable-pip-version-check "$sdist") >"$tmp/pip-sdist.log" 2>&1
check "sdist installs (builds with cargo) ($(tail -5 "$tmp/pip-sdist.log"))" test $? -eq 0
echo "python-package: sdist install took $(($(date +%s) - start)) s (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
sdist_lib=$("$tmp/venv-sdist/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')/snapb2b/libsnapb2b.so
check "the sdist's library has no debug info" bash -c '! readelf -S "$0" | grep -q "\.debug_"' "$sdist_lib"
check "the sdist's library has the soname libsnapb2b.so.0" \
  grep -q 'SONAME *libsnapb2b.so.0$' <<<"$(objdump -p "$sdist_lib")"
run_example sdist "$tmp/venv-sdist"

echo "python-package: $passed passed, $failed failed"
((failed == 0))
