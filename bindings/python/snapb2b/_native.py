"""The one place that knows about the C library: loading it, declaring every
function's ``argtypes``/``restype``, and turning status codes into exceptions
(``errcheck``).

Strings the library returns through ``char **`` outputs are received as
``c_void_p`` so that the pointer survives to be handed back to ``b2b_free``;
:func:`take_string` copies such a string and frees it.
"""

import ctypes
import json
import os
from ctypes import POINTER, c_char_p, c_int, c_void_p
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ._errors import InternalError, SnapError, error_class

ENV_VAR = "SNAPB2B_LIB"
LIB_NAME = "libsnapb2b.so"
SONAME = "libsnapb2b.so.0"
ABI_MAJOR = "0"
SIGNATURE_INVALID = 8

_PACKAGE_DIR = Path(__file__).resolve().parent


def _source_checkout() -> Optional[Path]:
    """The repository root when this package is the checkout's own
    ``<repo>/bindings/python/snapb2b``, else None: an installed copy never
    loads a library from a source tree."""
    repo = _PACKAGE_DIR.parent.parent.parent
    if (
        _PACKAGE_DIR == repo / "bindings" / "python" / "snapb2b"
        and (repo / "Cargo.toml").is_file()
        and (repo / "crates" / "snapb2b-ffi").is_dir()
    ):
        return repo
    return None


def _candidates() -> List[Tuple[str, str]]:
    """(description, what to pass to dlopen) in lookup order (README.md,
    "Which library is loaded")."""
    found = []
    env = os.environ.get(ENV_VAR)
    if env:
        found.append(("$" + ENV_VAR, os.path.abspath(env)))
    found.append(("package folder", str(_PACKAGE_DIR / LIB_NAME)))
    found.append(("system loader", SONAME))
    repo = _source_checkout()
    if repo is not None:
        found.append(("source checkout build", str(repo / "target" / "release" / LIB_NAME)))
    return found


def _declare(lib: ctypes.CDLL) -> None:
    """Declares every function of snapb2b.h. Raises AttributeError
    when a symbol is missing."""
    lib.b2b_free.argtypes = [c_void_p]
    lib.b2b_free.restype = None

    for name in ("b2b_last_error", "b2b_last_error_json", "b2b_version"):
        func = getattr(lib, name)
        func.argtypes = []
        func.restype = c_char_p  # owned by the library: copied, never freed

    lib.b2b_status_name.argtypes = [c_int]
    lib.b2b_status_name.restype = c_char_p

    lib.b2b_sign.argtypes = [c_char_p, c_char_p, c_char_p, POINTER(c_void_p)]
    lib.b2b_sign.restype = c_int
    lib.b2b_sign.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_get_token.argtypes = [c_char_p, POINTER(c_void_p)]
    lib.b2b_get_token.restype = c_int
    lib.b2b_get_token.errcheck = _errcheck  # type: ignore[assignment]

    # The caching client: the opaque handle travels as c_void_p.
    lib.b2b_client_new.argtypes = [c_char_p, POINTER(c_void_p)]
    lib.b2b_client_new.restype = c_int
    lib.b2b_client_new.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_client_token.argtypes = [c_void_p, POINTER(c_void_p)]
    lib.b2b_client_token.restype = c_int
    lib.b2b_client_token.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_client_invalidate.argtypes = [c_void_p]
    lib.b2b_client_invalidate.restype = c_int
    lib.b2b_client_invalidate.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_client_free.argtypes = [c_void_p]
    lib.b2b_client_free.restype = None

    # Service calls: client handle, strings in (body may be NULL), JSON out.
    lib.b2b_client_headers.argtypes = [c_void_p, c_char_p, c_char_p, c_char_p, POINTER(c_void_p)]
    lib.b2b_client_headers.restype = c_int
    lib.b2b_client_headers.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_client_request.argtypes = [c_void_p, c_char_p, POINTER(c_void_p)]
    lib.b2b_client_request.restype = c_int
    lib.b2b_client_request.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_client_customer_token.argtypes = [c_void_p, c_char_p, POINTER(c_void_p)]
    lib.b2b_client_customer_token.restype = c_int
    lib.b2b_client_customer_token.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_external_id.argtypes = [POINTER(c_void_p)]
    lib.b2b_external_id.restype = c_int
    lib.b2b_external_id.errcheck = _errcheck  # type: ignore[assignment]

    # Service signatures, minification, timestamps: strings in, one string out.
    lib.b2b_service_signature.argtypes = [c_char_p] * 6 + [POINTER(c_void_p)]
    lib.b2b_service_signature.restype = c_int
    lib.b2b_service_signature.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_service_signature_rsa.argtypes = [c_char_p] * 5 + [POINTER(c_void_p)]
    lib.b2b_service_signature_rsa.restype = c_int
    lib.b2b_service_signature_rsa.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_minify_json.argtypes = [c_char_p, POINTER(c_void_p)]
    lib.b2b_minify_json.restype = c_int
    lib.b2b_minify_json.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_timestamp.argtypes = [c_char_p, POINTER(c_void_p)]
    lib.b2b_timestamp.restype = c_int
    lib.b2b_timestamp.errcheck = _errcheck  # type: ignore[assignment]

    # The merchant's side: an opaque handle, request JSON in, verdict JSON out.
    lib.b2b_server_new.argtypes = [c_char_p, POINTER(c_void_p)]
    lib.b2b_server_new.restype = c_int
    lib.b2b_server_new.errcheck = _errcheck  # type: ignore[assignment]

    for name in ("b2b_server_token", "b2b_server_check"):
        func = getattr(lib, name)
        func.argtypes = [c_void_p, c_char_p, POINTER(c_void_p)]
        func.restype = c_int
        func.errcheck = _errcheck  # type: ignore[assignment]

    lib.b2b_server_free.argtypes = [c_void_p]
    lib.b2b_server_free.restype = None

    # Verification: the status is the answer (no out parameter).
    lib.b2b_verify.argtypes = [c_char_p] * 4 + [c_int]
    lib.b2b_verify.restype = c_int
    lib.b2b_verify.errcheck = _verify_errcheck  # type: ignore[assignment]

    lib.b2b_verify_service_signature_rsa.argtypes = [c_char_p] * 6 + [c_int]
    lib.b2b_verify_service_signature_rsa.restype = c_int
    lib.b2b_verify_service_signature_rsa.errcheck = _verify_errcheck  # type: ignore[assignment]

    lib.b2b_verify_service_signature.argtypes = [c_char_p] * 7 + [c_int]
    lib.b2b_verify_service_signature.restype = c_int
    lib.b2b_verify_service_signature.errcheck = _verify_errcheck  # type: ignore[assignment]


