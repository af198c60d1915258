"""SNAP (Bank Indonesia Open API) B2B access tokens and service-call
signatures: Python bindings to the snapb2b C library (``libsnapb2b.so``), in
pure ctypes.

    >>> import snapb2b
    >>> client = snapb2b.Client(provider="doku", environment="sandbox",
    ...                         client_id="...", private_key_file="key.pem")
    >>> headers = {"Authorization": client.token().authorization}
"""

import json
import os
import threading
import weakref
from ctypes import byref, c_void_p
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _native
from ._errors import (
    ClientClosedError,
    CryptoError,
    InternalError,
    InvalidArgumentError,
    KeyFormatError,
    ProtocolError,
    ProviderError,
    RequestTimeoutError,
    SignatureInvalidError,
    SnapError,
    TransportError,
)

__all__ = [
    "Token",
    "CustomerToken",
    "Client",
    "Response",
    "Server",
    "ServerResponse",
    "Verdict",
    "external_id",
    "sign",
    "get_token",
    "service_signature",
    "service_signature_rsa",
    "verify",
    "verify_service_signature",
    "verify_service_signature_rsa",
    "minify_json",
    "timestamp",
    "library_version",
    "DEFAULT_MAX_SKEW_S",
    "SnapError",
    "InvalidArgumentError",
    "ClientClosedError",
    "KeyFormatError",
    "CryptoError",
    "TransportError",
    "RequestTimeoutError",
    "ProviderError",
    "ProtocolError",
    "SignatureInvalidError",
    "InternalError",
]

#: This package's version (as in pyproject.toml); the native library's is
#: :func:`library_version`.
__version__ = "0.1.0"

#: The ``max_skew_s`` the ``verify*`` functions use when given none: the C
#: header's ``B2B_DEFAULT_MAX_SKEW_S``. A ``#define`` is not a symbol ctypes
#: can read, so it is repeated here; tests/test_library.py checks it against
#: the header.
DEFAULT_MAX_SKEW_S = 300


def library_version() -> str:
    """The loaded native library's version (semver, ``b2b_version()``)."""
    return _native.lib.b2b_version().decode("utf-8")  # type: ignore[no-any-return]


def _mask(secret: str) -> str:
    # As PHP's Token::mask: below 16 characters, 6 + 4 shown would be most of it.
    return "{}...{}".format(secret[:6], secret[-4:]) if len(secret) >= 16 else "***"


