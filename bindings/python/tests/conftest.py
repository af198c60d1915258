"""Shared fixtures: the in-tree package, one sandbox provider per session,
generated RSA keys.

The sandbox is the one in $SNAPB2B_SANDBOX_DIR when that is set (as
scripts/with-sandbox.sh does); otherwise this starts
$SNAPB2B_SANDBOX_BIN or the repository's target/release/snapb2b-sandbox with
--slow-ms 3000 and stops it at the end of the session.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

BINDINGS = Path(__file__).resolve().parent.parent
REPO = BINDINGS.parent.parent
sys.path.insert(0, str(BINDINGS))  # test the tree, not an installed copy

PROVIDERS = ("doku", "nicepay", "snap", "klikoo", "midtrans", "bnc")  # bnc: a user profile
SLOW_MS = 3000


class Sandbox:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.info = json.loads((directory / "sandbox.json").read_text())  # type: Dict[str, Any]

    def config(self, provider: str = "snap", /, **overrides: Any) -> Dict[str, Any]:
        """A fresh copy of the sandbox's ready config, with overrides (a
        value of None removes the key)."""
        cfg = json.loads((self.dir / "config-{}.json".format(provider)).read_text())
        for key, value in overrides.items():
            if value is None:
                cfg.pop(key, None)
            else:
                cfg[key] = value
        return cfg


def _read_info(path: Path) -> bool:
    try:
        json.loads(path.read_text())
        return True
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    existing = os.environ.get("SNAPB2B_SANDBOX_DIR")
    if existing:
        directory = Path(existing)
        if not _read_info(directory / "sandbox.json"):
            pytest.fail("SNAPB2B_SANDBOX_DIR={} has no readable sandbox.json".format(existing))
        yield Sandbox(directory)
        return

    binary = os.environ.get("SNAPB2B_SANDBOX_BIN") or str(REPO / "target" / "release" / "snapb2b-sandbox")
    if not os.access(binary, os.X_OK):
        pytest.fail("sandbox binary {} not found: run `cargo build --release` or set SNAPB2B_SANDBOX_BIN".format(binary))
    directory = tmp_path_factory.mktemp("sandbox")
    log = open(directory / "sandbox.log", "wb")
    proc = subprocess.Popen(
        [binary, "--dir", str(directory), "--port", "0", "--max-seconds", "600", "--quiet", "--slow-ms", str(SLOW_MS)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not _read_info(directory / "sandbox.json"):
            if proc.poll() is not None:
                pytest.fail("sandbox exited early (status {}): {}".format(
                    proc.returncode, (directory / "sandbox.log").read_text(errors="replace")))
            if time.monotonic() > deadline:
                pytest.fail("sandbox did not write sandbox.json within 20 s")
            time.sleep(0.05)
        yield Sandbox(directory)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _pem(key: Any, fmt: str) -> str:
    from cryptography.hazmat.primitives import serialization

    formats = {
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL,
    }
    return key.private_bytes(
        serialization.Encoding.PEM, formats[fmt], serialization.NoEncryption()
    ).decode("ascii")


@pytest.fixture(scope="session")
def rsa_keys() -> Any:
    """Three generated RSA keys: 2048, 2048 (exponent 3) and 3072 bits."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return [
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa.generate_private_key(public_exponent=3, key_size=2048),
        rsa.generate_private_key(public_exponent=65537, key_size=3072),
    ]


@pytest.fixture(scope="session")
def pem() -> Any:
    return _pem
