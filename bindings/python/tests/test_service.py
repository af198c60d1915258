"""Service-call signatures, verification, minify_json and timestamp, checked
against independent computations (hmac/hashlib, cryptography, a minifier
written here) rather than against the library itself."""

import base64
import datetime
import hashlib
import hmac
import json
import random
import re
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

import snapb2b
from test_sign import vectors_file

WIB = datetime.timezone(datetime.timedelta(hours=7))
METHOD, PATH = "POST", "/v1.0/transfer-va/payment?channel=web&x=a%20b"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2FuZGJveA.sig-123"
SECRET = "sandbox-client-secret-0123456789"


# --- an independent oracle ----------------------------------------------------


def reference_minify(text):
    """Drops whitespace outside strings, keeps every other character."""
    out, in_string, escaped = [], False, False
    for c in text:
        if in_string:
            out.append(c)
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c not in " \t\n\r":
            out.append(c)
    return "".join(out)


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def expected_hmac(secret, method, path, token, minified, timestamp):
    data = "{}:{}:{}:{}:{}".format(method.upper(), path, token, sha256_hex(minified), timestamp)
    return base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha512).digest()).decode()


def rsa_string_to_sign(method, path, minified, timestamp):
    return "{}:{}:{}:{}".format(method.upper(), path, sha256_hex(minified), timestamp).encode()


def rsa_sign(key, method, path, minified, timestamp):
    data = rsa_string_to_sign(method, path, minified, timestamp)
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


# Pieces of JSON text whose spelling must survive minification.
STRINGS = [
    r'"plain"', r'"with  two  spaces "', r'" leading and trailing "', r'"say \"hi\""',
    r'"http:\/\/example.com\/a b"', r'"back\\slash"', r'"tab\tnew\nline\r"', r'"caf\u00e9 \uD83D\uDE00"',
    '"café 中文 😀 أ"', '"\u200bzero width"', r'""', r'"\\"', r'"\\\""', r'"a\/b\\\/c"',
    '"colon: comma, brace { bracket ["',
]
NUMBERS = ["0", "-0", "1", "-12", "1.0e+2", "-0.5E-3", "12345678.00", "1e10", "3.14159", "2E+00", "100.000"]
LITERALS = ["true", "false", "null"]
SPACE = " \t\n\r"


def gen_value(rng, depth):
    """A random JSON value as a list of tokens (joined with "": minified)."""
    kind = rng.random()
    if depth <= 0 or kind < 0.45:
        return [rng.choice(STRINGS + NUMBERS + LITERALS)]
    if kind < 0.75:
        tokens = ["{"]
        for i in range(rng.randint(0, 4)):
            if i:
                tokens.append(",")
            tokens += [rng.choice(STRINGS), ":"] + gen_value(rng, depth - 1)
        return tokens + ["}"]
    tokens = ["["]
    for i in range(rng.randint(0, 4)):
        if i:
            tokens.append(",")
        tokens += gen_value(rng, depth - 1)
    return tokens + ["]"]


def spaced(rng, tokens):
    ws = lambda: "".join(rng.choice(SPACE) for _ in range(rng.choice([0, 0, 1, 2, 4])))
    return ws() + "".join(t + ws() for t in tokens)


def gen_bodies(seed, n):
    rng = random.Random(seed)
    bodies = []
    while len(bodies) < n:
        tokens = gen_value(rng, 4)
        if tokens[0] not in "{[":
            tokens = ["{", '"k"', ":"] + tokens + ["}"]
        bodies.append((spaced(rng, tokens), "".join(tokens)))
    return bodies


BODIES = gen_bodies("snapb2b", 150)


def test_generator_is_valid_json_and_the_oracle_agrees():
    for text, minified in BODIES:
        json.loads(text)  # the generator emits JSON
        assert reference_minify(text) == minified
    assert any("\\/" in m for _, m in BODIES) and any("1.0e+2" in m for _, m in BODIES)
    assert any(" " in t and t != m for t, m in BODIES)


# --- minify_json ----------------------------------------------------------------


