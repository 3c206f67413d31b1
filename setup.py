"""Compile the engine's core with Cython where a C compiler is found.

value.py and backward.py are plain Python; value.pxd and backward.pxd beside them
give Cython their static types. Without Cython, without a C compiler, or with
AUTOGRAD_SCALAR_PURE_PYTHON=1 set, the install keeps the pure-Python modules, which
compute the same results more slowly. Everything else is in pyproject.toml.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

CORE = ["autograd_scalar/ops.py", "autograd_scalar/mode.py", "autograd_scalar/value.py",
        "autograd_scalar/backward.py", "autograd_scalar/mirror.py"]


class OptionalBuildExt(build_ext):
    """build_ext that falls back to the pure-Python modules when compiling fails."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler, no headers: the .py files serve
            _fallback(error)

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            _fallback(error)


def _fallback(error: Exception) -> None:
    print(f"autograd-scalar: the compiled core was not built ({error}); "
          "the pure-Python core is used instead", file=sys.stderr)


def extensions() -> list:
    if os.environ.get("AUTOGRAD_SCALAR_PURE_PYTHON"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    return cythonize(CORE, quiet=True, compiler_directives={
        "language_level": 3, "annotation_typing": False})


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
