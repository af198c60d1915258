"""What the binding takes from the library rather than deciding itself:
the default skew, the skew range, status names, versions; and how it
reports what the library says (hints, malformed output)."""

import json
import re

import pytest

import snapb2b
from snapb2b import _native
from snapb2b._errors import ERROR_CLASSES, error_class
from conftest import BINDINGS, REPO

HEADER = REPO / "crates" / "snapb2b-ffi" / "include" / "snapb2b.h"
PUBLIC_KEY_IRRELEVANT = "not a key"  # the skew is checked before the key


def test_default_skew_is_the_headers():
    match = re.search(r"^#define B2B_DEFAULT_MAX_SKEW_S (\d+)$", HEADER.read_text(), re.M)
    assert match, "B2B_DEFAULT_MAX_SKEW_S not in {}".format(HEADER)
    assert snapb2b.DEFAULT_MAX_SKEW_S == int(match.group(1))


def test_negative_skew_is_refused_by_the_library():
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.verify(PUBLIC_KEY_IRRELEVANT, "CID", "2024-03-01T15:27:49+07:00", "AAAA", max_skew_s=-1)
    # The library's own error, not one made up by the binding.
    assert info.value.message == json.loads(_native.lib.b2b_last_error_json())["message"]
    assert "max_skew_s" in info.value.message


@pytest.mark.parametrize("skew", [2 ** 31, -(2 ** 31) - 1, 2 ** 64])
def test_skew_outside_c_int_is_refused_before_the_call(skew):
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.verify(PUBLIC_KEY_IRRELEVANT, "CID", "2024-03-01T15:27:49+07:00", "AAAA", max_skew_s=skew)
    assert "C int" in info.value.message


@pytest.mark.parametrize("code", sorted(ERROR_CLASSES) + [0, 42, -1, 100])
def test_status_names_are_the_librarys(code):
    expected = _native.lib.b2b_status_name(code).decode("ascii")
    assert error_class(code)("m", status=code).name == expected
    # Without an explicit status, each class names its own code.
    assert error_class(code)("m").name == _native.lib.b2b_status_name(error_class(code).status).decode("ascii")


def test_unknown_client_hint_is_in_the_message(sandbox):
    with pytest.raises(snapb2b.ProviderError) as info:
        snapb2b.get_token(sandbox.config("snap", client_id="NO-SUCH-CLIENT"))
    err = info.value
    assert err.hint, "the library explains an unknown client id"
    assert str(err).endswith(" (hint: {})".format(err.hint))
    assert err.message == str(err)


def test_no_hint_no_suffix():
    with pytest.raises(snapb2b.InvalidArgumentError) as info:
        snapb2b.minify_json("{not json")
    assert info.value.hint is None
    assert "(hint:" not in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        "null",
        '{"provider":"snap","token_type":"Bearer","expires_in":900,"expires_at":1}',
        '{"provider":"snap","access_token":"SECRET-TOKEN-123","token_type":"Bearer","expires_in":"900","expires_at":1}',
        '{"provider":1,"access_token":"SECRET-TOKEN-123","token_type":"Bearer","expires_in":900,"expires_at":1}',
        '{"provider":"snap","access_token":"SECRET-TOKEN-123"',
    ],
)
def test_malformed_token_json_is_internal(raw):
    # A library bug, not the provider's answer (PHP: InternalException too).
    with pytest.raises(snapb2b.InternalError) as info:
        snapb2b._token(raw)
    assert "SECRET-TOKEN" not in repr(info.value)
    assert "please report it" in str(info.value)


def test_package_version_is_pyprojects():
    pyproject = (BINDINGS / "pyproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"$', pyproject, re.M)
    assert match, "no static version in pyproject.toml"
    assert snapb2b.__version__ == match.group(1)


def test_library_version_is_b2b_version():
    assert snapb2b.library_version() == _native.lib.b2b_version().decode("utf-8")
    cargo = (REPO / "Cargo.toml").read_text()
    assert 'version = "{}"'.format(snapb2b.library_version()) in cargo
