#!/usr/bin/env bash
# `make install` into a temporary prefix (with DESTDIR) and without cargo on
# PATH (as under sudo), then build the C example with pkg-config against the
# installed files only, and run it; check the CLI, its man page and
# completions; `make uninstall` removes everything again.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
prefix=/opt/snapb2b-test
nocargo=(env PATH=/usr/bin:/bin)
if "${nocargo[@]}" sh -c 'command -v cargo' >/dev/null; then
  echo "install: cargo is in /usr/bin or /bin: the no-cargo install is not tested" >&2; exit 1
fi
# Without the built files install stops and says what to do.
if out=$("${nocargo[@]}" make --no-print-directory -s install REL="$stage/nothing" PREFIX=$prefix DESTDIR="$stage" 2>&1); then
  echo "install without a build succeeded" >&2; exit 1
fi
[[ $out == *'run `make build` first'* ]] || { echo "install without a build: $out" >&2; exit 1; }
"${nocargo[@]}" make --no-print-directory -s install PREFIX=$prefix DESTDIR="$stage" >/dev/null
root=$stage$prefix
for f in lib/libsnapb2b.so lib/libsnapb2b.so.0 lib/libsnapb2b.a include/snapb2b.h lib/pkgconfig/snapb2b.pc \
  bin/snapb2b bin/snapb2b-sandbox share/man/man1/snapb2b.1 share/bash-completion/completions/snapb2b \
  share/zsh/site-functions/_snapb2b share/fish/vendor_completions.d/snapb2b.fish; do
  [[ -e $root/$f ]] || { echo "install: missing $f" >&2; exit 1; }
done
[[ $("$root/bin/snapb2b" --version) == "snapb2b "* ]] || { echo "installed snapb2b does not run" >&2; exit 1; }
page=$(LC_ALL=C MANWIDTH=100 man -l "$root/share/man/man1/snapb2b.1" 2>&1)
[[ $page == *"snapb2b - SNAP"* && $page == *"usage: snapb2b sign"* ]] \
  || { echo "installed man page does not render: ${page:0:300}" >&2; exit 1; }
bash -n "$root/share/bash-completion/completions/snapb2b"
grep -q '^complete -F _snapb2b snapb2b$' "$root/share/bash-completion/completions/snapb2b" \
  || { echo "bash completion does not register" >&2; exit 1; }
[[ $(head -1 "$root/share/zsh/site-functions/_snapb2b") == "#compdef snapb2b" ]] \
  || { echo "zsh completion lacks #compdef" >&2; exit 1; }
grep -q '^complete -c snapb2b ' "$root/share/fish/vendor_completions.d/snapb2b.fish" \
  || { echo "fish completion is empty" >&2; exit 1; }
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

"${nocargo[@]}" make --no-print-directory -s uninstall PREFIX=$prefix DESTDIR="$stage" >/dev/null
left=$(find "$root" ! -type d)
[[ -z $left ]] || { echo "uninstall left: $left" >&2; exit 1; }
echo "install: 4 passed, 0 failed"
