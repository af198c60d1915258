"""One-shot token requests with the system's trust store, from Python:
snapb2b.get_token against the same request written by hand with
`cryptography` (key loaded once) and `http.client`, with a new default SSL
context per call, as `requests.post` and most hand-written integrations do.

    SSL_CERT_FILE=BUNDLE python3 benches/token_oneshot.py CONFIG.json SECONDS REPEATS

CONFIG.json is a sandbox `snap` config; its `ca_file` is dropped so both
sides trust exactly the bundle SSL_CERT_FILE names (the system roots plus
the sandbox's CA). Each call is a new TLS connection on both sides. Prints
"name calls_per_second calls_per_cpu_second" lines (best of REPEATS runs,
rounds interleaved) and "trust_roots N".
"""

import base64
import datetime
import http.client
import json
import os
import ssl
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))

import snapb2b  # noqa: E402
from py_common import print_best  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

config_file, seconds, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
with open(config_file) as f:
    config = json.load(f)
config.pop("ca_file", None)
with open(config["private_key_file"], "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=None)
url = urllib.parse.urlsplit(config["base_url"])
path = url.path.rstrip("/") + "/v1.0/access-token/b2b"
wib = datetime.timezone(datetime.timedelta(hours=7))


def library():
    return snapb2b.get_token(config).access_token


def by_hand():
    timestamp = datetime.datetime.now(wib).replace(microsecond=0).isoformat()
    data = "{}|{}".format(config["client_id"], timestamp).encode()
    signature = base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ssl.create_default_context(), timeout=10)
    try:
        conn.request("POST", path, body=b'{"grantType":"client_credentials"}', headers={
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-CLIENT-KEY": config["client_id"],
            "X-SIGNATURE": signature,
        })
        answer = conn.getresponse()
        body = json.loads(answer.read())
    finally:
        conn.close()
    if answer.status != 200:
        raise SystemExit("hand-written request refused: {} {}".format(answer.status, body))
    return body["accessToken"]


# Both work before anything is timed (and the library's caches are warm, as
# they are in any process after its first call).
if not (library() and by_hand()):
    sys.exit("no token")
print("trust_roots {}".format(ssl.create_default_context().cert_store_stats()["x509_ca"]))
cases = {"py_oneshot_by_hand": by_hand, "py_oneshot_library": library}
print_best(cases, seconds, repeats)
