"""End to end: the sandbox provider sends signed payment notifications to the
example merchant endpoint (examples/notification_receiver.py), which verifies
them with snapb2b; spoiled ones are refused."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
RECEIVER = REPO / "examples" / "notification_receiver.py"


def sandbox_bin() -> str:
    return os.environ.get("SNAPB2B_SANDBOX_BIN") or str(REPO / "target" / "release" / "snapb2b-sandbox")


@pytest.fixture()
def receiver(sandbox, tmp_path):
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(RECEIVER),
            "--public-key",
            str(Path(sandbox.info["provider_public_key_file"])),
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 15
    while not port_file.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "receiver did not start"
        time.sleep(0.05)
    yield "http://127.0.0.1:{}/v1.0/transfer-va/payment".format(port_file.read_text())
    proc.terminate()
    proc.wait(timeout=10)


def notify(sandbox, url, tamper="none"):
    out = subprocess.run(
        # --no-token: this receiver checks signatures only; the token step is
        # the merchant endpoint's (examples/merchant_endpoint.py).
        [sandbox_bin(), "notify", "--dir", str(sandbox.dir), "--url", url, "--tamper", tamper, "--no-token"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.returncode, out.stdout + out.stderr


def test_a_signed_notification_is_accepted(sandbox, receiver):
    rc, out = notify(sandbox, receiver)
    assert rc == 0, out
    assert "HTTP 200" in out and "2002500" in out


@pytest.mark.parametrize("tamper", ["body", "timestamp", "signature", "stale"])
def test_spoiled_notifications_are_refused(sandbox, receiver, tamper):
    rc, out = notify(sandbox, receiver, tamper)
    # Exit 0: every exchange got an HTTP answer; the answer is the refusal.
    assert rc == 0, out
    assert "HTTP 401" in out and "4012500" in out


def test_the_sender_only_calls_loopback(sandbox):
    rc, out = notify(sandbox, "http://10.1.2.3:8080/v1.0/transfer-va/payment")
    assert rc == 2 and "loopback" in out
