"""What the engine records: gradient tracking, anomaly checks and module scopes.

``no_grad()`` makes every new node a leaf (no children, no local derivatives), for
inference and parameter updates. ``detect_anomaly()`` checks every new value and
every gradient for NaN and infinity and raises :class:`AnomalyError` at the first,
naming the op and its operands. Both nest, and restore the previous mode on exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Mode:
    """The engine's global switches (single-threaded, like the rest of the engine)."""

    __slots__ = ("grad_enabled", "anomaly", "scope")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope = ""


MODE = Mode()


class AnomalyError(FloatingPointError):
    """A NaN or infinite value or gradient met under ``detect_anomaly()``.

    ``node`` is the Value at which it was first met, so it can be drawn.
    """

    def __init__(self, message: str, node: Any) -> None:
        super().__init__(message)
        self.node = node


@contextmanager
def no_grad() -> Iterator[None]:
    """Build no graph inside the block: results are leaves, ``backward`` sees no history."""
    previous = MODE.grad_enabled
    MODE.grad_enabled = False
    try:
        yield
    finally:
        MODE.grad_enabled = previous


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first non-finite value or gradient in the block."""
    previous = MODE.anomaly
    MODE.anomaly = True
    try:
        yield
    finally:
        MODE.anomaly = previous


class scope:
    """Tag every node made inside the block with ``name`` (nested scopes join with ".").

    nn modules open a scope per call, so a drawing can box the nodes of each
    neuron and layer under its name (``layers.1.neurons.3``). ``with scope(name) as
    full:`` gives the joined name. A small class rather than a generator, since
    every module call enters one.
    """

    __slots__ = ("_name", "_previous")

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"scope name must be a non-empty str, got {name!r}")
        self._name = name
        self._previous = ""

    def __enter__(self) -> str:
        previous = self._previous = MODE.scope
        MODE.scope = joined_scope(previous, self._name)
        return MODE.scope

    def __exit__(self, *exc: object) -> None:
        MODE.scope = self._previous


def joined_scope(outer: str, name: str) -> str:
    """The full name of scope ``name`` entered inside scope ``outer`` ("" for none)."""
    return f"{outer}.{name}" if outer else name


def current_scope() -> str:
    """The scope that new nodes are tagged with ("" outside every scope)."""
    return MODE.scope


def is_grad_enabled() -> bool:
    """Whether new operations record their inputs for backward."""
    return MODE.grad_enabled
