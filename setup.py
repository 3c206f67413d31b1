"""Compile the engine's core with Cython where a C compiler is found.

ops.py, mode.py, value.py, backward.py and mirror.py are plain Python; the .pxd files
beside them give Cython their static types. The C is generated when the extensions are
built, never when an sdist is made, so an sdist carries the .py and .pxd files and no
generated code, and a wheel carries the compiled modules beside their sources.

Without Cython, without a C compiler, or with AUTOGRAD_SCALAR_PURE_PYTHON=1 set, the
install keeps the pure-Python modules, which compute the same results more slowly. With
AUTOGRAD_SCALAR_REQUIRE_COMPILED=1 set (as the wheel builds in pyproject.toml's
[tool.cibuildwheel] do), any of those is an error instead: a wheel must not ship an
interpreted core by accident. Everything else is in pyproject.toml.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CORE = ["ops", "mode", "value", "backward", "mirror"]
PURE_PYTHON_VARIABLE = "AUTOGRAD_SCALAR_PURE_PYTHON"
REQUIRE_VARIABLE = "AUTOGRAD_SCALAR_REQUIRE_COMPILED"
UNIX_FLAGS = ("-g0", "-ffp-contract=off")
"""gcc's and clang's flags for the core. ``-g0``: no debug information, which makes the
modules 5x bigger and slower to build. ``-ffp-contract=off``: no fused multiply-adds, so
that d * g + s is rounded twice, as Python rounds it, and the compiled core gives the
interpreted core's numbers to the bit. Without it gcc fuses by default wherever the
machine has the instruction (ARM, as on Apple's and most cloud ARM chips; x86 built for
a newer CPU), and clang within an expression."""


def required() -> bool:
    return bool(os.environ.get(REQUIRE_VARIABLE))


class CythonBuildExt(build_ext):
    """Cythonizes the core when it is built, compiles the modules in parallel, and falls
    back to the pure-Python modules when compiling fails (unless it is required)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = True  # one compiler per core: ops.c alone is large

    def run(self) -> None:
        try:
            self.cythonize()
            super().run()
        except Exception as error:  # no compiler, no headers: the .py files serve
            if required():
                raise
            _fallback(error)

    def cythonize(self) -> None:
        """Writes each module's C from its .py and .pxd, and builds it from that C. The
        extensions stay the ones setuptools finalized: only their sources change."""
        if not self.extensions:
            return
        from Cython.Build import cythonize

        generated = {extension.name: extension for extension in cythonize(
            self.extensions, quiet=True,
            compiler_directives={"language_level": 3, "annotation_typing": False,
                                 "nonecheck": True})}
        for extension in self.extensions:
            extension.sources = generated[extension.name].sources
            extension.depends = generated[extension.name].depends

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":  # gcc and clang
            for extension in self.extensions:
                extension.extra_compile_args = [*extension.extra_compile_args, *UNIX_FLAGS]
        super().build_extensions()

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            if required():
                raise
            _fallback(error)


def _fallback(error: Exception) -> None:
    print(f"autograd-scalar: the compiled core was not built ({error}); "
          "the pure-Python core is used instead", file=sys.stderr)


def extensions() -> list[Extension]:
    """The core's extension modules, from their .py sources; none where they cannot be
    compiled, so that the wheel is then a pure-Python one."""
    if os.environ.get(PURE_PYTHON_VARIABLE):
        if required():
            raise RuntimeError(f"{PURE_PYTHON_VARIABLE} and {REQUIRE_VARIABLE} are both set")
        return []
    try:
        import Cython  # noqa: F401 (only whether it is there; it runs in CythonBuildExt)
    except ImportError as error:
        if required():
            raise RuntimeError(f"{REQUIRE_VARIABLE} is set and Cython is missing") from error
        return []
    return [Extension(f"autograd_scalar.{name}", [f"autograd_scalar/{name}.py"])
            for name in CORE]


setup(ext_modules=extensions(), cmdclass={"build_ext": CythonBuildExt})
