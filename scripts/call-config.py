#!/usr/bin/env python3
"""Prints the sandbox's snap config with what service calls need added.

    scripts/call-config.py SANDBOX_DIR [KEY=JSON_VALUE | -KEY]...

The sandbox's fixed service-call secret and channel id are added to
SANDBOX_DIR/config-snap.json; each KEY=JSON_VALUE then sets a key (e.g.
'cache_file="/tmp/t"') and -KEY removes one. Used by `make demo` and
tests/service_example.sh, so both call with the same config.
"""
import json
import sys

SECRET = "sandbox0secret0klikoo00000000000"
CHANNEL_ID = "95221"

directory, edits = sys.argv[1], sys.argv[2:]
with open(f"{directory}/config-snap.json") as f:
    config = json.load(f)
config["client_secret"] = SECRET
config["channel_id"] = CHANNEL_ID
for edit in edits:
    if edit.startswith("-"):
        config.pop(edit[1:], None)
    else:
        key, value = edit.split("=", 1)
        config[key] = json.loads(value)
print(json.dumps(config, indent=2))
