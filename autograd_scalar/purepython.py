"""The core interpreted: Cython's decorators as plain Python, and the switch to source.

The core (ops, mode, value, backward) is plain Python that Cython also compiles at
install time, with the static types in the .pxd files beside each module. Where Cython
is absent, the core takes the decorators below instead: two that do nothing, their
exact meaning for interpreted code, and ``dataclasses.dataclass``, the standard
library's (``cython.dataclasses`` is the same module, interpreted).
``AUTOGRAD_SCALAR_PURE_PYTHON=1`` makes an installed compiled core load from its .py
files instead; the test suite runs the engine's tests both ways and compares their
results.
"""

from __future__ import annotations

import dataclasses as dataclasses  # cython.dataclasses.dataclass: the standard one
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from typing import TypeVar

T = TypeVar("T")


def cclass(cls: T) -> T:
    """Compiled: an extension type. Interpreted: the class as written."""
    return cls


def no_gc(cls: T) -> T:
    """Compiled: instances are left out of the cyclic garbage collector (a Value never
    refers to a newer node, so Values cannot form cycles). Interpreted: nothing."""
    return cls


CORE = ("ops", "mode", "value", "backward", "mirror")
"""The modules that ``pip install`` compiles with Cython where it can."""

PURE_PYTHON_VARIABLE = "AUTOGRAD_SCALAR_PURE_PYTHON"
"""Set it (to anything but "") to run the interpreted core even where a compiled one
is installed: the readable reference, for debugging and for comparing the two."""


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the core modules' .py files ahead of their compiled builds."""

    def __init__(self, package: str, folder: str) -> None:
        self.package = package
        self.folder = folder

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != self.package or name not in CORE:
            return None
        return importlib.util.spec_from_file_location(
            fullname, os.path.join(self.folder, f"{name}.py"))


def prefer_source(package: str, folder: str) -> None:
    """Load the core from source if :data:`PURE_PYTHON_VARIABLE` is set; call it before
    the package imports its core."""
    if os.environ.get(PURE_PYTHON_VARIABLE):
        sys.meta_path.insert(0, _SourceFinder(package, folder))


def compiled() -> bool:
    """Whether the engine's core runs compiled (True) or interpreted (False)."""
    value = sys.modules[f"{__package__}.value"]  # imported by the package's __init__
    return not str(value.__file__).endswith(".py")
