import pytest

import snapb2b


@pytest.fixture(scope="module")
def key_text(rsa_keys, pem):
    return pem(rsa_keys[0], "pkcs8")


@pytest.mark.parametrize("position", [0, 1, 2])
def test_nul_in_sign_argument_is_invalid_argument(key_text, position):
    args = [key_text, "cid", "ts"]
    args[position] = args[position][:10] + "\0" + args[position][10:]
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.sign(*args)
    name = ("private_key", "client_id", "timestamp")[position]
    assert info.value.status == 1 and info.value.name == "INVALID_ARGUMENT"
    assert name in info.value.message and "NUL" in info.value.message


def test_nul_cannot_truncate_the_signed_message(key_text):
    # Without the check, ctypes would sign "cid|ts" for "cid|ts\0anything".
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.sign(key_text, "cid", "ts\0tail")


def test_lone_surrogate_is_invalid_argument(key_text):
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.sign(key_text, "cid\ud800", "ts")


@pytest.mark.parametrize("bad", [b"bytes", bytearray(b"x"), None, 42, ["x"]])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_sign_rejects_non_str(key_text, bad, position):
    args = [key_text, "cid", "ts"]
    args[position] = bad
    with pytest.raises(TypeError):
        snapb2b.sign(*args)


def test_nul_in_config_value_reaches_the_library_escaped(sandbox):
    # json escapes NUL as \u0000, so nothing is truncated: the library sees
    # the whole value and refuses the control character.
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.get_token(sandbox.config("snap", client_id="SANDBOX-CLIENT\0x"))
    assert "client_id" in info.value.message


@pytest.mark.parametrize("bad", ["{}", b"{}", ["provider"], 5])
def test_get_token_rejects_non_mapping(bad):
    with pytest.raises(TypeError):
        snapb2b.get_token(bad)


def test_get_token_rejects_bad_keys_and_values(sandbox):
    with pytest.raises(TypeError):
        snapb2b.get_token({1: "x"})
    with pytest.raises(TypeError):
        snapb2b.get_token(sandbox.config("snap", private_key=b"bytes", private_key_file=None))
    with pytest.raises(TypeError):
        snapb2b.get_token(sandbox.config("snap", timeout_ms=object()))


def test_get_token_without_config_is_invalid_argument():
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.get_token()
    assert "provider" in info.value.message


def test_wrong_json_types_are_invalid_argument(sandbox):
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.get_token(sandbox.config("snap", timeout_ms="500"))
    assert "timeout_ms" in info.value.message
