"""Client.customer_token() and request(customer_token=...) against the
sandbox: its auth codes (SANDBOX-AUTH-<customer id>, each taken once) and
refresh tokens (each taken once), its Authorization-Customer check on
service calls, and bad requests refused before anything is sent."""

import os
import time

import pytest

import snapb2b

SECRET = "sandbox0secret0klikoo00000000000"  # the sandbox's service secret
CHANNEL = "95221"
VA_PATH = "/v1.0/transfer-va/inquiry"
VA_BODY = {"partnerServiceId": "  088899", "customerNo": "1", "virtualAccountNo": "  0888991", "inquiryRequestId": "x"}


def customer(name):
    # Unique per run: the sandbox may outlive this session and takes each code once.
    return "{}-{}-{}".format(name, os.getpid(), time.monotonic_ns())


@pytest.fixture
def client(sandbox):
    with snapb2b.Client(sandbox.config("snap", client_secret=SECRET, channel_id=CHANNEL)) as c:
        yield c


def test_an_auth_code_gets_both_tokens_then_a_refresh_gets_new_ones(sandbox, client):
    assert sandbox.info["auth_code_prefix"] == "SANDBOX-AUTH-"
    assert "/v1.0/access-token/b2b2c" in sandbox.info["customer_token_paths"]["snap"]
    who = customer("py")
    first = client.customer_token(auth_code="SANDBOX-AUTH-" + who, additional_info={"deviceId": "d-1"})
    assert isinstance(first, snapb2b.CustomerToken)
    assert first.provider == "snap" and first.token_type == "Bearer"
    assert first.response_code == "2007400"
    assert first.customer_id == who
    assert first.additional_info == {"deviceId": "d-1", "customerId": who}
    assert abs(first.access_token_expires_at - (time.time() + 900)) < 10
    assert first.refresh_token_expires_at > first.access_token_expires_at
    assert first.authorization == "Bearer " + first.access_token
    # The repr masks both tokens.
    shown = repr(first)
    assert first.access_token not in shown and first.refresh_token not in shown
    with pytest.raises(Exception):
        first.access_token = "x"  # frozen

    second = client.customer_token(refresh_token=first.refresh_token, timeout_ms=5000)
    assert second.customer_id == who
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    # A refresh token is taken once.
    with pytest.raises(snapb2b.ProviderError) as info:
        client.customer_token(refresh_token=first.refresh_token)
    e = info.value
    assert (e.http_status, e.response_code) == (401, "4017400")
    assert e.response_message == "Unauthorized. Invalid Refresh Token"
    assert first.refresh_token not in e.message


def test_a_service_call_carries_the_customer_token_and_the_provider_checks_it(client):
    token = client.customer_token(auth_code="SANDBOX-AUTH-" + customer("call"))
    ok = client.request("POST", VA_PATH, VA_BODY, customer_token=token.access_token)
    assert (ok.http_status, ok.response_code) == (200, "2002400")
    bad = client.request("POST", VA_PATH, VA_BODY, customer_token="bm90LWlzc3VlZA")
    assert (bad.http_status, bad.response_code, bad.response_message) == (401, "4012402", "Invalid Customer Token")
    assert not bad.token_renewed and bad.attempts == 1


def test_an_unknown_or_used_code_is_the_providers_refusal(client):
    with pytest.raises(snapb2b.ProviderError) as info:
        client.customer_token(auth_code="NOT-A-SANDBOX-CODE")
    assert info.value.response_code == "4017400"
    assert info.value.response_message == "Unauthorized. Invalid Auth Code"
    assert "NOT-A-SANDBOX-CODE" not in str(info.value)
    code = "SANDBOX-AUTH-" + customer("once")
    client.customer_token(auth_code=code)
    with pytest.raises(snapb2b.ProviderError) as info:
        client.customer_token(auth_code=code)
    assert info.value.response_message == "Unauthorized. Auth Code Already Used"


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({}, "needs `auth_code`"),
        ({"auth_code": "a", "refresh_token": "b"}, "exactly one"),
        ({"auth_code": "a b"}, "`auth_code` must be"),
        ({"auth_code": "x" * 2049}, "`auth_code` must be"),
        ({"refresh_token": "r\r\nX-Injected: 1"}, "`refresh_token` must be an RFC 6750 token"),
        ({"auth_code": "a", "additional_info": {"k": "x" * 20000}}, "exceeds"),
        ({"auth_code": "a", "timeout_ms": 0}, "timeout_ms"),
    ],
)
def test_bad_requests_are_invalid_argument_and_not_sent(sandbox, client, kwargs, words):
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        client.customer_token(**kwargs)
    assert words in info.value.message, info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize("kwargs", [{"auth_code": 12}, {"refresh_token": b"x"}, {"auth_code": "a", "additional_info": "x"}])
def test_non_string_grants_are_type_errors(client, kwargs):
    with pytest.raises(TypeError):
        client.customer_token(**kwargs)


def test_a_bad_customer_token_for_a_call_is_refused_before_sending(client):
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        client.request("POST", VA_PATH, VA_BODY, customer_token="a b")
    assert "customer_token" in info.value.message


def test_a_provider_without_the_endpoint(sandbox):
    with snapb2b.Client(sandbox.config("nicepay")) as c:
        with pytest.raises(snapb2b.InvalidArgumentError) as info:
            c.customer_token(auth_code="SANDBOX-AUTH-x")
    assert "no customer (B2B2C) token endpoint" in info.value.message
