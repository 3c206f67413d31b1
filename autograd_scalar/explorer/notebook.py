"""A Value left at the end of a notebook cell displays as its graph's interactive view.

``Value`` keeps no display code of its own (its class is the engine's core); the
view is registered with IPython's display machinery for the Value type instead,
when ``autograd_scalar`` is imported inside a running IPython (a Jupyter kernel).
Outside IPython this does nothing and imports nothing.
"""

from __future__ import annotations

import sys
from typing import Any

from ..value import Value


def value_bundle(value: Value) -> dict[str, Any]:
    """The MIME bundle of ``value``: its graph's view, that view's picture, and its repr."""
    from . import explore

    bundle = explore(value)._repr_mimebundle_(include=("text/html", "image/svg+xml"))
    bundle["text/plain"] = repr(value)
    return bundle


def register_value_display() -> bool:
    """Make IPython show a Value through :func:`explore`; True if a shell was found."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    shell.display_formatter.mimebundle_formatter.for_type(Value, value_bundle)
    return True
