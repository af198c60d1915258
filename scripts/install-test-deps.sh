#!/usr/bin/env bash
# Installs what `make test` needs beyond the Rust toolchain, gcc, Python and
# OpenSSL headers: PHP CLI with FFI, PHPUnit, valgrind, pytest, cryptography.
# Quiet and idempotent: does nothing when everything is present.
set -euo pipefail

missing_apt=()
command -v php >/dev/null 2>&1 || missing_apt+=(php-cli)
command -v phpunit >/dev/null 2>&1 || missing_apt+=(phpunit)
command -v php-cgi >/dev/null 2>&1 || missing_apt+=(php-cgi)
command -v valgrind >/dev/null 2>&1 || missing_apt+=(valgrind)
command -v openssl >/dev/null 2>&1 || missing_apt+=(openssl)
command -v pkg-config >/dev/null 2>&1 || missing_apt+=(pkg-config)

if ((${#missing_apt[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install: ${missing_apt[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "installing test dependencies: ${missing_apt[*]}"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing_apt[@]}" >/dev/null
fi

if ! php -r 'exit(extension_loaded("ffi") ? 0 : 1);' 2>/dev/null; then
  echo "PHP has no FFI extension: install php-ffi or enable extension=ffi" >&2
  exit 1
fi

py_missing=()
python3 -c 'import pytest' 2>/dev/null || py_missing+=(pytest)
python3 -c 'import cryptography' 2>/dev/null || py_missing+=(cryptography)
if ((${#py_missing[@]})); then
  echo "installing Python test dependencies: ${py_missing[*]}"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${py_missing[@]}"
fi
