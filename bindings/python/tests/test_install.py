"""`pip install bindings/python` gives a package that works away from the
repository: setup.py ships libsnapb2b.so inside it, its debug info stripped.
(tests/python_package.sh covers the sdist and wheel end to end.)"""

import base64
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import BINDINGS, REPO

REPO_LIB = REPO / "target" / "release" / "libsnapb2b.so"
CLIENT_ID, TIMESTAMP = "INSTALL-TEST", "2024-03-01T15:27:49+07:00"

# In the child: no site-packages (-I -S), then the install folder first, so
# that only the installed copy can be imported. The standard library stays.
CHILD = r"""
import sys
target = sys.argv[1]
sys.path.insert(0, target)
import snapb2b, snapb2b._native as native
print(snapb2b.__file__)
print(native.path)
print(snapb2b.sign(open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]))
print("\n".join(sys.path))
"""


def clean_env():
    # The child must find the library on its own: nothing pointing at the repository.
    drop = ("SNAPB2B_LIB", "SNAPB2B_BUNDLE", "PYTHONPATH", "LD_LIBRARY_PATH")
    return {k: v for k, v in os.environ.items() if k not in drop}


def build_id(path):
    """The GNU build id: the same for a library and its stripped copy."""
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    notes = subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True, check=True).stdout
    ids = [line.split(":", 1)[1].strip() for line in notes.splitlines() if "Build ID:" in line]
    assert len(ids) == 1, notes
    return ids[0]


def assert_stripped_copy_of(bundled, original):
    assert build_id(bundled) == build_id(original)
    sections = subprocess.run(["readelf", "-S", str(bundled)], capture_output=True, text=True, check=True).stdout
    assert ".debug_" not in sections
    assert bundled.stat().st_size < original.stat().st_size


def require_build_tools():
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        pytest.skip("pip is not installed for {}".format(sys.executable))
    # setuptools 70.1+ builds wheels itself (no `wheel` package); 77 reads
    # pyproject.toml's SPDX `license` string.
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed, and --no-build-isolation cannot fetch it offline")
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("setuptools {} < 77 (scripts/install-test-deps.sh upgrades it)".format(setuptools.__version__))


def pip_install(source, target, env):
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--no-input", "--target", str(target), str(source)],
        env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def in_tree_build():
    """Removes the build/ and egg-info setuptools leaves in bindings/python:
    a stale build/lib would also leak into the next wheel."""
    yield
    shutil.rmtree(str(BINDINGS / "build"), ignore_errors=True)
    shutil.rmtree(str(BINDINGS / "snapb2b.egg-info"), ignore_errors=True)


def test_installed_package_signs_with_its_bundled_library(tmp_path, rsa_keys, pem, in_tree_build):
    require_build_tools()
    if not REPO_LIB.is_file():
        pytest.skip("{} is not built".format(REPO_LIB))
    target = tmp_path / "site"
    result = pip_install(BINDINGS, target, clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    bundled = target / "snapb2b" / "libsnapb2b.so"
    assert_stripped_copy_of(bundled, REPO_LIB)

    key = rsa_keys[0]
    key_file = tmp_path / "key.pem"
    key_file.write_text(pem(key, "pkcs8"))
    child = subprocess.run(
        [sys.executable, "-I", "-S", "-c", CHILD, str(target), str(key_file), CLIENT_ID, TIMESTAMP],
        env=clean_env(), cwd=str(target), capture_output=True, text=True, timeout=60,
    )
    assert child.returncode == 0, child.stderr
    module, library, signature, *path = child.stdout.splitlines()
    assert Path(module).parent == target / "snapb2b"
    assert library == str(bundled)
    assert not any(p.startswith(str(REPO)) for p in path), path
    message = "{}|{}".format(CLIENT_ID, TIMESTAMP).encode()
    assert signature == base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


@pytest.fixture
def outside_copy(tmp_path):
    """The package sources away from the repository: no target/release near."""
    source = tmp_path / "src" / "python"
    shutil.copytree(
        str(BINDINGS), str(source),
        ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "*.so*", "__pycache__", ".pytest_cache"),
    )
    return source


def test_without_library_or_sources_the_build_says_what_to_do(tmp_path, outside_copy):
    require_build_tools()
    result = pip_install(outside_copy, tmp_path / "site", clean_env())
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "no libsnapb2b.so to bundle" in output
    assert "SNAPB2B_LIB" in output and "SNAPB2B_BUNDLE=0" in output


def test_snapb2b_bundle_0_builds_a_pure_package(tmp_path, outside_copy):
    """For a system that has libsnapb2b0 (the .deb): nothing bundled."""
    require_build_tools()
    env = clean_env()
    env["SNAPB2B_BUNDLE"] = "0"
    target = tmp_path / "site"
    result = pip_install(outside_copy, target, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "snapb2b" / "_native.py").is_file()
    assert not (target / "snapb2b" / "libsnapb2b.so").exists()


def test_snapb2b_lib_is_bundled_and_a_missing_one_fails_the_build(tmp_path, outside_copy):
    require_build_tools()
    if not REPO_LIB.is_file():
        pytest.skip("{} is not built".format(REPO_LIB))
    env = clean_env()
    env["SNAPB2B_LIB"] = str(REPO_LIB)
    result = pip_install(outside_copy, tmp_path / "site", env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_stripped_copy_of(tmp_path / "site" / "snapb2b" / "libsnapb2b.so", REPO_LIB)

    env["SNAPB2B_LIB"] = str(tmp_path / "nowhere" / "libsnapb2b.so")
    result = pip_install(outside_copy, tmp_path / "site2", env)
    assert result.returncode != 0
    assert "nowhere/libsnapb2b.so is not a file" in result.stdout + result.stderr
