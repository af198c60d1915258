import dataclasses
import time
from pathlib import Path

import pytest

import snapb2b
from conftest import PROVIDERS

LIFETIME_S = 900


def check_token(token, provider, before, after):
    assert isinstance(token, snapb2b.Token)
    assert token.provider == provider
    assert isinstance(token.access_token, str) and len(token.access_token) >= 16
    assert token.token_type.lower() == "bearer"
    assert token.expires_in == LIFETIME_S
    assert before + LIFETIME_S - 1 <= token.expires_at <= after + LIFETIME_S + 1
    assert token.response_code is None or token.response_code.startswith("200")
    assert token.response_message is None or isinstance(token.response_message, str)
    assert token.authorization == token.token_type + " " + token.access_token


@pytest.mark.parametrize("provider", PROVIDERS)
def test_round_trip(sandbox, provider):
    before = int(time.time())
    token = snapb2b.get_token(sandbox.config(provider))
    after = int(time.time())
    check_token(token, provider, before, after)


def test_keywords_and_overrides(sandbox):
    config = sandbox.config("doku")
    before = int(time.time())
    check_token(snapb2b.get_token(**config), "doku", before, int(time.time()))
    # keywords override the mapping; the mapping itself is not modified
    broken = dict(config, client_id="NO-SUCH-CLIENT")
    token = snapb2b.get_token(broken, client_id=config["client_id"], timeout_ms=5000)
    check_token(token, "doku", before, int(time.time()))
    assert broken["client_id"] == "NO-SUCH-CLIENT"


def test_inline_key_and_path_objects(sandbox):
    config = sandbox.config("nicepay", private_key_file=None)
    config["private_key"] = Path(sandbox.info["private_key_file"]).read_text()
    config["ca_file"] = Path(config["ca_file"])
    before = int(time.time())
    check_token(snapb2b.get_token(config), "nicepay", before, int(time.time()))


def test_token_repr_masks_the_token(sandbox):
    token = snapb2b.get_token(sandbox.config("snap"))
    for text in (repr(token), str(token), "{}".format(token)):
        assert token.access_token not in text
        assert token.access_token[6:-4] not in text
        assert "snap" in text
    short = dataclasses.replace(token, access_token="abc")
    assert "abc" not in repr(short)


def test_token_is_frozen(sandbox):
    token = snapb2b.get_token(sandbox.config("snap"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.access_token = "x"  # type: ignore[misc]
