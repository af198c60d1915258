"""One masking rule for tokens everywhere: first 6 + "..." + last 4 from 16
characters on, "***" below (PHP's Token::mask), so a short token is never
mostly shown."""

import importlib.util
import json
import shutil
import string
import subprocess

import pytest

import snapb2b
from conftest import BINDINGS, REPO

LENGTHS = range(0, 41)


def token_of(n):
    return (string.ascii_letters * 2)[:n]


def expected(n):
    t = token_of(n)
    return t[:6] + "..." + t[-4:] if n >= 16 else "***"


def test_token_repr_masks_by_length():
    for n in LENGTHS:
        token = snapb2b.Token("snap", token_of(n), "Bearer", 900, 0, None, None)
        assert "access_token='{}'".format(expected(n)) in repr(token), n


@pytest.mark.parametrize("n", [11, 12, 15])
def test_short_token_shows_nothing_of_itself(n):
    # 6 + 4 of these lengths would have been most of the token.
    text = repr(snapb2b.Token("snap", token_of(n), "Bearer", 900, 0, None, None))
    token = token_of(n)
    assert token[:6] not in text and token[-4:] not in text


def test_example_masks_the_same_way():
    spec = importlib.util.spec_from_file_location("get_token_example", str(REPO / "examples" / "get_token.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)  # defines functions only: main() runs under __main__
    for n in LENGTHS:
        assert example.masked(token_of(n)) == expected(n), n


def test_php_masks_the_same_way():
    php = shutil.which("php")
    if not php:
        pytest.skip("php is not installed")
    # Token::mask is plain PHP: no FFI, no library needed.
    script = "require {}; echo json_encode(array_map([SnapB2B\\Token::class, 'mask'], json_decode($argv[1])));".format(
        json.dumps(str(BINDINGS.parent / "php" / "autoload.php")))
    tokens = [token_of(n) for n in LENGTHS]
    result = subprocess.run([php, "-r", script, json.dumps(tokens)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == [expected(n) for n in LENGTHS]