def test_minify_json_keeps_spelling():
    for text, minified in BODIES:
        assert snapb2b.minify_json(text) == minified, text


def test_minify_json_examples():
    assert snapb2b.minify_json(' { "a" : [ 1.0e+2 , "x \\/ y" ] }\n') == '{"a":[1.0e+2,"x \\/ y"]}'
    assert snapb2b.minify_json('"  just a string  "') == '"  just a string  "'
    assert snapb2b.minify_json('{"b":1,"a":2}') == '{"b":1,"a":2}'  # key order kept


@pytest.mark.parametrize("bad", ["{bad", "", "{'a':1}", '{"a":1,}', "[1 2]", '{"a":1} x', "nul"])
def test_minify_json_rejects_non_json(bad):
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.minify_json(bad)
    assert info.value.status == 1 and "JSON" in info.value.message


# --- symmetric (HMAC-SHA512) ----------------------------------------------------


def load_vectors():
    path = vectors_file()
    if not path.is_file():
        pytest.skip("public vectors not found at {} (set SNAPB2B_VECTORS to the vectors directory)".format(path))
    return path, json.loads(path.read_text())


def test_symmetric_vector():
    _, data = load_vectors()
    cases = data["symmetric_service"]
    assert cases
    for c in cases:
        assert snapb2b.minify_json(c["body"]) == c["minified_body"]
        assert reference_minify(c["body"]) == c["minified_body"]
        args = (c["client_secret"], c["method"], c["path"], c["access_token"], c["body"], c["timestamp"])
        assert snapb2b.service_signature(*args) == c["signature"]
        assert expected_hmac(c["client_secret"], c["method"], c["path"], c["access_token"],
                             c["minified_body"], c["timestamp"]) == c["signature"]
        # The vector's timestamp is long past: valid only without the freshness check.
        assert snapb2b.verify_service_signature(*args, c["signature"], max_skew_s=0) is True
        assert snapb2b.verify_service_signature(*args, c["signature"]) is False


def test_service_signature_matches_hmac_for_generated_bodies():
    rng = random.Random(7)
    for i, (text, minified) in enumerate(BODIES):
        secret = "secret-{}-{}".format(i, rng.choice(["", "é", "中", " x "]))
        token = "tok-{}".format(i)
        ts = "2024-03-05T10:37:{:02d}+07:00".format(i % 60)
        method = rng.choice(["POST", "post", "Put", "GET"])
        got = snapb2b.service_signature(secret, method, PATH, token, text, ts)
        assert got == expected_hmac(secret, method, PATH, token, minified, ts), text
        # already minified, or as a dict serialised here: the same signature
        assert snapb2b.service_signature(secret, method, PATH, token, minified, ts) == got


def test_dict_body_is_serialised_compactly_without_ascii_escapes():
    body = {"partnerReferenceNo": "2020-01", "amount": {"value": "10000.00", "currency": "IDR"},
            "note": "café / 中文 \"q\"", "items": [1, 2.5, None, True]}
    ts = "2024-03-05T10:37:16+07:00"
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    want = expected_hmac(SECRET, METHOD, PATH, TOKEN, compact, ts)
    assert snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, body, ts) == want
    # whatever whitespace is sent, the same characters sign the same
    pretty = json.dumps(body, indent=2, ensure_ascii=False)
    assert snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, pretty, ts) == want
    # ... but \u escapes are different characters: a different signature
    escaped = json.dumps(body, ensure_ascii=True)
    assert snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, escaped, ts) != want
    assert snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, [1, {"a": "é"}], ts) == \
        expected_hmac(SECRET, METHOD, PATH, TOKEN, '[1,{"a":"é"}]', ts)


def test_no_body_hashes_the_empty_string():
    ts = "2024-03-05T10:37:16+07:00"
    want = expected_hmac(SECRET, "GET", "/v1.0/balance", TOKEN, "", ts)
    assert snapb2b.service_signature(SECRET, "GET", "/v1.0/balance", TOKEN, None, ts) == want
    assert snapb2b.service_signature(SECRET, "GET", "/v1.0/balance", TOKEN, "", ts) == want


