"""examples/merchant_endpoint.py end to end: started as a user would (without
snapb2b on the path), spoken to over HTTP with urllib, requests signed with
``cryptography``."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from conftest import REPO
from test_server import BODY, GRANT, NOTIFY_PATH, PARTNER, TOKEN_PATH, jwt_claims, notification, public_pem, token_headers

EXAMPLE = REPO / "examples" / "merchant_endpoint.py"


@pytest.fixture
def endpoint(rsa_keys, tmp_path):
    key = rsa_keys[0]
    (tmp_path / "provider.pem").write_text(public_pem(key))
    (tmp_path / "token-secret").write_text("t" * 40 + "\n")
    config = {"partners": [{"client_id": PARTNER, "public_key_file": str(tmp_path / "provider.pem")}],
              "token_secret_file": str(tmp_path / "token-secret")}
    (tmp_path / "server.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SNAPB2B_SERVER_CONFIG=str(tmp_path / "server.json"), PORT="0")
    proc = subprocess.Popen([sys.executable, str(EXAMPLE)], env=env, cwd="/", text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = proc.stdout.readline()
        assert first.startswith("listening on http://127.0.0.1:"), first + proc.stderr.read()
        yield key, first.split()[-1], proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def post(base, path, headers, body):
    request = urllib.request.Request(base + path, data=body.encode("utf-8"), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8")


def test_token_then_notification_over_http(endpoint):
    key, base, proc = endpoint
    status, headers, body = post(base, TOKEN_PATH, dict(token_headers(key), **{"Content-Type": "application/json"}), GRANT)
    assert status == 200, body
    assert headers["X-CLIENT-KEY"] == PARTNER
    token = json.loads(body)["accessToken"]
    assert jwt_claims(token)["sub"] == PARTNER

    notify = notification(key, token, BODY, "ext-http-1")
    status, _, body = post(base, NOTIFY_PATH, notify, BODY)
    assert (status, body) == (200, '{"responseCode":"2002500","responseMessage":"Successful"}')
    status, _, body = post(base, NOTIFY_PATH, notify, BODY)  # the same again: a replay
    assert (status, json.loads(body)["responseCode"]) == (409, "4092500")
    tampered = notification(key, token, BODY, "ext-http-2")
    status, _, body = post(base, NOTIFY_PATH, tampered, BODY.replace("10000.00", "1.00"))
    assert (status, json.loads(body)["responseCode"]) == (401, "4012500")
    status, _, body = post(base, NOTIFY_PATH, {}, "{}")
    assert (status, json.loads(body)["responseCode"]) == (401, "4012501")  # no token
    status, _, body = post(base, TOKEN_PATH, token_headers(key, client="NOBODY"), GRANT)
    assert (status, json.loads(body)["responseCode"]) == (401, "4017300")

    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    lines = out.splitlines()
    assert len(lines) == 6, out
    assert lines[0].startswith("POST {} -> 200 client={} token issued".format(TOKEN_PATH, PARTNER))
    assert lines[1] == "POST {} -> 200 client={} accepted".format(NOTIFY_PATH, PARTNER)
    assert lines[2].startswith("POST {} -> 409 client={} ".format(NOTIFY_PATH, PARTNER)) and "replay" in lines[2]
    assert " -> 401 " in lines[3] and " -> 401 client=- " in lines[4] and " -> 401 " in lines[5]
    assert token not in out and token.split(".")[2] not in out


def test_without_config_it_says_what_to_set():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SNAPB2B_SERVER_CONFIG")}
    result = subprocess.run([sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "SNAPB2B_SERVER_CONFIG" in result.stderr


def test_bad_config_exits_with_the_status(tmp_path):
    (tmp_path / "server.json").write_text('{"partners": [], "token_secret": "tiny-secret"}')
    env = dict(os.environ, SNAPB2B_SERVER_CONFIG=str(tmp_path / "server.json"))
    result = subprocess.run([sys.executable, str(EXAMPLE), "--port", "0"], env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 1 and "INVALID_ARGUMENT" in result.stderr and "partners" in result.stderr
    assert "tiny-secret" not in result.stderr
