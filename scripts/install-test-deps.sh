#!/usr/bin/env bash
# Installs what `make test` needs beyond the Rust toolchain, gcc, Python and
# OpenSSL headers: PHP CLI with FFI, PHPUnit, valgrind, and for python3
# pytest, cryptography, setuptools and wheel.
# Quiet and idempotent: does nothing when everything is present.
set -euo pipefail

# apt_usable: apt-get can be run, as root or through sudo ($sudo).
sudo=""
apt_usable=false
if command -v apt-get >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    apt_usable=true
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
    apt_usable=true
  fi
fi
apt_updated=false
apt_install() {
  $apt_usable || { echo "need root (or sudo) and apt-get to install: $*" >&2; return 1; }
  if ! $apt_updated; then
    $sudo apt-get update -qq >/dev/null
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

missing_apt=()
command -v php >/dev/null 2>&1 || missing_apt+=(php-cli)
command -v phpunit >/dev/null 2>&1 || missing_apt+=(phpunit)
command -v php-cgi >/dev/null 2>&1 || missing_apt+=(php-cgi)
command -v valgrind >/dev/null 2>&1 || missing_apt+=(valgrind)
command -v openssl >/dev/null 2>&1 || missing_apt+=(openssl)
command -v pkg-config >/dev/null 2>&1 || missing_apt+=(pkg-config)

if ((${#missing_apt[@]})); then
  echo "installing test dependencies: ${missing_apt[*]}"
  apt_install "${missing_apt[@]}"
fi

if ! php -r 'exit(extension_loaded("ffi") ? 0 : 1);' 2>/dev/null; then
  echo "PHP has no FFI extension: install php-ffi or enable extension=ffi" >&2
  exit 1
fi

# setuptools and wheel: bindings/python/tests/test_install.py builds the
# package with --no-build-isolation (skipped without them).
py_missing=()
py_apt=()
for module in pytest cryptography setuptools wheel; do
  if ! python3 -c "import $module" 2>/dev/null; then
    py_missing+=("$module")
    py_apt+=("python3-$module")
  fi
done
if ((${#py_missing[@]})); then
  echo "installing Python test dependencies: ${py_missing[*]}"
  pip=(python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore)
  # A stock Debian Python refuses pip (PEP 668, EXTERNALLY-MANAGED): then
  # override that, and failing that (or without pip) use Debian's packages.
  if ! errors=$("${pip[@]}" "${py_missing[@]}" 2>&1) &&
     ! errors=$("${pip[@]}" --break-system-packages "${py_missing[@]}" 2>&1); then
    if $apt_usable; then
      apt_install "${py_apt[@]}"
    else
      echo "$errors" >&2
      echo "cannot install ${py_missing[*]}: pip failed and apt-get is not usable" >&2
      exit 1
    fi
  fi
  for module in "${py_missing[@]}"; do
    python3 -c "import $module" 2>/dev/null || { echo "python3 still cannot import $module" >&2; exit 1; }
  done
fi
