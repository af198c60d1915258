"""SNAP (Bank Indonesia Open API) B2B access tokens: Python bindings to the
snapb2b C library (``libsnapb2b.so``), in pure ctypes.

    >>> import snapb2b
    >>> token = snapb2b.get_token(provider="doku", environment="sandbox",
    ...                           client_id="...", private_key_file="key.pem")
    >>> headers = {"Authorization": token.authorization}
"""

import json
import os
from ctypes import byref, c_void_p
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from . import _native
from ._errors import (
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
    "sign",
    "get_token",
    "library_version",
    "SnapError",
    "InvalidArgumentError",
    "KeyFormatError",
    "CryptoError",
    "TransportError",
    "RequestTimeoutError",
    "ProviderError",
    "ProtocolError",
    "SignatureInvalidError",
    "InternalError",
]

#: The native library's version (semver), e.g. ``"0.1.0"``.
__version__ = _native.version  # type: str


def library_version() -> str:
    """The native library's version (semver)."""
    return _native.version


def _mask(secret: str) -> str:
    return "{}...{}".format(secret[:6], secret[-4:]) if len(secret) > 10 else "***"


@dataclass(frozen=True, repr=False)
class Token:
    """A B2B access token. ``expires_at`` is Unix seconds. The ``repr`` masks
    the token; use ``access_token`` or ``authorization`` to send it."""

    provider: str
    access_token: str
    token_type: str
    expires_in: int
    expires_at: int
    response_code: Optional[str]
    response_message: Optional[str]

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value: ``"Bearer <token>"``."""
        return "Bearer " + self.access_token

    def __repr__(self) -> str:
        return (
            "Token(provider={!r}, access_token={!r}, token_type={!r}, expires_in={!r}, "
            "expires_at={!r}, response_code={!r}, response_message={!r})".format(
                self.provider,
                _mask(self.access_token),
                self.token_type,
                self.expires_in,
                self.expires_at,
                self.response_code,
                self.response_message,
            )
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


def get_token(config: Optional[Mapping[str, Any]] = None, **options: Any) -> Token:
    """Requests a B2B access token.

    ``config`` and keyword arguments are the C library's config keys
    (``provider``, ``base_url`` or ``environment``, ``client_id``,
    ``private_key`` or ``private_key_file``, ...); keywords override
    ``config``. Raises a :class:`SnapError` subclass on failure.
    """
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
    config_json = json.dumps(merged, default=_json_value)

    out = c_void_p()
    _native.lib.b2b_get_token(_text(config_json, "config"), byref(out))
    data = json.loads(_native.take_string(out))
    try:
        return Token(
            provider=data["provider"],
            access_token=data["access_token"],
            token_type=data["token_type"],
            expires_in=int(data["expires_in"]),
            expires_at=int(data["expires_at"]),
            response_code=data.get("response_code"),
            response_message=data.get("response_message"),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise InternalError("unexpected token JSON from the library ({!r})".format(e)) from None