def now_wib(offset_s=0):
    at = datetime.datetime.now(WIB) + datetime.timedelta(seconds=offset_s)
    return at.isoformat(timespec="seconds")


def test_verify_service_signature():
    for text, minified in BODIES[:40]:
        ts = now_wib()
        sig = expected_hmac(SECRET, METHOD, PATH, TOKEN, minified, ts)
        args = (METHOD, PATH, TOKEN)
        assert snapb2b.verify_service_signature(SECRET, *args, text, ts, sig) is True
        assert snapb2b.verify_service_signature(SECRET, *args, minified, ts, sig) is True
        assert snapb2b.verify_service_signature(SECRET, *args, text, ts, snapb2b.service_signature(SECRET, *args, text, ts))
        # wrong secret, token, path, method, timestamp, body
        assert snapb2b.verify_service_signature(SECRET + "x", *args, text, ts, sig) is False
        assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN + "x", text, ts, sig) is False
        assert snapb2b.verify_service_signature(SECRET, METHOD, PATH + "&y=1", TOKEN, text, ts, sig) is False
        assert snapb2b.verify_service_signature(SECRET, "PUT", PATH, TOKEN, text, ts, sig) is False
        assert snapb2b.verify_service_signature(SECRET, *args, text, now_wib(1), sig) is False
        assert snapb2b.verify_service_signature(SECRET, *args, text[:-1] + " " + text[-1], ts, sig) is True
        tampered = tamper(minified)
        assert snapb2b.verify_service_signature(SECRET, *args, tampered, ts, sig) is False, tampered


def tamper(minified):
    """The same JSON with one significant character changed."""
    for old, new in (('"plain"', '"plajn"'), (" ", "  "), ("1", "2"), ("true", "false"), ("null", "true"),
                     ('"k"', '"K"'), ("[]", "[0]"), ("{}", "[]")):
        if old in minified:
            out = minified.replace(old, new, 1)
            json.loads(out)
            return out
    raise AssertionError("cannot tamper with " + minified)


def test_stale_and_future_timestamps():
    old = now_wib(-600)
    future = now_wib(600)
    for ts in (old, future):
        sig = expected_hmac(SECRET, METHOD, PATH, TOKEN, "{}", ts)
        assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{}", ts, sig, max_skew_s=300) is False
        assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{}", ts, sig) is False  # default 300
        assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{}", ts, sig, max_skew_s=0) is True
        assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{}", ts, sig, max_skew_s=900) is True
    # the same instant in UTC, with milliseconds
    ts = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    sig = expected_hmac(SECRET, METHOD, PATH, TOKEN, "", ts)
    assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, None, ts, sig, max_skew_s=5) is True


def test_malformed_signatures_and_timestamps_are_false_not_errors():
    ts = now_wib()
    for sig in ("", "not base64!!", "AAAA", base64.b64encode(b"x" * 64).decode()):
        assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{}", ts, sig) is False
    sig = expected_hmac(SECRET, METHOD, PATH, TOKEN, "{}", "yesterday")
    assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{}", "yesterday", sig, max_skew_s=0) is False


def test_requests_that_cannot_be_verified_are_false_not_errors():
    # What the sender controls: a truncated body, a missing access token.
    # A receiver answers these like any bad signature.
    ts = now_wib()
    sig = expected_hmac(SECRET, METHOD, PATH, TOKEN, "{}", ts)
    assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{}", ts, sig) is True
    assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, '{"a":1', ts, sig) is False
    assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, "", "{}", ts, sig) is False


# --- asymmetric (SHA256withRSA) ---------------------------------------------------


@pytest.fixture(scope="module")
def key(rsa_keys):
    return rsa_keys[0]


@pytest.fixture(scope="module")
def private_pem(key, pem):
    return pem(key, "pkcs8")


@pytest.fixture(scope="module")
def public_forms(key):
    """The same public key in every accepted spelling."""
    public = key.public_key()
    spki = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    pkcs1 = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "snapb2b test provider")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    forms = {
        "spki": spki,
        "pkcs1": pkcs1,
        "certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "base64-der": base64.b64encode(der).decode(),
    }
    assert "BEGIN PUBLIC KEY" in spki and "BEGIN RSA PUBLIC KEY" in pkcs1
    assert "BEGIN CERTIFICATE" in forms["certificate"]
    return forms


