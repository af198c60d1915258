"""Build hook beside pyproject.toml (which holds all the metadata).

An installed copy of the package is no longer next to the repository's
target/release, so the build ships the native library inside the package as
snapb2b/libsnapb2b.so, the second place snapb2b/_native.py looks. The library
comes from, in order:

1. $SNAPB2B_LIB, when set (must be a file);
2. the checkout's build, ../../target/release/libsnapb2b.so;
3. cargo, building the snapb2b-ffi crate from the Rust workspace: the
   checkout's (../../) or, in an sdist, the copy under rust/.

The shipped copy has its debug info stripped (symbols kept). With
SNAPB2B_BUNDLE=0 nothing is bundled: a pure package that loads the system's
libsnapb2b.so.0 (e.g. the Debian package libsnapb2b0).

The library is loaded with ctypes, not imported as an extension module, so
the wheel is tagged py3-none-<platform>: one wheel for every Python 3.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1 took it from the wheel package
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
LIB_NAME = "libsnapb2b.so"
CHECKOUT = HERE.parent.parent
# What cargo needs to build snapb2b-ffi: the workspace manifest and lock file,
# and every member (cargo loads all of them, and the core's dev-dependency on
# the sandbox). Tests, benches and fuzz targets are left out.
RUST_TOP = ("Cargo.toml", "Cargo.lock")
RUST_CRATES = ("snapb2b", "snapb2b-ffi", "snapb2b-cli", "snapb2b-sandbox")
RUST_CRATE_PARTS = ("Cargo.toml", "build.rs", "cbindgen.toml", "src")


def _fail(message):
    raise SystemExit("snapb2b setup.py: " + message)


def _workspace():
    """The Rust workspace to build from, or None."""
    for root in (HERE / "rust", CHECKOUT):
        if (root / "Cargo.toml").is_file() and (root / "crates" / "snapb2b-ffi" / "Cargo.toml").is_file():
            return root
    return None


def _prebuilt():
    """A library already built (explicit or the checkout's), or None."""
    env = os.environ.get("SNAPB2B_LIB")
    if env:
        path = Path(env).expanduser().resolve()
        # Named explicitly: building a package without it would surprise.
        if not path.is_file():
            _fail("SNAPB2B_LIB={} is not a file".format(env))
        return path
    if (HERE / "rust").is_dir():
        return None  # an sdist: whatever lies two folders up is not its checkout
    repo = CHECKOUT / "target" / "release" / LIB_NAME
    if not repo.is_file():
        return None
    # Taken as built: say so when the Rust sources changed since.
    built = repo.stat().st_mtime
    newer = [p for p in (CHECKOUT / "crates").glob("*/src/**/*.rs") if p.stat().st_mtime > built]
    if newer:
        print("snapb2b: warning: {} is older than {} (and {} more): run `make build` for a current "
              "library".format(repo, newer[0], len(newer) - 1), file=sys.stderr)
    return repo.resolve()


BUNDLE = os.environ.get("SNAPB2B_BUNDLE", "1") != "0"


def _cargo_build(workspace):
    """Builds libsnapb2b.so with cargo; returns its path."""
    cargo = os.environ.get("CARGO", "cargo")
    if shutil.which(cargo) is None:
        _fail(
            "no prebuilt libsnapb2b.so and no `{}` to build one. Install Rust (cargo) and the "
            "OpenSSL headers (Debian: libssl-dev, pkg-config), or set SNAPB2B_LIB to a built "
            "libsnapb2b.so, or SNAPB2B_BUNDLE=0 to use the system's libsnapb2b.so.0".format(cargo)
        )
    env = dict(os.environ)
    # The committed headers are the checkout's business, never a package build's.
    env.pop("SNAPB2B_WRITE_HEADER", None)
    # The shipped library needs no debug info: skip making it, then strip
    # what the standard library brings.
    env["CARGO_PROFILE_RELEASE_DEBUG"] = "0"
    env["CARGO_PROFILE_RELEASE_STRIP"] = "debuginfo"
    # CARGO_TARGET_DIR (when set) keeps builds between sdist installs. In a
    # checkout, a folder of its own: these profile settings differ from
    # `make build`'s and would make each rebuild the other's target/release.
    default_target = workspace / "target" if workspace == HERE / "rust" else CHECKOUT / "build" / "cargo-python"
    env.setdefault("CARGO_TARGET_DIR", str(default_target))
    cmd = [cargo, "build", "--release", "--locked", "-p", "snapb2b-ffi", "--lib",
           "--message-format=json-render-diagnostics"]
    print("snapb2b: building libsnapb2b.so: {} (in {})".format(" ".join(cmd), workspace), file=sys.stderr)
    proc = subprocess.run(cmd, cwd=str(workspace), env=env, stdout=subprocess.PIPE, universal_newlines=True)
    if proc.returncode != 0:
        _fail("cargo failed (exit {}); its errors are above. Building needs the OpenSSL "
              "headers (Debian: libssl-dev, pkg-config)".format(proc.returncode))
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "snapb2b":
            for name in msg.get("filenames", []):
                if os.path.basename(name) == LIB_NAME:
                    return Path(name)
    _fail("cargo succeeded but reported no {}".format(LIB_NAME))


def _strip_debug(path):
    """Drops debug info from the copy that ships (10 MB of the ~11 MB)."""
    strip = os.environ.get("STRIP", "strip")
    if shutil.which(strip) is None:
        print("snapb2b: warning: no `{}`: shipping {} with its debug info".format(strip, path), file=sys.stderr)
        return
    subprocess.run([strip, "--strip-debug", str(path)], check=True)


class BinaryDistribution(Distribution):
    # A wheel holding a native library must not be tagged "any".
    def has_ext_modules(self):
        return BUNDLE or super().has_ext_modules()


class build_py_with_library(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "snapb2b" / LIB_NAME
        if target.exists():
            target.unlink()  # a previous build's copy must not leak into this one
        if not BUNDLE:
            return
        library = _prebuilt()
        if library is None:
            workspace = _workspace()
            if workspace is None:
                _fail("no libsnapb2b.so to bundle: set SNAPB2B_LIB to one, build from the "
                      "repository or an sdist (which carry the Rust sources), or set "
                      "SNAPB2B_BUNDLE=0 to use the system's libsnapb2b.so.0")
            library = _cargo_build(workspace)
        print("snapb2b: bundling {}".format(library), file=sys.stderr)
        target.parent.mkdir(parents=True, exist_ok=True)
        # copyfile follows symlinks (libsnapb2b.so -> .so.0 -> .so.0.1.0).
        shutil.copyfile(str(library), str(target))
        os.chmod(str(target), 0o755)
        _strip_debug(target)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        target = os.path.join(self.build_lib, "snapb2b", LIB_NAME)
        if BUNDLE and target not in outputs:
            outputs.append(target)
        return outputs


class bdist_wheel_any_python(bdist_wheel):
    def get_tag(self):
        # ctypes needs no CPython ABI: py3-none-linux_x86_64, not cp311-cp311-...
        python, abi, plat = super().get_tag()
        if BUNDLE:
            return "py3", "none", plat
        return python, abi, plat


class sdist_with_rust(sdist):
    """Adds the Rust workspace under rust/, so that installing the sdist
    builds the library with cargo."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        workspace = _workspace()
        if workspace is None:
            _fail("an sdist needs the Rust sources: make it from the repository")
        dest = Path(base_dir) / "rust"
        for name in RUST_TOP:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(str(workspace / name), str(dest / name))
        for crate in RUST_CRATES:
            for part in RUST_CRATE_PARTS:
                src = workspace / "crates" / crate / part
                out = dest / "crates" / crate / part
                if src.is_dir():
                    shutil.copytree(str(src), str(out), ignore=shutil.ignore_patterns("*.rs.bk", "*~"))
                elif src.is_file():
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(str(src), str(out))


setup(
    cmdclass={"build_py": build_py_with_library, "bdist_wheel": bdist_wheel_any_python, "sdist": sdist_with_rust},
    distclass=BinaryDistribution,
)
