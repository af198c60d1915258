"""Build hook beside pyproject.toml (which holds all the metadata).

An installed copy of the package is no longer next to the repository's
target/release, so the build ships the native library inside the package as
snapb2b/libsnapb2b.so, the second place snapb2b/_native.py looks. The library
is $SNAPB2B_LIB when set, else ../../target/release/libsnapb2b.so relative to
this file. With neither, the package is built pure and the lookup falls
through to the system loader at import time.
"""

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
LIB_NAME = "libsnapb2b.so"


def _library():
    """The library file to bundle, or None."""
    env = os.environ.get("SNAPB2B_LIB")
    if env:
        path = Path(env).expanduser().resolve()
        # Named explicitly: building a package without it would surprise.
        if not path.is_file():
            raise SystemExit("snapb2b setup.py: SNAPB2B_LIB={} is not a file".format(env))
        return path
    if (HERE / "snapb2b" / LIB_NAME).is_file():
        return None  # copied in by hand: package data already ships it
    repo = HERE.parent.parent / "target" / "release" / LIB_NAME
    return repo if repo.is_file() else None


LIBRARY = _library()
# Whether the wheel will hold a native library (bundled here or copied by hand).
NATIVE = LIBRARY is not None or (HERE / "snapb2b" / LIB_NAME).is_file()


class build_py_with_library(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "snapb2b" / LIB_NAME
        if LIBRARY is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            # copyfile follows symlinks (libsnapb2b.so -> .so.0 -> .so.0.1.0).
            shutil.copyfile(str(LIBRARY), str(target))
            os.chmod(str(target), 0o755)
        elif not NATIVE and target.exists():
            # A previous in-tree build's copy would otherwise end up in this wheel.
            target.unlink()

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if LIBRARY is not None:
            target = os.path.join(self.build_lib, "snapb2b", LIB_NAME)
            if target not in outputs:
                outputs.append(target)
        return outputs


class MaybeBinaryDistribution(Distribution):
    # A wheel holding a native library must not be tagged "any".
    def has_ext_modules(self):
        return NATIVE or super().has_ext_modules()


setup(cmdclass={"build_py": build_py_with_library}, distclass=MaybeBinaryDistribution)
