import builtins
import pickle
import socket

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import snapb2b
from snapb2b import _native

CLASSES = {
    1: ("INVALID_ARGUMENT", snapb2b.InvalidArgumentError),
    2: ("KEY", snapb2b.KeyFormatError),
    3: ("CRYPTO", snapb2b.CryptoError),
    4: ("TRANSPORT", snapb2b.TransportError),
    5: ("TIMEOUT", snapb2b.RequestTimeoutError),
    6: ("PROVIDER", snapb2b.ProviderError),
    7: ("PROTOCOL", snapb2b.ProtocolError),
    8: ("SIGNATURE_INVALID", snapb2b.SignatureInvalidError),
    99: ("INTERNAL", snapb2b.InternalError),
}


def test_one_class_per_status_named_like_the_library():
    for status, (name, cls) in CLASSES.items():
        assert issubclass(cls, snapb2b.SnapError)
        assert cls.status == status and cls("m").name == name
        assert _native.status_name(status) == name
        assert not hasattr(builtins, cls.__name__)
        assert getattr(snapb2b, cls.__name__) is cls
    assert issubclass(snapb2b.SnapError, Exception)


def test_exceptions_pickle_with_their_attributes():
    err = snapb2b.ProviderError(
        "no", status=6, http_status=500, response_code="5007301", response_message="x", hint="h"
    )
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is snapb2b.ProviderError and str(back) == "no" and back.name == "PROVIDER"
    assert (back.http_status, back.response_code, back.response_message, back.hint) == (500, "5007301", "x", "h")


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unknown_key_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# (id, config overrides, class, http_status, response_code)
CASES = [
    ("unknown-key", {"timeuot_ms": 5}, snapb2b.InvalidArgumentError, None, None),
    ("unknown-provider", {"provider": "ovo"}, snapb2b.InvalidArgumentError, None, None),
    ("plain-http", {"base_url": "http://127.0.0.1:1"}, snapb2b.InvalidArgumentError, None, None),
    ("missing-client-id", {"client_id": None}, snapb2b.InvalidArgumentError, None, None),
    ("missing-key-file", {"private_key_file": "/nonexistent/key.pem"}, snapb2b.KeyFormatError, None, None),
    ("untrusted-cert", {"ca_file": None}, snapb2b.TransportError, None, None),
    ("closed-port", {"base_url": "closed"}, snapb2b.TransportError, None, None),
    ("drop", {"client_id": "FAULT-DROP"}, snapb2b.TransportError, None, None),
    ("slow", {"client_id": "FAULT-SLOW", "timeout_ms": 500}, snapb2b.RequestTimeoutError, None, None),
    ("http-500", {"client_id": "FAULT-500"}, snapb2b.ProviderError, 500, "5007301"),
    ("unknown-client", {"client_id": "NO-SUCH-CLIENT"}, snapb2b.ProviderError, 401, "4017300"),
    # This sandbox client wants millisecond timestamps, as some banks do.
    ("bad-timestamp-format", {"client_id": "SANDBOX-CLIENT-MS"}, snapb2b.ProviderError, 400, "4007301"),
    ("unknown-signing-key", {"private_key_file": None, "private_key": "generate"}, snapb2b.ProviderError, 401, "4017300"),
    ("garbage", {"client_id": "FAULT-GARBAGE"}, snapb2b.ProtocolError, None, None),
    ("huge", {"client_id": "FAULT-HUGE"}, snapb2b.ProtocolError, None, None),
    ("no-token", {"client_id": "FAULT-NOTOKEN"}, snapb2b.ProtocolError, None, None),
]


@pytest.mark.parametrize("overrides,cls,http_status,response_code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_get_token_failures(sandbox, overrides, cls, http_status, response_code):
    overrides = dict(overrides)
    if overrides.get("base_url") == "closed":
        overrides["base_url"] = "https://127.0.0.1:{}".format(closed_port())
    if overrides.get("private_key") == "generate":
        overrides["private_key"] = unknown_key_pem()
    with pytest.raises(snapb2b.SnapError) as info:
        snapb2b.get_token(sandbox.config("snap", **overrides))
    err = info.value
    assert type(err) is cls, repr(err)
    assert err.status == cls.status and err.name == CLASSES[cls.status][0]
    assert err.message and str(err) == err.message
    if http_status is not None:
        assert err.http_status == http_status
    if response_code is not None:
        assert err.response_code == response_code
    if overrides.get("private_key"):
        assert "Unauthorized. Signature" in (err.response_message or "")
        assert_no_key_text(err, overrides["private_key"])


def test_provider_error_on_every_provider(sandbox):
    for provider in ("doku", "nicepay", "snap", "klikoo"):
        with pytest.raises(snapb2b.ProviderError) as info:
            snapb2b.get_token(sandbox.config(provider, client_id="FAULT-500"))
        assert info.value.http_status == 500, provider
        # SNAP providers answer 5007301; klikoo its documented 500xx9999 "Harap hubungi admin"
        assert info.value.response_code == ("5007301" if provider != "klikoo" else "500019999"), provider


def key_fragments(key_text):
    body = "".join(line for line in key_text.splitlines() if line and not line.startswith("-----"))
    return [body[i:i + 16] for i in range(0, len(body) - 16, 16)]


def assert_no_key_text(err, key_text):
    everything = " ".join(
        str(x) for x in (str(err), repr(err), err.message, err.hint, err.response_message, err.response_code)
    )
    for fragment in key_fragments(key_text):
        assert fragment not in everything


def test_bad_key_error_never_contains_the_key(sandbox):
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # too small: KEY error
    text = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    lines = text.splitlines()
    corrupted = "\n".join(lines[:3] + [lines[3][:-4] + "!!!!"] + lines[4:])
    for bad in (text, corrupted, text.replace("PRIVATE KEY", "PUBLIC KEY")):
        with pytest.raises(snapb2b.KeyFormatError) as info:
            snapb2b.sign(bad, "cid", "ts")
        assert_no_key_text(info.value, bad)
        with pytest.raises(snapb2b.KeyFormatError) as info:
            snapb2b.get_token(sandbox.config("snap", private_key_file=None, private_key=bad))
        assert_no_key_text(info.value, bad)
    assert key_fragments(text)  # the check above checked something



def encrypted_copy(sandbox, tmp_path, passphrase):
    key = serialization.load_pem_private_key(
        open(sandbox.info["private_key_file"], "rb").read(), password=None
    )
    path = tmp_path / "encrypted.pem"
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ))
    return path


def test_encrypted_key_file(sandbox, tmp_path):
    path = encrypted_copy(sandbox, tmp_path, "correct horse")
    token = snapb2b.get_token(sandbox.config("snap", private_key_file=path, private_key_passphrase="correct horse"))
    assert token.access_token
    for passphrase in ("wrong horse", None):
        with pytest.raises(snapb2b.KeyFormatError) as info:
            snapb2b.get_token(sandbox.config("snap", private_key_file=path, private_key_passphrase=passphrase))
        assert "horse" not in repr(info.value) + str(info.value.hint)


def test_key_text_in_a_path_key_is_not_echoed(sandbox):
    text = open(sandbox.info["private_key_file"]).read()
    with pytest.raises(snapb2b.SnapError) as info:
        snapb2b.get_token(sandbox.config("snap", private_key_file=text))
    assert_no_key_text(info.value, text)