def test_service_signature_rsa_matches_cryptography(rsa_keys, pem):
    rng = random.Random(3)
    for n, key in enumerate(rsa_keys):
        text_key = pem(key, "pkcs1" if n % 2 else "pkcs8")
        for text, minified in BODIES[n::10]:
            method = rng.choice(["POST", "post", "GET"])
            ts = "2024-03-05T10:37:16.{:03d}Z".format(rng.randint(0, 999))
            got = snapb2b.service_signature_rsa(text_key, method, PATH, text, ts)
            # PKCS#1 v1.5 is deterministic: byte-identical, and it verifies
            assert got == rsa_sign(key, method, PATH, minified, ts)
            key.public_key().verify(base64.b64decode(got), rsa_string_to_sign(method, PATH, minified, ts),
                                    padding.PKCS1v15(), hashes.SHA256())


def test_cryptography_signatures_are_accepted(key, public_forms):
    public = public_forms["spki"]
    for text, minified in BODIES[:30]:
        ts = now_wib()
        sig = rsa_sign(key, METHOD, PATH, minified, ts)
        assert snapb2b.verify_service_signature_rsa(public, METHOD, PATH, text, ts, sig) is True
        assert snapb2b.verify_service_signature_rsa(public, METHOD, PATH, tamper(minified), ts, sig) is False
        assert snapb2b.verify_service_signature_rsa(public, METHOD, PATH, text, now_wib(2), sig) is False
        assert snapb2b.verify_service_signature_rsa(public, METHOD, "/other", text, ts, sig) is False


def test_public_key_forms(key, private_pem, public_forms, rsa_keys):
    ts = now_wib()
    body = '{"notify": "paid", "amount": {"value": "1.00"}}'
    service_sig = snapb2b.service_signature_rsa(private_pem, METHOD, PATH, body, ts)
    b2b_sig = snapb2b.sign(private_pem, "PROVIDER-CLIENT", ts)
    other = rsa_keys[2].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    for form, public in public_forms.items():
        assert snapb2b.verify_service_signature_rsa(public, METHOD, PATH, body, ts, service_sig) is True, form
        assert snapb2b.verify(public, "PROVIDER-CLIENT", ts, b2b_sig) is True, form
        assert snapb2b.verify(public, "PROVIDER-CLIENX", ts, b2b_sig) is False, form
        assert snapb2b.verify(public, "PROVIDER-CLIENT", now_wib(1), b2b_sig) is False, form
    assert snapb2b.verify_service_signature_rsa(other, METHOD, PATH, body, ts, service_sig) is False
    assert snapb2b.verify(other, "PROVIDER-CLIENT", ts, b2b_sig) is False


