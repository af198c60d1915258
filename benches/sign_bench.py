"""Python signing throughput: snapb2b.sign with a PEM string against the
`cryptography` package, both with a key loaded once beforehand and loading
the key on every call (what code that keeps only the PEM text does).

    python3 benches/sign_bench.py KEY.pem SECONDS REPEATS

Prints "name calls_per_second calls_per_cpu_second" lines: the best of
REPEATS runs of SECONDS (rounds interleaved) by wall-clock time, and by this
process's CPU time, which preemption by other processes does not inflate. The cryptography cases include base64 encoding
so every case returns the same X-SIGNATURE string.
"""

import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))

import snapb2b  # noqa: E402
from py_common import print_best  # noqa: E402
from cryptography import __version__ as crypto_version  # noqa: E402
from cryptography.hazmat.backends.openssl.backend import backend  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

key_file, seconds, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
with open(key_file) as f:
    pem = f.read()
client_id = "BENCH-CLIENT-0001"
timestamp = "2024-12-31T10:11:40+07:00"
data = "{}|{}".format(client_id, timestamp).encode()
preloaded = serialization.load_pem_private_key(pem.encode(), password=None)


def library():
    return snapb2b.sign(pem, client_id, timestamp)


def crypto_preloaded():
    return base64.b64encode(preloaded.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


def crypto_load_then_sign():
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


# Same bytes from every path (this also warms the library's key cache).
if not (library() == crypto_preloaded() == crypto_load_then_sign()):
    sys.exit("signatures differ")

print("py_crypto_version {} ({})".format(crypto_version, backend.openssl_version_text()))
cases = {
    "py_crypto_preloaded": crypto_preloaded,
    "py_library_sign": library,
    "py_crypto_load_then_sign": crypto_load_then_sign,
}
print_best(cases, seconds, repeats)
