"""The merchant's side: snapb2b.Server answers token requests and checks
notifications signed by an independent implementation (``cryptography``),
never by snapb2b itself."""

import base64
import datetime
import hashlib
import json
import threading

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

import snapb2b

PARTNER = "DOKU-PROVIDER"
TOKEN_SECRET = "merchant-token-secret-0123456789abcdef"
TOKEN_PATH = "/v1.0/access-token/b2b"
NOTIFY_PATH = "/v1.0/transfer-va/payment"
GRANT = '{"grantType":"client_credentials"}'


def wib(offset_s=0):
    tz = datetime.timezone(datetime.timedelta(hours=7))
    return (datetime.datetime.now(tz) + datetime.timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%S+07:00")


def rsa_sign(key, text):
    return base64.b64encode(key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def public_pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def token_headers(key, client=PARTNER, ts=None):
    ts = ts or wib()
    return {"X-CLIENT-KEY": client, "X-TIMESTAMP": ts, "X-SIGNATURE": rsa_sign(key, "{}|{}".format(client, ts))}


def notification(key, token, body, external_id, path=NOTIFY_PATH, ts=None, signed_body=None):
    """Headers of an RSA-signed notification: SHA256withRSA over
    POST:path:lowercase(hex(sha256(minified body))):timestamp. The bodies
    here are written minified, so the minified text is the text itself."""
    ts = ts or wib()
    digest = hashlib.sha256((signed_body or body).encode("utf-8")).hexdigest().lower()
    return {
        "Content-Type": "application/json",
        "Authorization": "Bearer " + token,
        "X-TIMESTAMP": ts,
        "X-SIGNATURE": rsa_sign(key, "POST:{}:{}:{}".format(path, digest, ts)),
        "X-PARTNER-ID": PARTNER,
        "X-EXTERNAL-ID": external_id,
        "CHANNEL-ID": "95221",
    }


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module")
def key(rsa_keys):
    return rsa_keys[0]


@pytest.fixture
def config(key):
    return {"partners": [{"client_id": PARTNER, "public_key": public_pem(key)}], "token_secret": TOKEN_SECRET}


@pytest.fixture
def server(config):
    with snapb2b.Server(config) as s:
        yield s


def issue(server, key):
    answer = server.token_response("POST", TOKEN_PATH, token_headers(key), GRANT)
    assert answer.accepted, answer.reason
    return json.loads(answer.body)["accessToken"]


BODY = '{"partnerServiceId":"   12345","customerNo":"0001","virtualAccountNo":"   123450001","paidAmount":{"value":"10000.00","currency":"IDR"}}'


def test_token_request_signed_by_cryptography_gets_a_jwt(server, key):
    ts = wib()
    answer = server.token_response("POST", TOKEN_PATH, token_headers(key, ts=ts), GRANT)
    assert isinstance(answer, snapb2b.ServerResponse)
    assert answer.accepted and answer.http_status == 200, answer.reason
    assert answer.client_id == PARTNER and answer.reason == "token issued"
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["X-CLIENT-KEY"] == PARTNER and answer.headers["X-TIMESTAMP"] == ts
    body = json.loads(answer.body)
    assert body["responseCode"] == "2007300" and body["tokenType"] == "Bearer" and body["expiresIn"] == "900"
    claims = jwt_claims(body["accessToken"])
    assert claims["sub"] == PARTNER and claims["exp"] - claims["iat"] == 900
    # The token is in the body, but never in the repr.
    assert body["accessToken"] not in repr(answer) and body["accessToken"][:20] not in repr(answer)


def test_bytes_body_header_pairs_and_any_case(server, key):
    pairs = [(k.lower(), v) for k, v in token_headers(key).items()]
    answer = server.token_response("POST", TOKEN_PATH, pairs, GRANT.encode("utf-8"))
    assert answer.accepted, answer.reason


def test_notification_accepted_once_then_replay(server, key):
    token = issue(server, key)
    headers = notification(key, token, BODY, "ext-0001")
    verdict = server.check("POST", NOTIFY_PATH, headers, BODY, service_code="25")
    assert isinstance(verdict, snapb2b.Verdict)
    assert verdict.accepted and verdict.http_status == 200, verdict.reason
    assert verdict.body is None and verdict.client_id == PARTNER and verdict.external_id == "ext-0001"
    again = server.check("POST", NOTIFY_PATH, headers, BODY, service_code="25")
    assert not again.accepted and again.http_status == 409
    assert json.loads(again.body)["responseCode"] == "4092500"
    assert "replay" in again.reason and again.external_id == "ext-0001"


def test_tampered_body_is_refused_and_does_not_burn_the_id(server, key):
    token = issue(server, key)
    headers = notification(key, token, BODY, "ext-0002")
    tampered = BODY.replace("10000.00", "99999.00")
    verdict = server.check("POST", NOTIFY_PATH, headers, tampered, service_code="25")
    assert not verdict.accepted and verdict.http_status == 401
    assert json.loads(verdict.body) == {"responseCode": "4012500", "responseMessage": "Unauthorized. Signature"}
    real = server.check("POST", NOTIFY_PATH, headers, BODY.encode("utf-8"), service_code="25")
    assert real.accepted, real.reason


def test_whitespace_in_body_is_minified_before_hashing(server, key):
    token = issue(server, key)
    pretty = json.dumps(json.loads(BODY), indent=2)
    headers = notification(key, token, pretty, "ext-0003", signed_body=BODY)
    assert server.check("POST", NOTIFY_PATH, headers, pretty).accepted


def test_other_path_or_foreign_token_refused(server, key, config):
    token = issue(server, key)
    headers = notification(key, token, BODY, "ext-0004")
    moved = server.check("POST", "/v1.0/transfer-va/other", headers, BODY, service_code="25")
    assert moved.http_status == 401 and json.loads(moved.body)["responseCode"] == "4012500"
    with snapb2b.Server(dict(config, token_secret="another-merchant-secret-0123456789ab")) as other:
        foreign = other.check("POST", NOTIFY_PATH, headers, BODY, service_code="25")
    assert foreign.http_status == 401 and json.loads(foreign.body)["responseCode"] == "4012501"


def test_no_token(server, key):
    headers = notification(key, "x", BODY, "ext-0005")
    del headers["Authorization"]
    verdict = server.check("POST", NOTIFY_PATH, headers, BODY)
    assert (verdict.http_status, json.loads(verdict.body)["responseCode"]) == (401, "4010001")


def test_unknown_client(server, key):
    answer = server.token_response("POST", TOKEN_PATH, token_headers(key, client="SOMEONE-ELSE"), GRANT)
    assert not answer.accepted and answer.http_status == 401
    assert json.loads(answer.body) == {"responseCode": "4017300", "responseMessage": "Unauthorized. Unknown Client"}
    assert answer.client_id is None


@pytest.mark.parametrize("ts, status, code", [
    ("yesterday", 400, "4007301"),
    ("2024-01-01T10:00:00", 400, "4007301"),  # no offset
    (wib(-3600), 401, "4017300"),  # stale
])
def test_bad_timestamp(server, key, ts, status, code):
    answer = server.token_response("POST", TOKEN_PATH, token_headers(key, ts=ts), GRANT)
    assert (answer.accepted, answer.http_status, json.loads(answer.body)["responseCode"]) == (False, status, code)


def test_stale_notification(server, key):
    token = issue(server, key)
    headers = notification(key, token, BODY, "ext-0006", ts=wib(-3600))
    verdict = server.check("POST", NOTIFY_PATH, headers, BODY, service_code="25")
    assert (verdict.http_status, json.loads(verdict.body)["responseCode"]) == (401, "4012500")


@pytest.mark.parametrize("missing", ["X-CLIENT-KEY", "X-TIMESTAMP", "X-SIGNATURE"])
def test_token_request_missing_header(server, key, missing):
    headers = token_headers(key)
    del headers[missing]
    answer = server.token_response("POST", TOKEN_PATH, headers, GRANT)
    assert answer.http_status == 400
    assert json.loads(answer.body) == {"responseCode": "4007302", "responseMessage": "Invalid Mandatory Field " + missing}


@pytest.mark.parametrize("missing", ["X-TIMESTAMP", "X-SIGNATURE", "X-EXTERNAL-ID"])
def test_notification_missing_header(server, key, missing):
    headers = notification(key, issue(server, key), BODY, "ext-0007")
    del headers[missing]
    verdict = server.check("POST", NOTIFY_PATH, headers, BODY, service_code="25")
    assert (verdict.http_status, json.loads(verdict.body)["responseCode"]) == (400, "4002502")


def test_wrong_grant_type(server, key):
    answer = server.token_response("POST", TOKEN_PATH, token_headers(key), '{"grantType":"password"}')
    assert (answer.http_status, json.loads(answer.body)["responseCode"]) == (400, "4007300")


def test_duplicate_header_is_not_picked_silently(server, key):
    headers = list(token_headers(key).items()) + [("x-signature", "AAAA")]
    answer = server.token_response("POST", TOKEN_PATH, headers, GRANT)
    assert not answer.accepted and answer.http_status == 401


@pytest.mark.parametrize("change, key_named", [
    ({"partners": []}, "partners"),
    ({"token_secret": "short"}, "token_secret"),
    ({"token_ttl_s": 0}, "token_ttl_s"),
    ({"max_skew_s": "300"}, "max_skew_s"),
    ({"replay_file": "/nonexistent-dir/replay"}, "replay_file"),  # a missing directory
    ({"colour": "blue"}, "colour"),
])
def test_config_errors_name_the_key(config, change, key_named):
    bad = dict(config, **change)
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.Server(bad)
    assert key_named in str(info.value)
    if "token_secret" in change:
        assert change["token_secret"] not in str(info.value)


def test_config_as_json_text_and_partner_errors(config, key):
    assert snapb2b.Server(json.dumps(config)).token_response("POST", TOKEN_PATH, token_headers(key), GRANT).accepted
    with pytest.raises(snapb2b.InvalidArgumentError, match="notification_signature"):
        snapb2b.Server({"partners": [{"client_id": "A", "public_key": public_pem(key),
                                      "notification_signature": "dsa"}]})
    with pytest.raises(snapb2b.InvalidArgumentError, match="client_secret"):
        snapb2b.Server({"partners": [{"client_id": "A", "public_key": public_pem(key),
                                      "notification_signature": "hmac"}]})
    with pytest.raises(snapb2b.KeyFormatError):
        snapb2b.Server({"partners": [{"client_id": "A", "public_key": "not a key"}]})
    with pytest.raises(TypeError):
        snapb2b.Server(42)


def test_no_secret_in_repr_or_errors(config):
    config = dict(config, partners=[dict(config["partners"][0], client_secret="hmac-secret-value-123")])
    server = snapb2b.Server(config)
    assert TOKEN_SECRET not in repr(server) and "hmac-secret" not in repr(server)
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.Server(dict(config, token_secret="s3cr3t-but-short"))
    assert "s3cr3t" not in str(info.value) and "s3cr3t" not in repr(info.value)


def test_argument_errors(server):
    with pytest.raises(snapb2b.InvalidArgumentError, match="service_code"):
        server.check("POST", NOTIFY_PATH, {}, "{}", service_code="2")
    with pytest.raises(TypeError):
        server.check("POST", NOTIFY_PATH, {"X-TIMESTAMP": 5}, "{}")
    with pytest.raises(TypeError):
        server.check("POST", NOTIFY_PATH, {}, {"not": "text"})
    with pytest.raises(TypeError):
        server.check("POST", NOTIFY_PATH, ["X-TIMESTAMP"], "{}")


def test_nul_and_bad_utf8_from_the_sender_are_refusals_not_errors(server, key):
    token = issue(server, key)
    headers = notification(key, token, BODY, "ext-\x00-0008")
    verdict = server.check("POST", NOTIFY_PATH, headers, b'{"a":"\xff\x00"}', service_code="25")
    assert not verdict.accepted and verdict.http_status == 401


def test_closed_server(config):
    server = snapb2b.Server(config)
    server.close()
    server.close()
    assert server.closed and "closed" in repr(server)
    with pytest.raises(snapb2b.ClientClosedError):
        server.check("POST", NOTIFY_PATH, {}, "{}")
    with pytest.raises(snapb2b.ClientClosedError):
        with server:
            pass


def test_threads_share_one_server_and_one_replay_memory(server, key):
    token = issue(server, key)
    headers = notification(key, token, BODY, "ext-race")
    results = []

    def worker():
        results.append(server.check("POST", NOTIFY_PATH, headers, BODY).accepted)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
