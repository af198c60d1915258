#!/usr/bin/env bash
# Installs what `make test` needs beyond the Rust toolchain, gcc, Python and
# OpenSSL headers: PHP CLI with FFI, PHPUnit, valgrind, pkg-config,
# redis-server (the tests start their own on loopback), and a
# Python venv under build/ with pytest, cryptography and the packaging tools.
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
command -v curl >/dev/null 2>&1 || missing_apt+=(curl)
command -v composer >/dev/null 2>&1 || missing_apt+=(composer)
command -v redis-server >/dev/null 2>&1 || missing_apt+=(redis-server)

if ((${#missing_apt[@]})); then
  echo "installing test dependencies: ${missing_apt[*]}"
  apt_install "${missing_apt[@]}"
fi

if ! php -r 'exit(extension_loaded("ffi") ? 0 : 1);' 2>/dev/null; then
  echo "PHP has no FFI extension: install php-ffi or enable extension=ffi" >&2
  exit 1
fi

# Python test tools live in a virtual environment under build/ (never the
# system interpreter): pytest, cryptography, and what the packaging tests
# build with. The venv is made once and topped up when a tool is missing.
VENV=${SNAPB2B_VENV:-build/venv}
# setuptools 77+: bindings/python's SPDX license string (a new venv has 65).
PY_TOOLS=(pytest cryptography build "setuptools>=77" setuptools-rust auditwheel)
PY_MODULES=(pytest cryptography build setuptools setuptools_rust auditwheel)
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "installing python3-venv"
  apt_install python3-venv
fi
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import $(IFS=,; echo "${PY_MODULES[*]}")" 2>/dev/null ||
  ! "$VENV/bin/python" -c 'import setuptools, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)'; then
  echo "installing Python test tools into $VENV: ${PY_TOOLS[*]}"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_TOOLS[@]}"
  "$VENV/bin/python" -c "import $(IFS=,; echo "${PY_MODULES[*]}")"
fi
