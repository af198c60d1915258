#!/usr/bin/env bash
# `make install` into a temporary prefix (with DESTDIR), then build the C
# example with pkg-config against the installed files only, and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
prefix=/opt/snapb2b-test
make --no-print-directory -s install PREFIX=$prefix DESTDIR="$stage" >/dev/null
root=$stage$prefix
for f in lib/libsnapb2b.so lib/libsnapb2b.so.0 lib/libsnapb2b.a include/snapb2b.h lib/pkgconfig/snapb2b.pc; do
  [[ -e $root/$f ]] || { echo "install: missing $f" >&2; exit 1; }
done
[[ $(readlink "$root/lib/libsnapb2b.so") == libsnapb2b.so.0 ]] || { echo "install: bad .so symlink" >&2; exit 1; }
# The .pc file names the real prefix; point pkg-config at the staged copy.
export PKG_CONFIG_PATH=$root/lib/pkgconfig
flags=$(pkg-config --define-variable=prefix="$root" --define-variable=libdir="$root/lib" \
  --define-variable=includedir="$root/include" --cflags --libs snapb2b)
cc -Wall -Werror examples/get_token.c $flags -o "$stage/get_token"
out=$(LD_LIBRARY_PATH=$root/lib "$stage/get_token" 2>&1 || true)
[[ $out == *"usage:"* ]] || { echo "installed example did not run: $out" >&2; exit 1; }
# (grep without -q: an early exit would SIGPIPE ldd and fail the pipeline.)
LD_LIBRARY_PATH=$root/lib ldd "$stage/get_token" | grep "libsnapb2b.so.0 => $root/lib" >/dev/null \
  || { echo "example is not linked against the installed libsnapb2b.so.0" >&2; exit 1; }

# Static: the archive plus what `pkg-config --static` says it needs, with no
# libsnapb2b.so involved at run time.
static_libs=$(pkg-config --define-variable=libdir="$root/lib" --static --libs-only-l snapb2b | sed 's/-lsnapb2b//')
cc -Wall -Werror -I"$root/include" examples/get_token.c "$root/lib/libsnapb2b.a" $static_libs -o "$stage/get_token_static"
out=$("$stage/get_token_static" 2>&1 || true)
[[ $out == *"usage:"* ]] || { echo "statically linked example did not run: $out" >&2; exit 1; }
if ldd "$stage/get_token_static" | grep libsnapb2b >/dev/null; then
  echo "the static example still loads libsnapb2b.so" >&2; exit 1
fi
echo "install: 2 passed, 0 failed"
