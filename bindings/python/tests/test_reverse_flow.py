"""The provider calling the merchant back, end to end: the sandbox provider
(`snapb2b-sandbox notify`) asks each example merchant endpoint
(examples/merchant_endpoint.py and .php) for a token, then sends signed
notifications; and eight processes sharing one replay_file accept a
notification exactly once."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPO
from test_server import BODY, NOTIFY_PATH, PARTNER, issue, notification, public_pem

PROVIDER = "SANDBOX-PROVIDER"


def sandbox_bin():
    return os.environ.get("SNAPB2B_SANDBOX_BIN") or str(REPO / "target" / "release" / "snapb2b-sandbox")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_config(sandbox, tmp_path):
    config = {
        "partners": [{"client_id": PROVIDER, "public_key_file": sandbox.info["provider_public_key_file"]}],
        "token_secret": secrets.token_hex(24),
        # PHP's built-in server builds a Server per request: the replay
        # memory must be the shared file.
        "replay_file": str(tmp_path / "replay"),
    }
    path = tmp_path / "server.json"
    path.write_text(json.dumps(config))
    return path


def start_python(config_path, port):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SNAPB2B_SERVER_CONFIG=str(config_path), PORT=str(port))
    return subprocess.Popen([sys.executable, str(REPO / "examples" / "merchant_endpoint.py")], env=env,
                            cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_php(config_path, port):
    env = dict(os.environ, SNAPB2B_SERVER_CONFIG=str(config_path))
    return subprocess.Popen(["php", "-d", "ffi.enable=1", "-S", "127.0.0.1:{}".format(port),
                             str(REPO / "examples" / "merchant_endpoint.php")], env=env, cwd="/",
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_listening(port, proc):
    deadline = time.time() + 15
    while time.time() < deadline:
        assert proc.poll() is None, "the endpoint exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the endpoint did not start")


@pytest.fixture(params=["python", "php"])
def merchant(request, sandbox, tmp_path):
    if request.param == "php" and not shutil.which("php"):
        pytest.skip("php is not installed")
    port = free_port()
    config = server_config(sandbox, tmp_path)
    proc = (start_python if request.param == "python" else start_php)(config, port)
    try:
        wait_listening(port, proc)
        yield "http://127.0.0.1:{}{}".format(port, NOTIFY_PATH)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def notify(sandbox, url, *flags):
    out = subprocess.run([sandbox_bin(), "notify", "--dir", str(sandbox.dir), "--url", url] + list(flags),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.parametrize(
    "flags, want",
    [
        ([], ["HTTP 200 responseCode 2007300", "notification #1: HTTP 200 responseCode 2002500"]),
        (["--replay"], ["notification #1: HTTP 200", "notification #2 (same X-EXTERNAL-ID): HTTP 409 responseCode 4092500"]),
        (["--tamper", "body"], ["notification #1: HTTP 401 responseCode 4012500"]),
        (["--no-token"], ["notification #1: HTTP 401 responseCode 4012501"]),
    ],
)
def test_the_sandbox_provider_calls_each_example_back(sandbox, merchant, flags, want):
    out = notify(sandbox, merchant, *flags)
    for line in want:
        assert line in out, out


WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import snapb2b
job = json.load(open(sys.argv[2]))
with snapb2b.Server(job["config"]) as server:
    while time.time() < job["start_at"]:
        time.sleep(0.001)
    v = server.check("POST", job["path"], job["headers"], job["body"])
    print(json.dumps({"accepted": v.accepted, "status": v.http_status, "reason": v.reason}))
"""


def test_eight_processes_sharing_a_replay_file_accept_a_notification_once(rsa_keys, tmp_path):
    key = rsa_keys[0]
    config = {"partners": [{"client_id": PARTNER, "public_key": public_pem(key)}],
              "token_secret": "merchant-token-secret-0123456789abcdef",
              "replay_file": str(tmp_path / "replay")}
    import snapb2b

    with snapb2b.Server(config) as s:
        token = issue(s, key)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({
        "config": config, "path": NOTIFY_PATH, "body": BODY,
        "headers": notification(key, token, BODY, "EXT-EIGHT"), "start_at": time.time() + 2,
    }))
    bindings = str(REPO / "bindings" / "python")
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, bindings, str(job)], stdout=subprocess.PIPE, text=True)
             for _ in range(8)]
    verdicts = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(v["accepted"] for v in verdicts) == 1, verdicts
    assert all(v["accepted"] or v["status"] == 409 for v in verdicts), verdicts
    assert not any("process only" in v["reason"] for v in verdicts), verdicts
