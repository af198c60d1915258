#!/usr/bin/env python3
"""A merchant's SNAP endpoint with snapb2b: issues B2B access tokens to a
provider and checks the provider's notifications before trusting them.

    SNAPB2B_SERVER_CONFIG=server.json python3 examples/merchant_endpoint.py [--port 8080]

server.json: {"partners": [{"client_id": "PROVIDER-ID", "public_key_file":
"provider-public.pem"}], "token_secret_file": "/etc/snap/token-secret"}
(see snapb2b.Server). The port is --port, else $PORT, else 8080 (0 picks a
free one); the first line printed is "listening on http://HOST:PORT".

  POST /v1.0/access-token/b2b  the provider's token request, answered by the library
  any other POST               a notification: checked (token, signature,
                               timestamp, replay); accepted => 200 2002500

One log line per request on stdout: method, path, status, client, reason.
Never the token, never the body.
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

TOKEN_PATH = "/v1.0/access-token/b2b"
MAX_BODY = 64 * 1024
# SNAP service codes of the notifications this merchant takes: they go into
# the response codes of refusals (4012500, 4092500, ...).
SERVICE_CODES = {"/v1.0/transfer-va/inquiry": "24", "/v1.0/transfer-va/payment": "25"}
SUCCESS = '{"responseCode":"2002500","responseMessage":"Successful"}'


def make_handler(server: snapb2b.Server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def send(self, status: int, headers: dict, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log(self, status: int, client, reason: str) -> None:
            print("{} {} -> {} client={} {}".format(self.command, self.path, status, client or "-", reason),
                  flush=True)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self.close_connection = True  # the body was not read
                self.log(413, None, "body missing a length or too large")
                return self.send(413, {"Content-Type": "application/json"},
                                 '{"responseCode":"4130000","responseMessage":"Request Entity Too Large"}')
            body = self.rfile.read(length)
            path = self.path
            try:
                if path == TOKEN_PATH:
                    answer = server.token_response("POST", path, self.headers, body)
                else:
                    answer = server.check("POST", path, self.headers, body,
                                          service_code=SERVICE_CODES.get(path.split("?")[0]))
            except snapb2b.SnapError as e:
                # Only this endpoint's own mistakes or an internal failure get
                # here; whatever the sender got wrong is a refusal verdict.
                self.log(500, None, "{}: {}".format(e.name, e.message))
                return self.send(500, {"Content-Type": "application/json"},
                                 '{"responseCode":"5000000","responseMessage":"General Error"}')
            self.log(answer.http_status, answer.client_id, answer.reason)
            if answer.accepted and answer.body is None:
                # A checked notification: process json.loads(body) here
                # (idempotently, keyed by answer.external_id), then answer.
                return self.send(200, {"Content-Type": "application/json"}, SUCCESS)
            self.send(answer.http_status, answer.headers, answer.body or "")

        def log_message(self, *args) -> None:  # our own log lines only
            pass

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8080))
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    args = parser.parse_args()
    config_path = os.environ.get("SNAPB2B_SERVER_CONFIG")
    if not config_path:
        print("set SNAPB2B_SERVER_CONFIG to a server config JSON file", file=sys.stderr)
        return 2
    try:
        with open(config_path, encoding="utf-8") as f:
            config = f.read()
        server = snapb2b.Server(config)
    except OSError as e:
        print("error: cannot read {}: {}".format(config_path, e.strerror), file=sys.stderr)
        return 2
    except snapb2b.SnapError as e:
        print("error: {}: {}".format(e.name, e.message), file=sys.stderr)
        return e.status
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(server))
    print("listening on http://{}:{}".format(*httpd.server_address[:2]), flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
