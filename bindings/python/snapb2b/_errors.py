"""Exceptions: one base class, one subclass per C status code.

Each class carries its status code (``ERROR_CLASSES`` maps codes to
classes); the status *name* is always the library's ``b2b_status_name``.
"""

from typing import Any, Dict, Optional, Tuple, Type


class SnapError(Exception):
    """A failed snapb2b call.

    ``str(error)`` is the message, with `` (hint: ...)`` appended when the
    library gave a hint; the attributes mirror the C library's
    ``b2b_last_error_json``. Messages never contain keys, secrets or tokens.
    """

    status = 0  # type: int

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        http_status: Optional[int] = None,
        response_code: Optional[str] = None,
        response_message: Optional[str] = None,
        hint: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.http_status = http_status
        self.response_code = response_code
        self.response_message = response_message
        self.hint = hint

    @property
    def name(self) -> str:
        """The status name ("KEY", ...; "UNKNOWN" for a code the library
        does not know), from the library's ``b2b_status_name``."""
        from ._native import status_name  # _native imports this module

        return status_name(self.status)

    def _fields(self) -> Dict[str, Any]:
        return {
            "status": self.status,
            "http_status": self.http_status,
            "response_code": self.response_code,
            "response_message": self.response_message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        fields = dict(self._fields(), name=self.name)
        extra = "".join(", {}={!r}".format(k, v) for k, v in fields.items() if v is not None)
        return "{}({!r}{})".format(type(self).__name__, self.message, extra)

    def __reduce__(self) -> Tuple[Any, ...]:
        # Keyword-only arguments do not survive the default pickling.
        return (_rebuild, (type(self), self.message, self._fields()))


def _rebuild(cls: Type[SnapError], message: str, fields: Dict[str, Any]) -> SnapError:
    return cls(message, **fields)


class InvalidArgumentError(SnapError):
    """Bad argument or config (status 1, INVALID_ARGUMENT)."""

    status = 1


class ClientClosedError(InvalidArgumentError):
    """A :class:`snapb2b.Client` was used after ``close()`` (status 1,
    INVALID_ARGUMENT, as the library answers for a NULL client)."""


class KeyFormatError(SnapError):
    """Unusable private or public key (status 2, KEY)."""

    status = 2


class CryptoError(SnapError):
    """OpenSSL failed while signing (status 3, CRYPTO)."""

    status = 3


class TransportError(SnapError):
    """DNS, connect, TLS or certificate failure (status 4, TRANSPORT)."""

    status = 4


class RequestTimeoutError(SnapError):
    """No complete answer in time (status 5, TIMEOUT)."""

    status = 5


class ProviderError(SnapError):
    """The provider refused: see ``http_status``, ``response_code`` and
    ``response_message`` (status 6, PROVIDER)."""

    status = 6


class ProtocolError(SnapError):
    """The answer is not the documented JSON (status 7, PROTOCOL)."""

    status = 7


class SignatureInvalidError(SnapError):
    """A signature did not verify (status 8, SIGNATURE_INVALID)."""

    status = 8


class InternalError(SnapError):
    """A bug in snapb2b; please report it (status 99, INTERNAL)."""

    status = 99


ERROR_CLASSES = {
    cls.status: cls
    for cls in (
        InvalidArgumentError,
        KeyFormatError,
        CryptoError,
        TransportError,
        RequestTimeoutError,
        ProviderError,
        ProtocolError,
        SignatureInvalidError,
        InternalError,
    )
}  # type: Dict[int, Type[SnapError]]


def error_class(status: int) -> Type[SnapError]:
    """The exception class for a status code (SnapError for unknown codes)."""
    return ERROR_CLASSES.get(status, SnapError)
