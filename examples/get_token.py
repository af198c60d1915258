#!/usr/bin/env python3
"""Obtain a SNAP B2B access token with snapb2b from Python.

    python3 examples/get_token.py config.json
    SNAPB2B_CONFIG=config.json python3 examples/get_token.py

The config file holds the C library's config keys (provider, base_url or
environment, client_id, private_key_file, ...), and may add the caching
client's refresh_margin_s, max_retries and cache_file: with a cache_file,
runs share one token until it nears expiry (the second run prints
`cached:     yes`). On failure prints `error: NAME: message` and exits with
the library's status code.
"""

import datetime
import json
import os
import sys
import time

try:
    import snapb2b
except ImportError:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, os.pardir, "bindings", "python"))
    import snapb2b


def masked(token: str) -> str:
    """Never print a whole token: logs outlive it. Under 16 characters,
    nothing of it (the rule of snapb2b's Token repr and PHP's Token::mask)."""
    return "{}...{}".format(token[:6], token[-4:]) if len(token) >= 16 else "***"


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SNAPB2B_CONFIG")
    if not path:
        print("usage: {} CONFIG.json (or set SNAPB2B_CONFIG)".format(sys.argv[0]), file=sys.stderr)
        return 2
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        print("error: cannot read {}: {}".format(path, e), file=sys.stderr)
        return 2
    if not isinstance(config, dict):
        print("error: INVALID_ARGUMENT: {} must hold a JSON object".format(path), file=sys.stderr)
        return 1

    try:
        with snapb2b.Client(config) as client:
            token = client.token()
    except snapb2b.SnapError as e:
        print("error: {}: {}".format(e.name, e.message), file=sys.stderr)
        return e.status

    expires = datetime.datetime.fromtimestamp(token.expires_at, datetime.timezone.utc)
    print("snapb2b {}".format(snapb2b.library_version()))
    print("provider:   {}".format(token.provider))
    print("token:      {} ({})".format(masked(token.access_token), token.token_type))
    print("expires at: {} (in {} s)".format(expires.isoformat(), token.expires_at - int(time.time())))
    print("cached:     {}".format("yes" if token.cached else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
