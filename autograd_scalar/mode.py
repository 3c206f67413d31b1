"""What the engine records: gradient tracking, anomaly checks, module scopes, tracing.

``no_grad()`` makes every new node a leaf (no children, no local derivatives), for
inference and parameter updates. ``detect_anomaly()`` checks every value an op makes
(and every number given to an op), every gradient and every sum of gradients for NaN
and infinity, and raises :class:`AnomalyError` at the first, naming the op and its
operands (a leaf made by ``Value(nan)`` is the user's own, and is not checked). Both
nest, and restore the previous mode on exit.
``tracing(reads)`` is how :func:`autograd_scalar.compile` watches the function it
traces: every op node made inside the block is made by ``reads.new_node()`` (a node
whose ``.data`` reads are recorded), and ``reads`` is ``current_mode().tracing``.
Outside a trace ``tracing`` is None, and making a node costs one test more.
``interrupts_deferred()`` holds a Ctrl-C back to the end of its block: a backward pass
writing its gradients, an optimizer its parameters, is never cut half way.

The mode belongs to the running thread (and asyncio task): it lives in a
:class:`contextvars.ContextVar`, so a ``no_grad()`` block in one thread never strips
another thread's graph, and a new thread starts with the defaults (gradients on,
no anomaly checks, no scope). A :class:`Mode` is never changed once made; entering
a block sets a new one and leaving it puts the old one back.
"""

from __future__ import annotations

import contextvars
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:  # signal's C functions, without its wrappers' conversions to enums (6 us a call)
    from _signal import getsignal as _handler
    from _signal import signal as _install
except ImportError:  # an interpreter without that module: the public functions
    from signal import getsignal as _handler
    from signal import signal as _install


class Mode:
    """The engine's switches as one thread sees them; never changed once made."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "tracing", "plain")

    def __init__(self, grad_enabled: bool = True, anomaly: bool = False, scope: str = "",
                 tracing: Any = None) -> None:
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.scope = scope
        self.tracing = tracing
        # The usual mode for a new op node, read once per node: gradients on, no anomaly
        # checks, no trace (any scope).
        self.plain = grad_enabled and not anomaly and tracing is None


_DEFAULT = Mode()  # never changed: every block sets a new Mode
_CURRENT: contextvars.ContextVar[Mode] = contextvars.ContextVar(
    "autograd_scalar_mode", default=_DEFAULT)
get_mode = _CURRENT.get
""":func:`current_mode` as the context variable's own method: the same Mode, with no
Python call in between (the interpreted core looks the mode up once per new node)."""


def current_mode() -> Mode:
    """The mode in force in this thread (or asyncio task)."""
    return get_mode()


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
    previous = get_mode()
    _CURRENT.set(Mode(False, previous.anomaly, previous.scope, previous.tracing))
    try:
        yield
    finally:
        _CURRENT.set(previous)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first non-finite value or gradient in the block."""
    previous = get_mode()
    _CURRENT.set(Mode(previous.grad_enabled, True, previous.scope, previous.tracing))
    try:
        yield
    finally:
        _CURRENT.set(previous)


@contextmanager
def tracing(reads: Any) -> Iterator[None]:
    """Make every op node inside the block with ``reads.new_node()``, and let those
    nodes find ``reads`` as ``current_mode().tracing`` (see the module docstring)."""
    previous = get_mode()
    _CURRENT.set(Mode(previous.grad_enabled, previous.anomaly, previous.scope, reads))
    try:
        yield
    finally:
        _CURRENT.set(previous)


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
        self._previous: Mode | None = None

    def __enter__(self) -> str:
        previous = self._previous = get_mode()
        full = joined_scope(previous.scope, self._name)
        _CURRENT.set(Mode(previous.grad_enabled, previous.anomaly, full, previous.tracing))
        return full

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            _CURRENT.set(self._previous)


def joined_scope(outer: str, name: str) -> str:
    """The full name of scope ``name`` entered inside scope ``outer`` ("" for none)."""
    return f"{outer}.{name}" if outer else name


def current_scope() -> str:
    """The scope that new nodes are tagged with ("" outside every scope)."""
    return get_mode().scope


def is_grad_enabled() -> bool:
    """Whether new operations record their inputs for backward."""
    return get_mode().grad_enabled


class interrupts_deferred:  # a context manager, named as it is called
    """Run the block whole: a SIGINT (Ctrl-C) arriving meanwhile is held and delivered
    again when the block ends, to whatever handler was there before (by default a
    KeyboardInterrupt, raised after the block).

    Python raises KeyboardInterrupt between any two bytecodes, so a loop writing
    many parameters could otherwise stop half way. Signal handlers run in the main
    thread only; elsewhere, or when the handler was not set from Python (it could not
    be put back), the block runs as it is. The block itself must not raise: keep it
    to stores of prepared values. (A class, not a generator: it runs at every
    optimizer step, where a generator's context manager costs twice as much.)
    """

    __slots__ = ("held", "previous")

    def __init__(self) -> None:
        self.held: list[int] = []
        self.previous: Any = None

    def __enter__(self) -> None:
        if self.previous is not None:
            raise RuntimeError("interrupts_deferred: this block is already open; make a "
                               "new interrupts_deferred() for each with-statement")
        self.held = []
        if threading.current_thread() is not threading.main_thread():
            return
        previous = _handler(signal.SIGINT)
        if previous is None:
            return
        try:
            _install(signal.SIGINT, self._hold)
        except BaseException:  # another signal's handler raised as it was put in
            _install(signal.SIGINT, previous)
            raise
        self.previous = previous

    def _hold(self, signum: int, frame: Any) -> None:
        self.held.append(signum)

    def __exit__(self, *exception: object) -> None:
        if self.previous is None:
            return
        _install(signal.SIGINT, self.previous)
        self.previous = None
        if self.held:
            signal.raise_signal(signal.SIGINT)