def test_verify_b2b_against_cryptography_and_skew(key, public_forms):
    public = public_forms["pkcs1"]
    for offset, skew, ok in ((0, 300, True), (-600, 300, False), (-600, 0, True), (600, 300, False), (-200, 300, True)):
        ts = now_wib(offset)
        sig = base64.b64encode(key.sign("CID|{}".format(ts).encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
        assert snapb2b.verify(public, "CID", ts, sig, max_skew_s=skew) is ok, (offset, skew)


def test_b2b_vectors_verify():
    path, data = load_vectors()
    private = serialization.load_pem_private_key((path.parent / data["private_key_file"]).read_bytes(), None)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    for c in data["asymmetric_b2b_token"]:
        assert snapb2b.verify(public, c["client_id"], c["timestamp"], c["signature"], max_skew_s=0) is True
        assert snapb2b.verify(public, c["client_id"] + "x", c["timestamp"], c["signature"], max_skew_s=0) is False


def test_bad_public_keys_raise(private_pem, key):
    ts = now_wib()
    sig = snapb2b.sign(private_pem, "CID", ts)
    for bad in (private_pem, "not a key", "", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"):
        with pytest.raises(snapb2b.KeyFormatError) as info:
            snapb2b.verify(bad, "CID", ts, sig)
        assert info.value.status == 2
        with pytest.raises(snapb2b.KeyFormatError):
            snapb2b.verify_service_signature_rsa(bad, METHOD, PATH, "{}", ts, sig)
    with pytest.raises(snapb2b.KeyFormatError):
        snapb2b.service_signature_rsa(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
            METHOD, PATH, "{}", ts)


# --- argument checking ---------------------------------------------------------


def test_bad_arguments_raise_instead_of_returning_false(public_forms):
    ts = now_wib()
    public = public_forms["spki"]
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.service_signature(SECRET, "PO ST", PATH, TOKEN, "{}", ts)
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.service_signature("", METHOD, PATH, TOKEN, "{}", ts)
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.service_signature(SECRET, METHOD, "", TOKEN, "{}", ts)
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, "{not json", ts)
    assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{not json", ts, "AAAA") is False
    # The receiver's own mistakes raise even when the request is stale too.
    for when in (ts, "2020-01-01T00:00:00+07:00"):
        with pytest.raises(snapb2b.InvalidArgumentError):
            snapb2b.verify_service_signature("", METHOD, PATH, TOKEN, "{}", when, "AAAA")
        with pytest.raises(snapb2b.InvalidArgumentError):
            snapb2b.verify_service_signature_rsa(public, METHOD, "", "{}", when, "AAAA")
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.verify_service_signature_rsa(public, "", PATH, "{}", ts, "AAAA")
    for skew in (-1, 2 ** 31, -(2 ** 40)):  # the library's range; then a C int's
        with pytest.raises(snapb2b.InvalidArgumentError):
            snapb2b.verify(public, "CID", ts, "AAAA", max_skew_s=skew)
    for skew in ("300", 1.5, None, True):
        with pytest.raises(TypeError):
            snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, "{}", ts, "AAAA", max_skew_s=skew)


def test_text_argument_types_and_nul():
    ts = "2024-03-05T10:37:16+07:00"
    with pytest.raises(TypeError):
        snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, b"{}", ts)
    with pytest.raises(TypeError):
        snapb2b.service_signature(SECRET, METHOD, PATH, None, "{}", ts)
    with pytest.raises(TypeError):
        snapb2b.minify_json(None)
    with pytest.raises(TypeError):
        snapb2b.minify_json({"a": 1})
    # NUL would silently truncate in C: "{}\0..." must not sign as "{}"
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, '{"a":"x\0y"}', ts)
    with pytest.raises(snapb2b.InvalidArgumentError):
        snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, {"a": "x\ud800"}, ts)
    # a NUL inside a dict value is escaped by json.dumps, so it is signed whole
    assert snapb2b.service_signature(SECRET, METHOD, PATH, TOKEN, {"a": "x\0y"}, ts) == \
        expected_hmac(SECRET, METHOD, PATH, TOKEN, '{"a":"x\\u0000y"}', ts)


# --- timestamps ----------------------------------------------------------------

STYLES = {
    "wib": (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", 7),
    "wib_ms": (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00", 7),
    "utc": (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", 0),
    "utc_ms": (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", 0),
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_timestamp_styles(style):
    pattern, hours = STYLES[style]
    value = snapb2b.timestamp(style)
    assert re.fullmatch(pattern, value), value
    at = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert at.utcoffset() == datetime.timedelta(hours=hours)
    assert abs(at.timestamp() - time.time()) < 2
    # and it is what the verifiers accept as fresh
    sig = expected_hmac(SECRET, METHOD, PATH, TOKEN, "", value)
    assert snapb2b.verify_service_signature(SECRET, METHOD, PATH, TOKEN, None, value, sig, max_skew_s=2)


def test_timestamp_default_and_unknown_style():
    assert re.fullmatch(STYLES["wib"][0], snapb2b.timestamp())
    for bad in ("WIB", "local", ""):
        with pytest.raises(snapb2b.InvalidArgumentError):
            snapb2b.timestamp(bad)
