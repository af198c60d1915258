#!/usr/bin/env python3
"""A merchant endpoint that receives SNAP payment notifications and verifies
them with snapb2b before trusting them.

    python3 examples/notification_receiver.py --public-key PROVIDER_PUBLIC.pem [--port 8080]

Every POST is checked: X-SIGNATURE must be the provider's SHA256withRSA
signature over METHOD:path:sha256hex(minified body):X-TIMESTAMP, and
X-TIMESTAMP must be within --max-skew-s seconds (300) of now, so a captured
notification cannot be replayed. Valid: 200 {"responseCode":"2002500"}.
Anything else: 401 {"responseCode":"4012500"} and nothing is processed.

With the sandbox provider (`snapb2b-sandbox --dir DIR`):
    python3 examples/notification_receiver.py --public-key DIR/provider-public.pem --port 8080 &
    snapb2b-sandbox notify --dir DIR --url http://127.0.0.1:8080/v1.0/transfer-va/payment
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import snapb2b
except ImportError:  # run from the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
    import snapb2b

MAX_BODY = 64 * 1024


def make_handler(public_key: str, max_skew_s: int):
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"responseCode": code, "responseMessage": message}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self.answer(413, "4132500", "Request Entity Too Large")
            body = self.rfile.read(length).decode("utf-8", "replace")
            timestamp = self.headers.get("X-TIMESTAMP", "")
            signature = self.headers.get("X-SIGNATURE", "")
            try:
                valid = snapb2b.verify_service_signature_rsa(
                    public_key, "POST", self.path, body, timestamp, signature, max_skew_s=max_skew_s
                )
            except snapb2b.SnapError as e:
                # Only this receiver's own set-up can raise (its public key,
                # its route): whatever the sender gets wrong is `False` below.
                print("cannot verify: {}: {}".format(e.name, e.message), file=sys.stderr)
                return self.answer(500, "5002500", "General Error")
            if not valid:
                print("rejected: signature or timestamp invalid", file=sys.stderr)
                return self.answer(401, "4012500", "Unauthorized. Signature")
            payment = json.loads(body)
            print(
                "accepted: {} paid {} {}".format(
                    payment.get("virtualAccountNo", "?").strip(),
                    payment.get("paidAmount", {}).get("value"),
                    payment.get("paidAmount", {}).get("currency"),
                ),
                file=sys.stderr,
            )
            self.answer(200, "2002500", "Successful")

        def log_message(self, *args) -> None:  # keep stderr to our own lines
            pass

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--public-key", required=True, help="the provider's public key (PEM or certificate)")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the bound port here once listening")
    parser.add_argument("--max-skew-s", type=int, default=300)
    parser.add_argument("--max-requests", type=int, default=0, help="exit after this many requests (0: never)")
    args = parser.parse_args()
    with open(args.public_key) as f:
        public_key = f.read()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(public_key, args.max_skew_s))
    # Let answers in flight finish before exiting (--max-requests).
    server.daemon_threads = False
    port = server.server_address[1]
    print("listening on http://127.0.0.1:{}".format(port), file=sys.stderr, flush=True)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        if args.max_requests:
            for _ in range(args.max_requests):
                server.handle_request()
        else:
            server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
