#!/usr/bin/env bash
# Prints the system libraries a static link of libsnapb2b.a needs beyond
# OpenSSL and libc (for snapb2b.pc's Libs.private): libcurl when the build
# used the system's rather than its bundled copy, zlib when curl was built
# against the system's. Read from the archive's undefined symbols, so it
# follows whatever this machine's build did.
set -euo pipefail
undefined=$(nm -u "$1" 2>/dev/null | awk '{print $NF}' | sort -u)
defined=$(nm --defined-only "$1" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
needs() { grep -qx "$1" <<<"$undefined" && ! grep -qx "$1" <<<"$defined"; }
libs=()
needs curl_easy_init && libs+=(-lcurl)
needs inflate && libs+=(-lz)
echo "${libs[*]}"
