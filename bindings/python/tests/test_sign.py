import base64
import json
import os
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import snapb2b
from conftest import REPO


def expected(key, client_id, timestamp):
    message = "{}|{}".format(client_id, timestamp).encode("utf-8")
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


ALPHABET = "abcXYZ019-_:.+| éñ中文😀\u200bأ"


def random_text(rng, n):
    return "".join(rng.choice(ALPHABET) for _ in range(n))


@pytest.mark.parametrize("fmt", ["pkcs8", "pkcs1"])
def test_sign_matches_cryptography(rsa_keys, pem, fmt):
    rng = random.Random(fmt)
    for key in rsa_keys:
        text = pem(key, fmt)
        for _ in range(10):
            client_id = random_text(rng, rng.randint(1, 40))
            timestamp = random_text(rng, rng.randint(1, 40))
            assert snapb2b.sign(text, client_id, timestamp) == expected(key, client_id, timestamp)


def test_sign_typical_snap_input(rsa_keys, pem):
    key = rsa_keys[0]
    args = ("SANDBOX-CLIENT", "2024-03-01T15:27:49+07:00")
    signature = snapb2b.sign(pem(key, "pkcs8"), *args)
    assert signature == expected(key, *args)
    key.public_key().verify(
        base64.b64decode(signature), "|".join(args).encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_sign_accepts_documented_key_spellings(rsa_keys, pem):
    key = rsa_keys[0]
    text = pem(key, "pkcs8")
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    spellings = [
        text.replace("\n", "\r\n"),
        "\n  " + text + "  \n",
        text.replace("\n", "\\n"),
        base64.b64encode(der).decode("ascii"),
    ]
    want = expected(key, "cid", "ts")
    for spelling in spellings:
        assert snapb2b.sign(spelling, "cid", "ts") == want


def vectors_file():
    env = os.environ.get("SNAPB2B_VECTORS")
    base = Path(env) if env else REPO / "tests" / "vectors"
    return base / "snap-vectors.json" if base.is_dir() else base


def test_public_vectors():
    path = vectors_file()
    if not path.is_file():
        pytest.skip("public vectors not found at {} (set SNAPB2B_VECTORS to the vectors directory)".format(path))
    data = json.loads(path.read_text())
    key_text = (path.parent / data["private_key_file"]).read_text()
    key = serialization.load_pem_private_key(key_text.encode(), password=None)
    cases = data["asymmetric_b2b_token"]
    assert cases
    for case in cases:
        assert case["string_to_sign"] == "{}|{}".format(case["client_id"], case["timestamp"])
        got = snapb2b.sign(key_text, case["client_id"], case["timestamp"])
        assert got == case["signature"]
        assert got == expected(key, case["client_id"], case["timestamp"])


def test_sign_key_errors_are_key_format_errors():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    big = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = big.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    encrypted = big.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret-pass"),
    ).decode()
    small_pem = small.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    for text in ("not a key", "", small_pem, public, encrypted):
        with pytest.raises(snapb2b.KeyFormatError) as info:
            snapb2b.sign(text, "cid", "ts")
        assert info.value.status == 2 and info.value.name == "KEY"
        assert info.value.message
