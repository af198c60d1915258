#!/usr/bin/env python3
"""A SNAP service call (virtual-account inquiry) with snapb2b from Python.

    python3 examples/service_call.py config.json service.json

config.json holds the token config (provider, base_url, client_id,
private_key_file, ...); service.json adds the service-call keys, e.g.
{"client_secret": "...", "channel_id": "95221"} (or put them in config.json
and leave service.json out). Prints the answer's HTTP status, response code,
X-EXTERNAL-ID and whether the token was renewed. Exits 0 when the answer is
a success, 6 when the provider answered otherwise, and the library's status
code when no answer was had (`error: NAME: message`).
"""

import json
import os
import sys

try:
    import snapb2b
except ImportError:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, os.pardir, "bindings", "python"))
    import snapb2b

PATH = "/v1.0/transfer-va/inquiry"
BODY = {
    "partnerServiceId": "  088899",
    "customerNo": "12345678901234567890",
    "virtualAccountNo": "  08889912345678901234567890",
    "inquiryRequestId": "abcdef-123456-abcdef",
}


def main() -> int:
    if not 2 <= len(sys.argv) <= 3:
        print("usage: {} CONFIG.json [SERVICE.json]".format(sys.argv[0]), file=sys.stderr)
        return 2
    config = {}
    for path in sys.argv[1:]:
        try:
            with open(path, encoding="utf-8") as f:
                config.update(json.load(f))
        except (OSError, ValueError) as e:
            print("error: cannot read {}: {}".format(path, e), file=sys.stderr)
            return 2
    try:
        with snapb2b.Client(config) as client:
            response = client.request("POST", PATH, BODY)
    except snapb2b.SnapError as e:
        # The message names the X-EXTERNAL-ID when the call may have been processed.
        print("error: {}: {}".format(e.name, e), file=sys.stderr)
        return e.status
    print("http status:   {}".format(response.http_status))
    print("response code: {} {}".format(response.response_code, response.response_message or ""))
    print("external id:   {}".format(response.external_id))
    print("token renewed: {}".format("yes" if response.token_renewed else "no"))
    return 0 if response.ok else 6


if __name__ == "__main__":
    sys.exit(main())
