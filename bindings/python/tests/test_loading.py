"""Library lookup, in subprocesses with a copy of the package outside the
repository (so that the repository's target/release is not found)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import snapb2b
from snapb2b import _native
from conftest import BINDINGS

LIB = Path(_native.path)
PROBE = "import snapb2b, snapb2b._native as n; print(n.path); print(snapb2b.__version__)"


def run(pythonpath, env_lib=None, code=PROBE):
    env = {k: v for k, v in os.environ.items() if k not in ("SNAPB2B_LIB", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(pythonpath)
    if env_lib is not None:
        env["SNAPB2B_LIB"] = str(env_lib)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30, cwd=str(pythonpath)
    )


@pytest.fixture
def copy(tmp_path):
    """bindings/python/snapb2b copied to tmp_path/site/snapb2b."""
    site = tmp_path / "site"
    shutil.copytree(BINDINGS / "snapb2b", site / "snapb2b", ignore=shutil.ignore_patterns("*.so*", "__pycache__"))
    return site


def system_has_library(tmp_path):
    # In a fresh process: here, dlopen would match the already loaded
    # library by its soname.
    return run(tmp_path, code="import ctypes; ctypes.CDLL('libsnapb2b.so.0')").returncode == 0


def test_loaded_from_the_repository_build():
    if os.environ.get("SNAPB2B_LIB"):
        pytest.skip("SNAPB2B_LIB is set")
    assert LIB == BINDINGS.parent.parent / "target" / "release" / "libsnapb2b.so"


def test_env_var_wins(copy, tmp_path):
    other = tmp_path / "elsewhere" / "libsnapb2b.so"
    other.parent.mkdir()
    shutil.copy(LIB, other)
    shutil.copy(LIB, copy / "snapb2b" / "libsnapb2b.so")
    result = run(copy, env_lib=other)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(other), snapb2b.__version__]


def test_package_folder_copy(copy):
    shutil.copy(LIB, copy / "snapb2b" / "libsnapb2b.so")
    result = run(copy)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == str(copy / "snapb2b" / "libsnapb2b.so")


@pytest.mark.parametrize("kind", ["missing", "not-a-library"])
def test_broken_env_var_is_an_import_error(copy, tmp_path, kind):
    # A usable library in the package folder must not be used instead.
    shutil.copy(LIB, copy / "snapb2b" / "libsnapb2b.so")
    broken = tmp_path / "elsewhere" / "libsnapb2b.so"
    if kind == "not-a-library":
        broken.parent.mkdir()
        broken.write_text("not an ELF file\n" * 16)  # long enough for dlopen to read a header
    result = run(copy, env_lib=broken)
    assert result.returncode != 0, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: snapb2b: cannot load the native library SNAPB2B_LIB={}: ".format(broken))
    reason = {"missing": "not found", "not-a-library": "invalid ELF header"}[kind]
    assert reason in last
    assert "Warning" not in result.stderr


def test_nothing_found_names_every_place(copy):
    if system_has_library(copy):
        pytest.skip("libsnapb2b.so.0 is installed system-wide")
    result = run(copy)
    assert result.returncode != 0
    err = result.stderr
    assert "ImportError" in err
    for place in (
        str(copy / "snapb2b" / "libsnapb2b.so"),
        str(copy.parent.parent / "target" / "release" / "libsnapb2b.so"),  # package/../../..
        "libsnapb2b.so.0",
    ):
        assert place in err


FAKE = r"""
const char *b2b_version(void) { return "1.0.0"; }
const char *b2b_status_name(int s) { (void)s; return "UNKNOWN"; }
const char *b2b_last_error(void) { return 0; }
const char *b2b_last_error_json(void) { return 0; }
void b2b_free(char *p) { (void)p; }
int b2b_sign(const char *a, const char *b, const char *c, char **o) { (void)a; (void)b; (void)c; (void)o; return 99; }
int b2b_get_token(const char *a, char **o) { (void)a; (void)o; return 99; }
"""


@pytest.mark.parametrize("kind", ["incompatible-version", "not-snapb2b", "too-old"])
def test_wrong_library_is_refused(copy, tmp_path, kind):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler")
    source = tmp_path / "fake.c"
    sources = {
        "incompatible-version": FAKE,
        "not-snapb2b": "int unrelated(void) { return 0; }\n",
        # 0.x, but from before the caching client: b2b_client_new is missing
        "too-old": FAKE.replace('"1.0.0"', '"0.0.1"'),
    }
    source.write_text(sources[kind])
    fake = tmp_path / "libsnapb2b.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(fake), str(source)], check=True)
    # Refused even with a good library in the package folder: no fallback.
    shutil.copy(LIB, copy / "snapb2b" / "libsnapb2b.so")
    result = run(copy, env_lib=fake)
    assert result.returncode != 0, result.stdout
    assert "ImportError: snapb2b: cannot load the native library SNAPB2B_LIB={}".format(fake) in result.stderr
    expect = {
        "incompatible-version": "incompatible version 1.0.0",
        "not-snapb2b": "not a snapb2b library",
        "too-old": "older than these bindings",
    }[kind]
    assert expect in result.stderr
    if kind == "too-old":
        assert "b2b_client_new" in result.stderr
