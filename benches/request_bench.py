"""SNAP service calls (VA inquiry) over one kept connection, from Python:
snapb2b.Client.request against the same call written by hand with
http.client.HTTPSConnection (keep-alive), hmac and hashlib.

    python3 benches/request_bench.py CONFIG.json SECONDS REPEATS

CONFIG.json: a sandbox `snap` config with `client_secret` and `channel_id`
added. Both sides use one token (fetched once through the client), build a
new X-TIMESTAMP, X-EXTERNAL-ID and HMAC-SHA512 signature per call and
check every answer is HTTP 200 with responseCode 2002400; anything else
aborts. Prints "name calls_per_second calls_per_cpu_second" (best of
REPEATS runs, rounds interleaved) and "name_calls N" for each side.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import secrets
import ssl
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))

import snapb2b  # noqa: E402
from py_common import print_best  # noqa: E402

PATH = "/v1.0/transfer-va/inquiry"
BODY = {
    "partnerServiceId": "  088899",
    "customerNo": "12345678901234567890",
    "virtualAccountNo": "  08889912345678901234567890",
    "inquiryRequestId": "abcdef-123456-abcdef",
}
SUCCESS = "2002400"

config_file, seconds, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
with open(config_file) as f:
    config = json.load(f)
client = snapb2b.Client(config)
token = client.token()  # the one token both sides use
url = urllib.parse.urlsplit(config["base_url"])
secret = config["client_secret"].encode()
wib = datetime.timezone(datetime.timedelta(hours=7))
conn = http.client.HTTPSConnection(
    url.hostname, url.port, context=ssl.create_default_context(cafile=config["ca_file"]), timeout=10)
calls = {"py_request_library": 0, "py_request_by_hand": 0}


def library():
    answer = client.request("POST", PATH, BODY)
    if answer.http_status != 200 or answer.response_code != SUCCESS:
        sys.exit("request_bench.py: Client.request answered {} {}: {}".format(
            answer.http_status, answer.response_code, answer.text[:300]))
    calls["py_request_library"] += 1


def by_hand():
    # As a hand-written integration does it: serialise, hash, sign, send.
    body = json.dumps(BODY, separators=(",", ":"))
    timestamp = datetime.datetime.now(wib).replace(microsecond=0).isoformat()
    data = "POST:{}:{}:{}:{}".format(PATH, token.access_token, hashlib.sha256(body.encode()).hexdigest(), timestamp)
    signature = base64.b64encode(hmac.new(secret, data.encode(), hashlib.sha512).digest()).decode()
    conn.request("POST", PATH, body=body, headers={
        "Content-Type": "application/json",
        "Authorization": "Bearer " + token.access_token,
        "X-TIMESTAMP": timestamp,
        "X-SIGNATURE": signature,
        "X-PARTNER-ID": config["client_id"],
        # 32 digits, not starting with 0, as the library's.
        "X-EXTERNAL-ID": str(10**31 + secrets.randbelow(9 * 10**31)),
        "CHANNEL-ID": config["channel_id"],
    })
    answer = conn.getresponse()
    text = answer.read()  # read in full, so the connection is kept
    if answer.status != 200 or json.loads(text).get("responseCode") != SUCCESS:
        sys.exit("request_bench.py: hand-written call answered {}: {}".format(answer.status, text[:300]))
    calls["py_request_by_hand"] += 1


# Both work (and both connections are open) before anything is timed.
library()
by_hand()
cases = {"py_request_by_hand": by_hand, "py_request_library": library}
print_best(cases, seconds, repeats)
for name, n in calls.items():
    print("{}_calls {}".format(name, n))
conn.close()
client.close()