def _load() -> Tuple[ctypes.CDLL, str]:
    tried = []  # type: List[str]
    for description, target in _candidates():
        if os.sep in target and not os.path.exists(target):
            reason = "not found"
        else:
            try:
                lib = ctypes.CDLL(target)
                # The version first, so that another major version is named
                # as such rather than by the first symbol it lacks.
                lib.b2b_version.argtypes = []
                lib.b2b_version.restype = c_char_p
                version = lib.b2b_version().decode("utf-8", "replace")
                if version.split(".")[0] != ABI_MAJOR:
                    reason = "incompatible version {} (need {}.x)".format(version, ABI_MAJOR)
                else:
                    _declare(lib)
                    return lib, target
            except OSError as e:
                reason = str(e)
            except AttributeError as e:
                reason = "not a snapb2b library, or one older than these bindings ({})".format(e)
        if description.startswith("$"):
            # Named explicitly: quietly using another library instead would
            # be a surprise (another version, another build).
            raise ImportError(
                "snapb2b: cannot load the native library {}={}: {} (fix the path, or unset {} "
                "to use the default lookup)".format(ENV_VAR, target, reason, ENV_VAR)
            )
        tried.append("  {}: {}: {}".format(description, target, reason))
    raise ImportError(
        "snapb2b: cannot load the native library {} (install it with `make install` in the snapb2b "
        "repository, or set {} to its path). Tried, in order:\n{}".format(SONAME, ENV_VAR, "\n".join(tried))
    )


def _last_error(status: int) -> SnapError:
    """The exception for `status`, from this thread's b2b_last_error_json."""
    info = {}  # type: Dict[str, Any]
    raw = lib.b2b_last_error_json()
    if raw:
        try:
            info = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            info = {"message": raw.decode("utf-8", "replace")}
    message = info.get("message") or "{} (status {})".format(status_name(status), status)
    hint = info.get("hint")
    if hint:
        message += " (hint: {})".format(hint)  # as PHP's SnapException
    return error_class(status)(
        message,
        status=status,
        http_status=info.get("http_status"),
        response_code=info.get("response_code"),
        response_message=info.get("response_message"),
        hint=hint,
    )


def _errcheck(result: int, func: Any, args: Tuple[Any, ...]) -> Tuple[Any, ...]:
    # Runs on the calling thread right after the call, so the thread-local
    # last error is the one this call left.
    if result != 0:
        raise _last_error(result)
    return args


def _verify_errcheck(result: int, func: Any, args: Tuple[Any, ...]) -> bool:
    """For the b2b_verify* functions: True for B2B_OK, False for
    B2B_SIGNATURE_INVALID, an exception for anything else (bad key, bad
    argument)."""
    if result == 0:
        return True
    if result == SIGNATURE_INVALID:
        return False
    raise _last_error(result)


def take_string(ptr: c_void_p) -> str:
    """Copies a string the library returned, then frees it."""
    if not ptr.value:
        raise InternalError("the library reported success but returned NULL; please report it")
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        lib.b2b_free(ptr)


def status_name(status: int) -> str:
    """The library's name for a status code ("KEY", ...), "UNKNOWN" if none."""
    name = lib.b2b_status_name(status)  # type: bytes
    return name.decode("ascii", "replace")


lib, path = _load()
