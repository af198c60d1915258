#!/usr/bin/env bash
# Builds the Debian packages from the release build with dpkg-deb (no
# debhelper, no cargo-deb):
#   libsnapb2b0     the shared library (libsnapb2b.so.0.1.0, libsnapb2b.so.0)
#   libsnapb2b-dev  header, static library, pkg-config file, libsnapb2b.so link
#   snapb2b         /usr/bin/snapb2b and /usr/bin/snapb2b-sandbox
# into build/deb/ (or $1). Files are staged with `make install DESTDIR=...`;
# Depends come from dpkg-shlibdeps on the staged binaries.
#   packaging/deb/build.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mkdir -p "${1:-build/deb}" && cd "${1:-build/deb}" && pwd)
for tool in dpkg-deb dpkg-shlibdeps dpkg-architecture strip; do
  command -v $tool >/dev/null || { echo "deb: $tool is missing (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done

upstream=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
version=$upstream-${DEB_REVISION:-1}
soversion=${upstream%%.*}  # the soname's major: libsnapb2b.so.0
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch
maintainer=${DEB_MAINTAINER:-snapb2b maintainers <snapb2b@users.noreply.github.com>}
# Each package's tree is $stage/debian/PACKAGE, as dpkg-shlibdeps expects.
stage=$out/stage work=$out/stage/debian
rm -rf "$stage"
mkdir -p "$work"

# Everything `make install` puts in place, under a scratch root; then each
# file is moved into the package that owns it.
install_root=$stage/install
make --no-print-directory -s install PREFIX=/usr LIBDIR=$libdir DESTDIR="$install_root" >/dev/null
install -D -m 0755 target/release/snapb2b "$install_root/usr/bin/snapb2b"
install -D -m 0755 target/release/snapb2b-sandbox "$install_root/usr/bin/snapb2b-sandbox"

lib=libsnapb2b$soversion dev=libsnapb2b-dev cli=snapb2b
take() { # PACKAGE PATH...: moves staged paths into PACKAGE's tree
  local pkg=$1; shift
  for path in "$@"; do
    mkdir -p "$work/$pkg$(dirname "$path")"
    mv "$install_root$path" "$work/$pkg$path"
  done
}
take $lib $libdir/libsnapb2b.so.$upstream $libdir/libsnapb2b.so.$soversion
take $dev $libdir/libsnapb2b.so $libdir/libsnapb2b.a /usr/include/snapb2b.h $libdir/pkgconfig/snapb2b.pc
take $cli /usr/bin/snapb2b /usr/bin/snapb2b-sandbox
# The CLI's man page and shell completions, once `make install` installs them.
for extra in /usr/share/man/man1 /usr/share/bash-completion /usr/share/zsh /usr/share/fish; do
  [[ -e $install_root$extra ]] && take $cli $extra
done
for pkg in $lib $dev $cli; do mkdir -p "$work/$pkg/DEBIAN"; done
leftover=$(cd "$install_root" && find . ! -type d)
[[ -z $leftover ]] || { echo "deb: files installed by make install that no package owns:" >&2; echo "$leftover" >&2; exit 1; }

# Stripped as dh_strip would: the shared library and programs lose their
# symbol tables, the archive only its debug info (its symbols are its use).
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$work/$lib$libdir/libsnapb2b.so.$upstream"
strip --remove-section=.comment --remove-section=.note "$work/$cli"/usr/bin/*
strip --strip-debug --enable-deterministic-archives "$work/$dev$libdir/libsnapb2b.a"
# Policy: shared libraries are not executable; gzip'd man pages.
chmod 0644 "$work/$lib$libdir/libsnapb2b.so.$upstream"
if [[ -d $work/$cli/usr/share/man ]]; then
  find "$work/$cli/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
fi

# dpkg-shlibdeps reads debian/control from the current directory.
printf 'Source: snapb2b\n\nPackage: %s\nArchitecture: any\n\nPackage: %s\nArchitecture: any\n\nPackage: %s\nArchitecture: any\n' \
  $lib $dev $cli >"$work/control"
# shlibs: a program linked against libsnapb2b.so.0 needs libsnapb2b0 of at
# least this upstream version (new functions only ever get added).
shlibs_line="libsnapb2b $soversion $lib (>= $upstream)"
depends() { # BINARY...: the Depends line dpkg-shlibdeps computes
  local args=() bin
  for bin in "$@"; do args+=("-e${bin#"$stage"/}"); done  # -eFILE, one word
  (cd "$stage" && dpkg-shlibdeps -O "${args[@]}" | sed -n 's/^shlibs:Depends=//p')
}

# The changelog's date is the last commit's, so that a rebuild of the same
# commit gives the same files.
changelog_date=$(git log -1 --format=%cD 2>/dev/null || date -R)
control() { # PACKAGE ...fields: DEBIAN/control, copyright, changelog, md5sums, then the .deb
  local pkg=$1 root=$work/$1; shift
  install -D -m 0644 packaging/deb/copyright "$root/usr/share/doc/$pkg/copyright"
  printf '%s (%s) unstable; urgency=medium\n\n  * Built from the snapb2b repository by packaging/deb/build.sh.\n\n -- %s  %s\n' \
    snapb2b "$version" "$maintainer" "$changelog_date" | gzip -9n >"$root/usr/share/doc/$pkg/changelog.Debian.gz"
  chmod 0644 "$root/usr/share/doc/$pkg/changelog.Debian.gz"
  mkdir -p "$root/DEBIAN"
  {
    echo "Package: $pkg"
    echo "Source: snapb2b"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    printf '%s\n' "$@"
    echo "Homepage: https://github.com/snapb2b/snapb2b"
  } >"$root/DEBIAN/control"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
  find "$root" -type d -exec chmod 0755 {} +
  chmod 0644 "$root/DEBIAN"/*
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out/${pkg}_${version}_$arch.deb" >/dev/null
}

echo "$shlibs_line" >"$work/$lib/DEBIAN/shlibs"
# ldconfig runs after install and removal (as dh_makeshlibs arranges).
echo "activate-noawait ldconfig" >"$work/$lib/DEBIAN/triggers"
control $lib \
  "Multi-Arch: same" \
  "Section: libs" \
  "Priority: optional" \
  "Depends: $(depends "$work/$lib$libdir/libsnapb2b.so.$upstream")" \
  "Description: SNAP (Bank Indonesia Open API) B2B access tokens - shared library" \
  " libsnapb2b signs and fetches SNAP B2B access tokens and signs service calls" \
  " (Bank Indonesia's Open API standard), behind a stable C ABI that C, PHP" \
  " (FFI) and Python (ctypes) programs load as libsnapb2b.so.$soversion."

control $dev \
  "Multi-Arch: same" \
  "Section: libdevel" \
  "Priority: optional" \
  "Depends: $lib (= $version)" \
  "Suggests: libssl-dev, zlib1g-dev, pkg-config" \
  "Description: SNAP (Bank Indonesia Open API) B2B access tokens - development files" \
  " The C header snapb2b.h, the static library, the pkg-config file snapb2b.pc" \
  " and the libsnapb2b.so link: cc app.c \$(pkg-config --cflags --libs snapb2b)." \
  " A static link (pkg-config --static) also needs libssl-dev and zlib1g-dev."

control $cli \
  "Section: utils" \
  "Priority: optional" \
  "Depends: $(depends "$work/$cli"/usr/bin/*)" \
  "Description: SNAP (Bank Indonesia Open API) B2B access tokens - command line" \
  " snapb2b signs token requests and service calls, fetches access tokens and" \
  " verifies signatures; snapb2b-sandbox is a local HTTPS provider (loopback," \
  " its own CA) for testing clients without a bank."

ls -1 "$out"/*_"$version"_"$arch".deb
