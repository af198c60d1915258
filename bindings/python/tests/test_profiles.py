"""Provider profiles through the Python binding against the sandbox: the
Midtrans preset, a user profile for a bank without a preset, Klikoo's own
codes with their hints, additionalInfo, the token's own type, and keys
given as base64-encoded PEM."""

import base64
import dataclasses

import pytest

import snapb2b

# Bank Neo Commerce's "Direct Debit - Get Access Token" page
# (developers.bankneo.co.id/api-docs/article/direct-debit-get-access-token):
# POST /open/bi/1.0.0/get/token, SNAP X-* headers and signature, body grant_type.
BNC_PROFILE = {
    "name": "bnc",
    "token_path": "/open/bi/1.0.0/get/token",
    "timestamp_style": "wib",
    "body": {"grant_type_key": "grant_type"},
}


def test_midtrans_preset_round_trip(sandbox):
    config = sandbox.config("midtrans")
    assert config["provider"] == "midtrans"
    token = snapb2b.get_token(config)
    assert (token.provider, token.expires_in, token.response_code) == ("midtrans", 900, "2007300")
    # The route refuses SNAP's camelCase grantType, as Midtrans documents grant_type.
    with pytest.raises(snapb2b.ProviderError) as info:
        snapb2b.get_token(sandbox.config("midtrans", profile={"body": {"grant_type_key": "grantType"}}))
    assert (info.value.http_status, info.value.response_code) == (400, "4007302")


def test_user_profile_for_a_bank_without_a_preset(sandbox):
    config = sandbox.config("bnc", provider=None, profile=BNC_PROFILE)
    token = snapb2b.get_token(config)
    assert (token.provider, token.expires_in) == ("bnc", 900)
    with snapb2b.Client(config) as client:
        assert client.token().provider == "bnc"


def test_unknown_profile_keys_are_refused_by_name(sandbox):
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.get_token(sandbox.config("snap", profile={"tokenPath": "/x"}))
    assert "unknown profile key `tokenPath`" in str(info.value)


@pytest.mark.parametrize(
    "overrides, http, code, message, hint",
    [
        ({"client_id": "FAULT-CLOCK"}, 400, "400016505", "Waktu tidak sesuai", "timestamp"),
        ({"client_id": "merchant-01"}, 400, "400016568", "UUID tidak sesuai", "UUID"),
        ({"client_id": "FAULT-GRANT"}, 400, "400016569", "Grant type tidak sesuai", "grant type"),
        ({"client_secret": "0" * 32}, 401, "401016570", "Kredensial tidak sesuai", "client_secret"),
        ({"client_id": "FAULT-IP"}, 403, "403016571", "IP tidak ada di dalam whitelist", "whitelist"),
    ],
)
def test_klikoo_codes_get_their_hints(sandbox, overrides, http, code, message, hint):
    with pytest.raises(snapb2b.ProviderError) as info:
        snapb2b.get_token(sandbox.config("klikoo", **overrides))
    e = info.value
    assert (e.http_status, e.response_code, e.response_message) == (http, code, message)
    assert hint in (e.hint or ""), e.hint


def test_klikoo_signature_tidak_sesuai(sandbox, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(snapb2b.ProviderError) as info:
        snapb2b.get_token(sandbox.config("klikoo", private_key_file=None, private_key=pem))
    assert (info.value.http_status, info.value.response_code) == (400, "400016508")
    assert "Open-Api-Signature" in info.value.hint


def test_additional_info_and_the_tokens_own_type(sandbox):
    token = snapb2b.get_token(sandbox.config("snap"))
    assert token.additional_info == {"bankCode": "SANDBOX", "channel": "b2b"}
    assert snapb2b.get_token(sandbox.config("doku")).additional_info is None
    assert token.authorization == "Bearer " + token.access_token
    mac = dataclasses.replace(token, token_type="Mac")
    assert mac.authorization == "Mac " + token.access_token


def test_base64_pem_key(sandbox):
    pem = (sandbox.dir / "merchant-key.pem").read_bytes()
    wrapped = base64.b64encode(pem).decode()
    token = snapb2b.get_token(sandbox.config("midtrans", private_key_file=None, private_key=wrapped))
    assert token.provider == "midtrans"