@dataclass(frozen=True, repr=False)
class Token:
    """A B2B access token. ``expires_at`` is Unix seconds. ``cached`` is True
    when :meth:`Client.token` answered without making the request itself
    (memory, cache file, Redis, or another thread's request); always False
    from :func:`get_token`. ``cache`` (with ``cache_file`` or ``cache_url``)
    is ``"on"`` while the token is shared, else what is not and why
    (``"off: ..."`` for the file, ``"unavailable: redis at ...: ..."`` for
    Redis). The ``repr`` masks the token; use ``access_token`` or
    ``authorization`` to send it."""

    provider: str
    access_token: str
    token_type: str
    expires_in: int
    expires_at: int
    response_code: Optional[str]
    response_message: Optional[str]
    cached: bool = False
    cache: Optional[str] = None
    #: The provider's ``additionalInfo`` object as it sent it, or None.
    additional_info: Optional[Dict[str, Any]] = None

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value: the token's own type (as the
        provider sent it: ``"Bearer"``, ``"Mac"``, ...), a space, the token."""
        return self.token_type + " " + self.access_token

    def __repr__(self) -> str:
        return (
            "Token(provider={!r}, access_token={!r}, token_type={!r}, expires_in={!r}, "
            "expires_at={!r}, response_code={!r}, response_message={!r}, cached={!r}, cache={!r}, "
            "additional_info={!r})".format(
                self.provider,
                _mask(self.access_token),
                self.token_type,
                self.expires_in,
                self.expires_at,
                self.response_code,
                self.response_message,
                self.cached,
                self.cache,
                self.additional_info,
            )
        )


@dataclass(frozen=True, repr=False)
class CustomerToken:
    """A customer (SNAP B2B2C) token from :meth:`Client.customer_token`.
    ``access_token_expires_at`` / ``refresh_token_expires_at`` are Unix
    seconds (None when the provider sent no expiry time). Keep
    ``refresh_token`` to ask for the next one; each is usable once. The
    ``repr`` masks both tokens."""

    provider: str
    access_token: str
    token_type: str
    access_token_expires_at: Optional[int]
    refresh_token: Optional[str]
    refresh_token_expires_at: Optional[int]
    customer_id: Optional[str]
    additional_info: Optional[Dict[str, Any]]
    response_code: Optional[str]
    response_message: Optional[str]

    @property
    def authorization(self) -> str:
        """The ``Authorization-Customer`` header value: ``"Bearer <token>"``
        (the token's own type)."""
        return "{} {}".format(self.token_type, self.access_token)

    def __repr__(self) -> str:
        return (
            "CustomerToken(provider={!r}, access_token={!r}, token_type={!r}, access_token_expires_at={!r}, "
            "refresh_token={!r}, refresh_token_expires_at={!r}, customer_id={!r}, response_code={!r}, "
            "response_message={!r})".format(
                self.provider,
                _mask(self.access_token),
                self.token_type,
                self.access_token_expires_at,
                None if self.refresh_token is None else _mask(self.refresh_token),
                self.refresh_token_expires_at,
                self.customer_id,
                self.response_code,
                self.response_message,
            )
        )


def _customer_token(raw: str) -> CustomerToken:
    """The library's customer token JSON; unreadable JSON is a library bug."""
    try:
        data = json.loads(raw)
    except ValueError:
        data = None  # not the parser's message: it could quote a token
    try:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")

        def optional(key: str, kind: type) -> Any:
            return None if data.get(key) is None else _field(data, key, kind)

        return CustomerToken(
            provider=_field(data, "provider", str),
            access_token=_field(data, "access_token", str),
            token_type=_field(data, "token_type", str),
            access_token_expires_at=optional("access_token_expires_at", int),
            refresh_token=optional("refresh_token", str),
            refresh_token_expires_at=optional("refresh_token_expires_at", int),
            customer_id=optional("customer_id", str),
            additional_info=optional("additional_info", dict),
            response_code=data.get("response_code"),
            response_message=data.get("response_message"),
        )
    except KeyError as e:
        problem = "no `{}`".format(e.args[0])
    except TypeError as e:
        problem = str(e)
    raise InternalError(
        "the library returned customer token JSON this binding cannot read ({}); please report it".format(problem)
    )


def _text(value: Any, name: str) -> bytes:
    """A text argument as NUL-terminated-safe UTF-8."""
    if not isinstance(value, str):
        raise TypeError("{} must be str, not {}".format(name, type(value).__name__))
    if "\0" in value:
        raise InvalidArgumentError("`{}` contains a NUL character".format(name))
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError("`{}` is not valid Unicode (lone surrogate)".format(name)) from None


def sign(private_key: str, client_id: str, timestamp: str) -> str:
    """The SNAP B2B signature: base64 SHA256withRSA of ``client_id|timestamp``.

    ``private_key`` is the PEM (PKCS#8 or PKCS#1) text, or bare base64 DER.
    """
    out = c_void_p()
    _native.lib.b2b_sign(
        _text(private_key, "private_key"),
        _text(client_id, "client_id"),
        _text(timestamp, "timestamp"),
        byref(out),
    )
    return _native.take_string(out)


def _json_value(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError("config values must be str, int, bool or None, not {}".format(type(value).__name__))


def _config_json(config: Optional[Mapping[str, Any]], options: Mapping[str, Any]) -> str:
    """``config`` updated with ``options``, as the library's config JSON."""
    if config is not None and not isinstance(config, Mapping):
        raise TypeError("config must be a mapping, not {}".format(type(config).__name__))
    merged = dict(config or {})  # type: Dict[Any, Any]
    merged.update(options)
    for key in merged:
        if not isinstance(key, str):
            raise TypeError("config keys must be str, not {}".format(type(key).__name__))
    for key, value in merged.items():
        if isinstance(value, (bytes, bytearray)):
            raise TypeError("config key `{}` must not be bytes".format(key))
    return json.dumps(merged, default=_json_value)


def _token(raw: str) -> Token:
    """The library's token JSON as a Token. JSON this cannot read is a bug
    in the library, hence INTERNAL (as PHP's Token::fromJson)."""
    try:
        data = json.loads(raw)
    except ValueError:
        # Not the parser's message: it could quote the token.
        data = None
    try:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return Token(
            provider=_field(data, "provider", str),
            access_token=_field(data, "access_token", str),
            token_type=_field(data, "token_type", str),
            expires_in=_field(data, "expires_in", int),
            expires_at=_field(data, "expires_at", int),
            response_code=data.get("response_code"),
            response_message=data.get("response_message"),
            cached=data.get("cached") is True,
            cache=data.get("cache") if isinstance(data.get("cache"), str) else None,
            additional_info=data.get("additional_info") if isinstance(data.get("additional_info"), dict) else None,
        )
    except KeyError as e:
        problem = "no `{}`".format(e.args[0])
    except TypeError as e:
        problem = str(e)
    raise InternalError(
        "the library returned token JSON this binding cannot read ({}); please report it".format(problem)
    )


def _field(data: Dict[str, Any], key: str, kind: type) -> Any:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError("`{}` is not {}".format(key, kind.__name__))
    return value


def get_token(config: Optional[Mapping[str, Any]] = None, **options: Any) -> Token:
    """Requests a B2B access token (one request, no caching: see
    :class:`Client` for that).

    ``config`` and keyword arguments are the C library's config keys
    (``provider``, ``base_url`` or ``environment``, ``client_id``,
    ``private_key`` or ``private_key_file``, ...); keywords override
    ``config``. Raises a :class:`SnapError` subclass on failure.
    """
    config_json = _config_json(config, options)
    out = c_void_p()
    _native.lib.b2b_get_token(_text(config_json, "config"), byref(out))
    return _token(_native.take_string(out))


#: How much of a response body ``repr(Response)`` shows.
_REPR_BODY_CHARS = 200


@dataclass(frozen=True, repr=False)
class Response:
    """The provider's answer to :meth:`Client.request`: any HTTP answer,
    whatever its status (a failure to get one raises instead).

    ``headers`` has lower-case names. ``text`` is the body exactly as
    received; :meth:`json` parses it. ``response_code`` and
    ``response_message`` are the SNAP ``responseCode`` / ``responseMessage``
    of the body (None when it has none). ``external_id`` is the
    X-EXTERNAL-ID sent: keep it to ask for the call's status later.
    ``token_renewed`` is True when the provider refused the token once and
    the call was sent again with a new one (``attempts`` is then 2)."""

    http_status: int
    headers: Dict[str, str]
    text: str
    response_code: Optional[str]
    response_message: Optional[str]
    external_id: str
    token_renewed: bool
    attempts: int

    @property
    def ok(self) -> bool:
        """HTTP 2xx and a SNAP response code starting with "2"."""
        return 200 <= self.http_status < 300 and (self.response_code or "").startswith("2")

    def json(self) -> Any:
        """The body parsed as JSON (``ValueError`` when it is not JSON)."""
        return json.loads(self.text)

    def __repr__(self) -> str:
        # Bodies can be large: show the start only.
        text = self.text
        if len(text) > _REPR_BODY_CHARS:
            text = "{}... ({} characters)".format(text[:_REPR_BODY_CHARS], len(self.text))
        return (
            "Response(http_status={!r}, response_code={!r}, response_message={!r}, external_id={!r}, "
            "token_renewed={!r}, attempts={!r}, text={!r})".format(
                self.http_status,
                self.response_code,
                self.response_message,
                self.external_id,
                self.token_renewed,
                self.attempts,
                text,
            )
        )


def _response(raw: str) -> Response:
    """The library's response JSON as a Response; a shape this cannot read is
    a library bug, hence INTERNAL (as :func:`_token`)."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        headers = _field(data, "headers", dict)
        return Response(
            http_status=_field(data, "http_status", int),
            headers={str(k): str(v) for k, v in headers.items()},
            text=_field(data, "body", str),
            response_code=data.get("response_code"),
            response_message=data.get("response_message"),
            external_id=_field(data, "external_id", str),
            token_renewed=data.get("token_renewed") is True,
            attempts=_field(data, "attempts", int),
        )
    except ValueError:
        problem = "not JSON"  # not the parser's message: it could quote the body
    except KeyError as e:
        problem = "no `{}`".format(e.args[0])
    except TypeError as e:
        problem = str(e)
    raise InternalError(
        "the library returned response JSON this binding cannot read ({}); please report it".format(problem)
    )


def external_id() -> str:
    """A fresh X-EXTERNAL-ID: 32 decimal digits from the OS's CSPRNG, not
    starting with 0. :meth:`Client.headers` and :meth:`Client.request` make
    their own; use this to choose one before a call (and retry the call
    with the same id)."""
    out = c_void_p()
    _native.lib.b2b_external_id(byref(out))
    return _native.take_string(out)


# Live clients, so that a forked child can drop the parent's handles (see
# Client._after_fork).
_clients = weakref.WeakSet()  # type: weakref.WeakSet[Client]


class Client:
    """A caching token client: keeps the token while it is fresh, lets one
    caller renew it while the others wait, retries transient failures, and
    can share the token with other processes through ``cache_file``.

    ``config`` and keyword arguments (keywords win) are the
    :func:`get_token` keys plus ``refresh_margin_s`` (default 60),
    ``cache_file`` (a path shared by every process using the same config)
    and ``max_retries`` (default 2). For service calls (:meth:`headers`,
    :meth:`request`) also ``channel_id`` (required), ``client_secret``
    (the HMAC key, required unless ``service_signature`` is ``"rsa"``),
    ``partner_id`` (default: ``client_id``), ``service_signature``
    (``"hmac"`` or ``"rsa"``), ``external_id_length`` (16 to 36) and
    ``max_response_bytes``. The key is read once, here; a bad config or key
    raises here.

    One Client may be shared by any number of threads. ``close()`` frees it
    (also on ``with`` exit, and as a last resort when it is garbage
    collected); calls already running finish normally, later ones raise
    :class:`ClientClosedError`. After ``os.fork()`` the child leaves the
    parent's handle (and its connection) alone and builds its own on first
    use.
    """

    def __init__(self, config: Optional[Mapping[str, Any]] = None, **options: Any) -> None:
        self._handle = None  # type: Optional[int]
        self._closed = True  # until the handle exists: __del__ may run after a failed __init__
        self._users = 0
        self._lock = threading.Lock()
        config_json = _config_json(config, options)
        merged = json.loads(config_json)
        self._provider = merged.get("provider")
        self._client_id = merged.get("client_id")
        # Kept (until close) only to rebuild the handle in a forked child.
        self._config = _text(config_json, "config")
        self._handle = self._new_handle()
        self._closed = False
        _clients.add(self)

    def _new_handle(self) -> int:
        handle = c_void_p()
        _native.lib.b2b_client_new(self._config, byref(handle))
        if not handle.value:
            raise InternalError("b2b_client_new reported success but returned NULL")
        return handle.value

    def _acquire(self) -> int:
        with self._lock:
            if self._closed:
                raise ClientClosedError("this snapb2b.Client is closed")
            if self._handle is None:  # first use in a forked child
                self._handle = self._new_handle()
            self._users += 1
            return self._handle

    def _release(self) -> None:
        with self._lock:
            self._users -= 1
            handle = self._free_if_unused()
        if handle is not None:
            _native.lib.b2b_client_free(handle)

    def _free_if_unused(self) -> Optional[int]:
        """With the lock held: the handle to free, if closed and unused."""
        if self._closed and self._users == 0 and self._handle is not None:
            handle, self._handle = self._handle, None
            return handle
        return None

    def token(self) -> Token:
        """The current token (``cached`` says whether this call fetched it).
        Raises a :class:`SnapError` subclass when no usable token can be had."""
        handle = self._acquire()
        try:
            out = c_void_p()
            _native.lib.b2b_client_token(handle, byref(out))
            raw = _native.take_string(out)
        finally:
            self._release()
        return _token(raw)

    def invalidate(self) -> None:
        """Drops the cached token, also from ``cache_file``, so the next
        :meth:`token` fetches a new one (e.g. after a service call answered
        401 "Invalid Token (B2B)")."""
        handle = self._acquire()
        try:
            _native.lib.b2b_client_invalidate(handle)
        finally:
            self._release()

    def customer_token(
        self,
        auth_code: Optional[str] = None,
        refresh_token: Optional[str] = None,
        additional_info: Optional[Mapping[str, Any]] = None,
        timeout_ms: Optional[int] = None,
    ) -> CustomerToken:
        """Exchanges the customer's ``auth_code`` (grant
        ``authorization_code``) or a ``refresh_token`` (grant
        ``refresh_token``) -- exactly one -- for a customer (SNAP B2B2C)
        token, signed as the B2B token is, over the client's connection.
        ``additional_info`` is sent as ``additionalInfo``. Nothing is cached.

        Raises :class:`InvalidArgumentError` for both or neither grant, a
        bad value, or a provider without a B2B2C endpoint;
        :class:`ProviderError` (with ``response_code`` and ``hint``) when
        the provider refuses a code or refresh token. A request that may
        have reached the provider is never re-sent (the code may be used up).
        """
        request = {}  # type: Dict[str, Any]
        if auth_code is not None:
            _text(auth_code, "auth_code")
            request["auth_code"] = auth_code
        if refresh_token is not None:
            _text(refresh_token, "refresh_token")
            request["refresh_token"] = refresh_token
        if additional_info is not None:
            if not isinstance(additional_info, Mapping):
                raise TypeError("additional_info must be a mapping, not {}".format(type(additional_info).__name__))
            request["additional_info"] = dict(additional_info)
        if timeout_ms is not None:
            if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
                raise TypeError("timeout_ms must be int, not {}".format(type(timeout_ms).__name__))
            request["timeout_ms"] = timeout_ms
        request_b = _text(json.dumps(request, ensure_ascii=False), "request")
        handle = self._acquire()
        try:
            out = c_void_p()
            _native.lib.b2b_client_customer_token(handle, request_b, byref(out))
            raw = _native.take_string(out)
        finally:
            self._release()
        return _customer_token(raw)

    def headers(self, method: str, path: str, body: "CallBody" = None) -> Dict[str, str]:
        """The headers of one SNAP service call, in this order:
        ``Content-Type``, ``Authorization`` (a fresh token, through the
        cache), ``X-TIMESTAMP``, ``X-SIGNATURE``, ``X-PARTNER-ID``,
        ``X-EXTERNAL-ID`` (new for each call), ``CHANNEL-ID``.

        ``path`` is the URL path relative to ``base_url``, query included,
        exactly as it will be sent. ``body`` is JSON text (``str`` or UTF-8
        ``bytes``), a dict / list, or None for no body. The signature covers
        the *minified* body, so send exactly that: ``minify_json(text)`` for
        text, and for a dict / list
        ``json.dumps(body, separators=(",", ":"), ensure_ascii=False)``
        (the text signed here). :meth:`request` does all of this for you.

        Raises :class:`InvalidArgumentError` for a bad method, path or body,
        or a config without ``channel_id`` (or ``client_secret`` for hmac).
        """
        method_b, path_b, body_b = _text(method, "method"), _text(path, "path"), _call_body(body)
        handle = self._acquire()
        try:
            out = c_void_p()
            _native.lib.b2b_client_headers(handle, method_b, path_b, body_b, byref(out))
            raw = _native.take_string(out)
        finally:
            self._release()
        headers = json.loads(raw)  # keeps the library's order
        if not isinstance(headers, dict):
            raise InternalError("the library returned headers that are not a JSON object; please report it")
        return headers  # type: ignore[no-any-return]

    def request(
        self,
        method: str,
        path: str,
        body: "CallBody" = None,
        headers: Optional[Mapping[str, str]] = None,
        external_id: Optional[str] = None,
        timeout_ms: Optional[int] = None,
        customer_token: Optional[str] = None,
    ) -> Response:
        """Makes one SNAP service call: builds and signs its headers (as
        :meth:`headers`), sends it over the client's connection and returns
        the provider's answer, whatever its HTTP status.

        ``body`` as for :meth:`headers`; it is sent minified, with its own
        spelling (numbers, escapes, key order) kept. ``headers`` are extra
        headers to send. ``external_id`` replaces the generated
        X-EXTERNAL-ID (to retry a call under the same id).
        ``customer_token`` (a :class:`CustomerToken`'s ``access_token``) is
        sent as ``Authorization-Customer: Bearer <token>``.

        When the provider refuses the token (HTTP 401, SNAP ``401xx01``),
        the token is renewed once and the call sent once more
        (``token_renewed``, ``attempts == 2``). Otherwise failures raise:
        :class:`TransportError`, :class:`RequestTimeoutError` or
        :class:`ProtocolError`, whose message says "not sent" (safe to
        retry) or "it may have been processed" (it was sent and is never
        re-sent: query its status with the X-EXTERNAL-ID the message names).
        """
        request = {"method": method, "path": path}  # type: Dict[str, Any]
        _text(method, "method")
        _text(path, "path")
        body_b = _call_body(body)
        if body_b is not None:
            # As a JSON string, so that the library keeps the text's spelling.
            request["body"] = body_b.decode("utf-8")
        if headers is not None:
            if not isinstance(headers, Mapping):
                raise TypeError("headers must be a mapping, not {}".format(type(headers).__name__))
            for name, value in headers.items():
                _text(name, "header name")
                _text(value, "header `{}`".format(name))
            request["headers"] = dict(headers)
        if external_id is not None:
            _text(external_id, "external_id")
            request["external_id"] = external_id
        if timeout_ms is not None:
            if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
                raise TypeError("timeout_ms must be int, not {}".format(type(timeout_ms).__name__))
            request["timeout_ms"] = timeout_ms
        if customer_token is not None:
            _text(customer_token, "customer_token")
            request["customer_token"] = customer_token
        request_b = _text(json.dumps(request, ensure_ascii=False), "request")
        handle = self._acquire()
        try:
            out = c_void_p()
            _native.lib.b2b_client_request(handle, request_b, byref(out))
            raw = _native.take_string(out)
        finally:
            self._release()
        return _response(raw)

    def close(self) -> None:
        """Frees the client. Idempotent. Calls running in other threads
        finish first (the handle is freed when the last one returns)."""
        with self._lock:
            self._closed = True
            self._config = b""
            handle = self._free_if_unused()
        if handle is not None:
            _native.lib.b2b_client_free(handle)

    @property
    def closed(self) -> bool:
        return self._closed

    def _after_fork(self) -> None:
        # In the child: the parent's handle shares the parent's TLS
        # connection, so it is neither used nor freed here (a small leak, once
        # per fork). No other thread exists, so the lock is simply replaced.
        self._lock = threading.Lock()
        self._users = 0
        self._handle = None

    def __enter__(self) -> "Client":
        if self._closed:
            raise ClientClosedError("this snapb2b.Client is closed")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone
            pass

    def __repr__(self) -> str:
        return "<snapb2b.Client provider={!r} client_id={!r}{}>".format(
            self._provider, self._client_id, " closed" if self._closed else ""
        )


def _after_fork_in_child() -> None:
    for client in list(_clients):
        client._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


Body = Union[str, Mapping[str, Any], List[Any], None]
CallBody = Union[str, bytes, Mapping[str, Any], List[Any], None]


def _body(body: Body) -> Optional[bytes]:
    """A service-call body as the library expects it: text, or NULL. A dict
    or list is serialised once, compactly: that text is what is signed."""
    if body is None:
        return None
    if isinstance(body, (Mapping, list)):
        body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return _text(body, "body")


def _call_body(body: CallBody) -> Optional[bytes]:
    """As _body, and UTF-8 bytes too: what Client.headers/request accept
    (bytes are what an HTTP client holds; the signature functions keep
    refusing them)."""
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgumentError("`body` is not valid UTF-8") from None
    return _body(body)


_C_INT_MIN, _C_INT_MAX = -(2 ** 31), 2 ** 31 - 1


def _skew(max_skew_s: int) -> int:
    """``max_skew_s`` as a C int. Its range (no negative values) is the
    library's rule, checked there; only a value ctypes cannot pass at all is
    refused here."""
    if isinstance(max_skew_s, bool) or not isinstance(max_skew_s, int):
        raise TypeError("max_skew_s must be int, not {}".format(type(max_skew_s).__name__))
    if not _C_INT_MIN <= max_skew_s <= _C_INT_MAX:
        raise InvalidArgumentError("max_skew_s does not fit a C int (at most {} seconds)".format(_C_INT_MAX))
    return max_skew_s


def service_signature(
    client_secret: str, method: str, path: str, access_token: str, body: Body, timestamp: str
) -> str:
    """The symmetric SNAP service signature (``X-SIGNATURE``):
    base64(HMAC-SHA512(client_secret,
    ``METHOD:path:access_token:hex(sha256(minify(body))):timestamp``)).

    ``path`` is the endpoint path with its query string, as sent. ``body`` is
    the JSON text you send, or a dict / list (serialised compactly with
    ``ensure_ascii=False``), or None / "" for no body. The library minifies it,
    so the whitespace of the text you send does not matter; its characters
    do.
    """
    out = c_void_p()
    _native.lib.b2b_service_signature(
        _text(client_secret, "client_secret"),
        _text(method, "method"),
        _text(path, "path"),
        _text(access_token, "access_token"),
        _body(body),
        _text(timestamp, "timestamp"),
        byref(out),
    )
    return _native.take_string(out)


def service_signature_rsa(private_key: str, method: str, path: str, body: Body, timestamp: str) -> str:
    """The asymmetric SNAP service / notification signature:
    base64(SHA256withRSA(``METHOD:path:hex(sha256(minify(body))):timestamp``)).
    Key forms as :func:`sign`; ``body`` as :func:`service_signature`."""
    out = c_void_p()
    _native.lib.b2b_service_signature_rsa(
        _text(private_key, "private_key"),
        _text(method, "method"),
        _text(path, "path"),
        _body(body),
        _text(timestamp, "timestamp"),
        byref(out),
    )
    return _native.take_string(out)


def verify(
    public_key: str, client_id: str, timestamp: str, signature: str, max_skew_s: int = DEFAULT_MAX_SKEW_S
) -> bool:
    """Checks a B2B token-request signature over ``client_id|timestamp``.

    ``public_key``: PEM SPKI (``PUBLIC KEY``), PEM PKCS#1 (``RSA PUBLIC
    KEY``), an X.509 certificate PEM, or bare base64 DER. Returns False when
    the signature does not match or ``timestamp`` is malformed or more than
    ``max_skew_s`` seconds from now (0: no freshness check); raises
    :class:`KeyFormatError` for an unreadable key and
    :class:`InvalidArgumentError` for bad arguments."""
    return _native.lib.b2b_verify(  # type: ignore[no-any-return]
        _text(public_key, "public_key"),
        _text(client_id, "client_id"),
        _text(timestamp, "timestamp"),
        _text(signature, "signature"),
        _skew(max_skew_s),
    )


def verify_service_signature_rsa(
    public_key: str,
    method: str,
    path: str,
    body: Body,
    timestamp: str,
    signature: str,
    max_skew_s: int = DEFAULT_MAX_SKEW_S,
) -> bool:
    """Checks an asymmetric service or notification signature (see
    :func:`service_signature_rsa`); results and errors as :func:`verify`,
    and a body that is not JSON is False (it cannot carry a valid
    signature), while an empty ``method`` or ``path`` raises."""
    return _native.lib.b2b_verify_service_signature_rsa(  # type: ignore[no-any-return]
        _text(public_key, "public_key"),
        _text(method, "method"),
        _text(path, "path"),
        _body(body),
        _text(timestamp, "timestamp"),
        _text(signature, "signature"),
        _skew(max_skew_s),
    )


def verify_service_signature(
    client_secret: str,
    method: str,
    path: str,
    access_token: str,
    body: Body,
    timestamp: str,
    signature: str,
    max_skew_s: int = DEFAULT_MAX_SKEW_S,
) -> bool:
    """Checks a symmetric (HMAC-SHA512) service signature in constant time
    (see :func:`service_signature`); results and errors as
    :func:`verify_service_signature_rsa`, and an empty ``access_token`` is
    False, an empty ``client_secret`` raises."""
    return _native.lib.b2b_verify_service_signature(  # type: ignore[no-any-return]
        _text(client_secret, "client_secret"),
        _text(method, "method"),
        _text(path, "path"),
        _text(access_token, "access_token"),
        _body(body),
        _text(timestamp, "timestamp"),
        _text(signature, "signature"),
        _skew(max_skew_s),
    )


def minify_json(body: str) -> str:
    """``body`` without insignificant whitespace, everything else (key order,
    number spelling, string contents and escapes) kept exactly: the form
    service signatures hash. Raises :class:`InvalidArgumentError` when
    ``body`` is not JSON."""
    out = c_void_p()
    _native.lib.b2b_minify_json(_text(body, "body"), byref(out))
    return _native.take_string(out)


def timestamp(style: str = "wib") -> str:
    """The current time as a SNAP timestamp: ``"wib"``
    (``2024-12-31T10:11:40+07:00``), ``"utc"`` (``...Z``), ``"utc_ms"`` or
    ``"wib_ms"``. Format once, then sign and send the same string."""
    out = c_void_p()
    _native.lib.b2b_timestamp(_text(style, "style"), byref(out))
    return _native.take_string(out)


# ---------------------------------------------------------------------------
# The merchant's side: answering a provider's token request and checking its
# notifications.


@dataclass(frozen=True, repr=False)
class ServerResponse:
    """The HTTP answer to send to a provider, and why.

    Send ``http_status``, ``headers`` and ``body`` exactly as they are.
    ``accepted`` is False for a refusal of what the sender did wrong (bad
    signature, stale timestamp, unknown client, replay, ...): the SNAP
    rejection to send is then in ``body``. ``reason`` is one line for your
    log, without secrets. An accepted token answer's ``body`` holds the
    access token, so ``repr`` never shows an accepted body."""

    accepted: bool
    http_status: int
    headers: Dict[str, str]
    body: Optional[str]
    client_id: Optional[str]
    external_id: Optional[str]
    reason: str

    def __repr__(self) -> str:
        if self.body is None:
            body = "None"
        elif self.accepted:
            body = "<{} characters>".format(len(self.body))
        else:
            body = repr(self.body)  # a SNAP rejection: code and message only
        return (
            "{}(accepted={!r}, http_status={!r}, client_id={!r}, external_id={!r}, reason={!r}, "
            "body={})".format(
                type(self).__name__, self.accepted, self.http_status, self.client_id, self.external_id,
                self.reason, body,
            )
        )


@dataclass(frozen=True, repr=False)
class Verdict(ServerResponse):
    """The result of :meth:`Server.check`. When ``accepted``, ``body`` is
    None: process the notification, then write your own answer (e.g. 200
    ``{"responseCode":"2002500","responseMessage":"Successful"}``)."""


Headers = Union[Mapping[str, str], Iterable[Tuple[str, str]]]


def _header_pairs(headers: Headers) -> Dict[str, str]:
    """Request headers as the library's JSON object. A name given twice
    (in any case) is joined with ", " as HTTP folds it: two X-SIGNATUREs
    then verify as neither, never as the one a check happened to pick."""
    items = headers.items() if hasattr(headers, "items") else headers  # Mapping or http.client.HTTPMessage
    merged = {}  # type: Dict[str, str]
    canonical = {}  # type: Dict[str, str]
    for pair in items:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError("headers must be a mapping or (name, value) pairs") from None
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("header names and values must be str")
        key = canonical.setdefault(name.lower(), name)
        merged[key] = merged[key] + ", " + value if key in merged else value
    return merged


def _server_answer(raw: str, cls: type) -> Any:
    """The library's verdict JSON as ``cls``; a shape this cannot read is a
    library bug, hence INTERNAL."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        body = data.get("body")
        if body is not None and not isinstance(body, str):
            raise TypeError("`body` is not a string")
        accepted = data["accepted"]
        if not isinstance(accepted, bool):  # _field refuses bools on purpose
            raise TypeError("`accepted` is not bool")
        return cls(
            accepted=accepted,
            http_status=_field(data, "http_status", int),
            headers={str(k): str(v) for k, v in _field(data, "headers", dict).items()},
            body=body,
            client_id=data.get("client_id"),
            external_id=data.get("external_id"),
            reason=_field(data, "reason", str),
        )
    except ValueError:
        problem = "not JSON"  # not the parser's message: it could quote the token
    except KeyError as e:
        problem = "no `{}`".format(e.args[0])
    except TypeError as e:
        problem = str(e)
    raise InternalError(
        "the library returned verdict JSON this binding cannot read ({}); please report it".format(problem)
    )


class Server:
    """A merchant endpoint: answers providers' B2B token requests
    (:meth:`token_response`) and checks their notifications (:meth:`check`).

    ``config`` is a dict or JSON text: ``{"partners": [{"client_id",
    "public_key" or "public_key_file", "client_secret",
    "notification_signature": "rsa" | "hmac"}], "token_ttl_s": 900,
    "token_secret" or "token_secret_file" (at least 32 bytes),
    "max_skew_s": 300}``. Without a token secret the tokens hold only in
    this process; several processes (workers) must share one
    ``token_secret_file``. X-EXTERNAL-IDs are remembered in this process,
    per ``Server``: keep one for the life of the endpoint. A bad config
    raises :class:`InvalidArgumentError` (naming the key) or
    :class:`KeyFormatError` here.

    One Server may be shared by any number of threads. ``close()`` frees it
    (also on ``with`` exit and when garbage collected); calls already
    running finish first, later ones raise :class:`ClientClosedError`.
    """

    def __init__(self, config: Union[str, Mapping[str, Any]]) -> None:
        self._handle = None  # type: Optional[int]
        self._closed = True  # until the handle exists: __del__ may run after a failed __init__
        self._users = 0
        self._lock = threading.Lock()
        if isinstance(config, str):
            config_json = config
        elif isinstance(config, Mapping):
            config_json = json.dumps(dict(config), default=_json_value)
        else:
            raise TypeError("config must be a dict or JSON str, not {}".format(type(config).__name__))
        handle = c_void_p()
        _native.lib.b2b_server_new(_text(config_json, "config"), byref(handle))
        if not handle.value:
            raise InternalError("b2b_server_new reported success but returned NULL")
        self._handle = handle.value
        self._closed = False

    def _call(self, function: Any, method: str, path: str, headers: Headers, body: Union[str, bytes],
              service_code: Optional[str]) -> str:
        for value, name in ((method, "method"), (path, "path")):
            if not isinstance(value, str):
                raise TypeError("{} must be str, not {}".format(name, type(value).__name__))
        if isinstance(body, (bytes, bytearray)):
            # A sender's bad bytes become a refusal (the signature or JSON
            # check fails), not an exception in the endpoint.
            body = bytes(body).decode("utf-8", "replace")
        elif not isinstance(body, str):
            raise TypeError("body must be str or bytes, not {}".format(type(body).__name__))
        request = {"method": method, "path": path, "headers": _header_pairs(headers), "body": body}  # type: Dict[str, Any]
        if service_code is not None:
            if not isinstance(service_code, str):
                raise TypeError("service_code must be str, not {}".format(type(service_code).__name__))
            request["service_code"] = service_code
        # ASCII JSON: NULs and odd characters the sender put in arrive escaped,
        # so nothing is cut at a C NUL.
        request_b = json.dumps(request).encode("ascii")
        with self._lock:
            if self._closed or self._handle is None:
                raise ClientClosedError("this snapb2b.Server is closed")
            self._users += 1
            handle = self._handle
        try:
            out = c_void_p()
            function(handle, request_b, byref(out))
            return _native.take_string(out)
        finally:
            with self._lock:
                self._users -= 1
                handle_to_free = self._free_if_unused()
            if handle_to_free is not None:
                _native.lib.b2b_server_free(handle_to_free)

    def _free_if_unused(self) -> Optional[int]:
        if self._closed and self._users == 0 and self._handle is not None:
            handle, self._handle = self._handle, None
            return handle
        return None

    def token_response(self, method: str, path: str, headers: Headers, body: Union[str, bytes],
                       service_code: Optional[str] = None) -> ServerResponse:
        """Answers a provider's ``POST .../access-token/b2b``: checks
        X-CLIENT-KEY (a configured partner), X-TIMESTAMP (fresh) and
        X-SIGNATURE (SHA256withRSA over ``client_id|timestamp``) and the
        ``{"grantType":"client_credentials"}`` body; accepted, ``body`` holds
        the new access token (a JWT whose ``sub`` is the client id).

        ``headers``: a mapping (``self.headers`` of ``http.server``, a dict)
        or (name, value) pairs, names in any case. ``body``: the raw body,
        str or bytes (UTF-8). Raises only for your own mistakes (wrong
        types, a closed server) and internal failures."""
        raw = self._call(_native.lib.b2b_server_token, method, path, headers, body, service_code)
        return _server_answer(raw, ServerResponse)  # type: ignore[no-any-return]

    def check(self, method: str, path: str, headers: Headers, body: Union[str, bytes],
              service_code: Optional[str] = None) -> Verdict:
        """Checks an inbound notification or service call: the Bearer token
        this server issued, X-TIMESTAMP, X-SIGNATURE (per the partner's
        ``notification_signature``), X-PARTNER-ID / X-CLIENT-KEY when
        present, a JSON object body, and an X-EXTERNAL-ID not yet used by
        that partner today (used up only by a request that passed every
        other check). ``service_code`` (two digits, e.g. ``"25"``) goes into
        the SNAP response codes of refusals (default ``"00"``). ``path`` is
        the path the provider signed, query included."""
        raw = self._call(_native.lib.b2b_server_check, method, path, headers, body, service_code)
        return _server_answer(raw, Verdict)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Frees the server (and its replay memory). Idempotent."""
        with self._lock:
            self._closed = True
            handle = self._free_if_unused()
        if handle is not None:
            _native.lib.b2b_server_free(handle)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Server":
        if self._closed:
            raise ClientClosedError("this snapb2b.Server is closed")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone
            pass

    def __repr__(self) -> str:
        # The config holds secrets: none of it is kept or shown.
        return "<snapb2b.Server{}>".format(" closed" if self._closed else "")
