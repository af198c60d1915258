"""Library lookup (README.md, "Which library is loaded"), in subprocesses
with copies of the package outside the repository."""

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


def test_loaded_from_the_repository_build(tmp_path):
    if os.environ.get("SNAPB2B_LIB"):
        pytest.skip("SNAPB2B_LIB is set")
    if system_has_library(tmp_path):
        pytest.skip("libsnapb2b.so.0 is installed system-wide, and comes before the checkout's build")
    assert LIB == BINDINGS.parent.parent / "target" / "release" / "libsnapb2b.so"


def fake_checkout(root, complete):
    """A copy of the package at root/bindings/python/snapb2b beside a real
    library in root/target/release; a checkout only when `complete` (with
    Cargo.toml and crates/snapb2b-ffi)."""
    shutil.copytree(BINDINGS / "snapb2b", root / "bindings" / "python" / "snapb2b",
                    ignore=shutil.ignore_patterns("*.so*", "__pycache__"))
    (root / "target" / "release").mkdir(parents=True)
    shutil.copy(LIB, root / "target" / "release" / "libsnapb2b.so")
    if complete:
        (root / "Cargo.toml").write_text("[workspace]\n")
        (root / "crates" / "snapb2b-ffi").mkdir(parents=True)
    return root / "bindings" / "python"


def test_an_installed_copy_never_loads_a_source_tree_build(tmp_path):
    # target/release/libsnapb2b.so is right there, but this is no checkout.
    site = fake_checkout(tmp_path / "tree", complete=False)
    result = run(site)
    assert "target/release" not in result.stdout + result.stderr
    if result.returncode == 0:  # the system's library
        assert result.stdout.split()[0] == "libsnapb2b.so.0"


def test_the_checkout_build_is_the_last_resort(tmp_path):
    site = fake_checkout(tmp_path / "tree", complete=True)
    result = run(site)
    assert result.returncode == 0, result.stderr
    if not system_has_library(tmp_path):
        assert result.stdout.split()[0] == str(tmp_path / "tree" / "target" / "release" / "libsnapb2b.so")


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
    assert "Tried, in order:\n  package folder: {}: not found\n  system loader: libsnapb2b.so.0: ".format(
        copy / "snapb2b" / "libsnapb2b.so") in err
    assert "target/release" not in err  # not a checkout: never tried


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
