"""Forward mode: tangents from the same stored local derivatives.

Every node p = op(c_1, ..., c_k) stores its local derivatives dp/dc_i, computed by
its row's rule at the forward pass. Move the leaves at rates t(leaf) (a tangent,
a direction in input space); then every node moves at the rate

    t(p) = sum_i  dp/dc_i * t(c_i),

the chain rule read inputs-first: one pass over the graph, each node after every node
it uses, gives t(out) = J v, the Jacobian-vector product. ``backward()`` reads the very
same numbers outputs-first to get v^T J, so no op has a forward-mode rule of its own.
``jvp``, ``jacfwd``, ``hvp`` (H v forward-over-reverse), dual numbers in a
``forward_ad()`` block and ``tangents`` are shown in
``docs/tutorials/check-derivatives.md``, "Forward mode from the same rows".

A tangent that is exactly 0 is not multiplied (as JAX's symbolic zeros): a node
that no seeded input reaches gets 0, even where a local derivative is infinite
(sqrt at 0), instead of 0 * inf = nan.

The pass reads the recorded graph only: a value computed under ``no_grad()`` or taken
out with ``detach()`` is a leaf, held still (tangent 0), as ``jax.lax.stop_gradient``
holds it; PyTorch's forward AD, which is not a pass over a graph, carries tangents
through ``torch.no_grad()``.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .backward import a_value, grad, value_list
from .derivatives import as_items, checked_point, leaves, outputs_of
from .ops import is_real
from .value import Value

MODES = ("fwd", "rev")
"""The two ways to get a derivative from the graph: tangents inputs-first, or
adjoints outputs-first (``backward``)."""


# ---------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------

def inputs_first(outputs: Iterable[Value], stop: Iterable[Value] = ()) -> list[Value]:
    """Every node the outputs depend on, each after all the nodes it uses.

    The walk does not enter the nodes in ``stop`` (whose tangents are already
    known) and leaves them out. An explicit stack, no recursion, and no scratch
    field on the nodes, so it may run while another pass holds them.
    """
    order: list[Value] = []
    seen: set[Value] = set(stop)
    for root in outputs:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.children))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child.children)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def push(order: Sequence[Value], known: dict[Value, float]) -> None:
    """t(p) = sum_i dp/dc_i * t(c_i) for every node p of ``order`` (inputs-first),
    written into ``known``, which holds the tangents given so far; a leaf not in
    ``known`` is held still (tangent 0)."""
    for node in order:
        children = node.children
        total = 0.0
        if children:
            for local, child in zip(node.local_grads, children):
                rate = known[child]
                if rate != 0.0:
                    total += local * rate
        known[node] = total


def tangents(outputs: Value | Sequence[Value], seeds: Mapping[Value, Any]) -> list[float]:
    """The rate of change of each output when each node in ``seeds`` moves at its rate.

    ``seeds`` maps Values (usually leaves) to numbers, the tangent vector v; every
    other leaf is held still. Returns t(out) = sum over seeded nodes s of
    d out / d s * v_s for each output, by one inputs-first pass over the graph
    (see the module docstring). A seeded node that is itself computed from others
    is treated as an input: its tangent is its seed, as ``grad`` treats it.
    """
    targets = value_list(outputs, "tangents", "outputs", "output {}")
    known = _seeds("tangents", seeds)
    order = inputs_first(targets, known)
    if known and not _reaches(targets, order, known):
        raise ValueError("tangents: no seeded Value is in the outputs' graph, so every tangent "
                         "would be 0; seed the Values the outputs were computed from (x itself, "
                         "not a new x * x made for the seed)")
    push(order, known)
    return [known[out] for out in targets]


def _reaches(targets: Sequence[Value], order: Sequence[Value], seeds: Mapping[Value, float]
             ) -> bool:
    """Whether a seed is an output, or an input of a node of ``order`` (the graph walked
    up to the seeds)."""
    return any(out in seeds for out in targets) or any(
        child in seeds for node in order for child in node.children)


def _seeds(who: str, seeds: Any) -> dict[Value, float]:
    if not isinstance(seeds, Mapping):
        raise TypeError(f"{who}: seeds must be a dict from Values to tangents (numbers), "
                        f"got {type(seeds).__name__}")
    known: dict[Value, float] = {}
    for node, rate in seeds.items():
        if not isinstance(node, Value):
            raise TypeError(f"{who}: a seed's key is a {type(node).__name__}, expected a Value")
        known[node] = _rate(who, rate, f"the tangent of {node!r}"[:120])
    return known


def _rate(who: str, rate: Any, what: str) -> float:
    """A tangent as a finite float, or an error naming ``what`` it is."""
    if isinstance(rate, Value) or not is_real(rate):
        raise TypeError(f"{who}: {what} must be a real number, got "
                        f"{type(rate).__name__}: {rate!r}"[:200])
    try:
        number = float(rate)
    except OverflowError:  # an int past float range
        number = math.inf if rate > 0 else -math.inf
    if not math.isfinite(number):
        raise ValueError(f"{who}: {what} is {number}; expected a finite number")
    return number


# ---------------------------------------------------------------------------
# Functions of Values
# ---------------------------------------------------------------------------

def as_vector(who: str, vector: Any, n: int, what: str) -> list[float]:
    """``vector`` as n finite floats (one per input), or an error saying what was wrong."""
    items = as_items(vector, who, what, "t")
    if len(items) != n:
        raise ValueError(f"{who}: {len(items)} {what} for {n} input(s); "
                         "expected one per input")
    return [_rate(who, item, f"{what}[{i}]") for i, item in enumerate(items)]


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
        ) -> tuple[Any, Any]:
    """(f(x), J v): f and its directional derivative along v at x, in one pass.

    As ``jax.jvp(f, primals, tangents)``: ``f`` takes one Value per primal and
    returns a Value or a list of Values; ``primals`` are numbers (or Values,
    whose data is used) and ``tangents`` one number per primal. The result is
    ``(out, tangent_out)``: two floats for a function of one output, two lists of
    floats for a list. tangent_out = sum_i d out / d x_i * v_i, from the local
    derivatives stored on the graph of f(x) (see the module docstring).
    """
    point = checked_point(f, primals, "jvp")
    direction = as_vector("jvp", tangents, len(point), "tangents")
    xs = leaves(point, primals)
    outputs, single = outputs_of("jvp", f(*xs))
    known = dict(zip(xs, direction))
    push(inputs_first(outputs, known), known)
    data = [out.data for out in outputs]
    rates = [known[out] for out in outputs]
    return (data[0], rates[0]) if single else (data, rates)


def jacfwd(f: Callable[..., Any], point: Sequence[Any]) -> np.ndarray:
    """J[k][i] = d f_k / d x_i at ``point``, column by column in forward mode.

    The graph of f(x) is built once; column i is one tangent pass along the unit
    vector e_i. As :func:`~autograd_scalar.jacobian` (one reverse pass per
    output), the result has shape (outputs, inputs); a function returning one
    Value is one output. Forward mode costs one pass per input, reverse mode one
    per output: jacfwd suits functions of few inputs and many outputs.
    """
    xs = leaves(checked_point(f, point, "jacfwd"), point)
    outputs, _ = outputs_of("jacfwd", f(*xs))
    return _columns(outputs, xs)


def _columns(outputs: Sequence[Value], xs: Sequence[Value]) -> np.ndarray:
    """d outputs[k] / d xs[i] as a (len(outputs), len(xs)) array, one tangent pass per i."""
    order = inputs_first(outputs, xs)
    matrix = np.zeros((len(outputs), len(xs)))
    for i in range(len(xs)):
        known = {x: 0.0 for x in xs}
        known[xs[i]] = 1.0
        push(order, known)
        matrix[:, i] = [known[out] for out in outputs]
    return matrix


def hvp(f: Callable[..., Any], point: Sequence[Any], v: Sequence[Any]) -> np.ndarray:
    """H v, the Hessian of a function of one output times a vector, forward-over-reverse.

    g(x) = grad f(x) is built as a graph with ``grad(..., create_graph=True)``;
    its nodes store their local derivatives like any others, so one tangent pass
    over it along v gives

        d/de g(x + e v) at e = 0  =  H v

    at the cost of about three evaluations of f, however many inputs there are
    (``hessian`` makes n reverse passes, one per row). An array of shape (n,).
    """
    point_ = checked_point(f, point, "hvp")
    direction = as_vector("hvp", v, len(point_), "v")
    xs = leaves(point_, point)
    outputs, single = outputs_of("hvp", f(*xs))
    if not single:
        raise TypeError(f"hvp: f must return one Value, got a list of {len(outputs)}; "
                        "the Hessian is of a function with one output")
    gradient = grad(outputs[0], xs, create_graph=True)
    known = dict(zip(xs, direction))
    push(inputs_first(gradient, known), known)
    return np.array([known[g] for g in gradient], dtype=np.float64)


# ---------------------------------------------------------------------------
# Checkers' entry points: the same derivatives by either mode
# ---------------------------------------------------------------------------

def check_modes(modes: Any, who: str) -> tuple[str, ...]:
    """``modes`` as a tuple drawn from ("fwd", "rev"), in order, each once."""
    chosen = [modes] if isinstance(modes, str) else modes
    try:
        items = list(chosen)
    except TypeError:
        raise TypeError(f"{who}: modes must be a sequence of 'fwd' and 'rev', "
                        f"got {type(modes).__name__}") from None
    if not items:
        raise ValueError(f"{who}: modes is empty; expected 'fwd', 'rev' or both")
    for mode in items:
        if mode not in MODES:
            raise ValueError(f"{who}: unknown mode {mode!r}; expected 'fwd' (forward mode, "
                             "tangents) or 'rev' (reverse mode, backward)")
    return tuple(dict.fromkeys(items))


def gradient_by(mode: str, out: Value, xs: Sequence[Value]) -> list[float]:
    """d out / d x_i for each x_i: by one reverse pass, or by one tangent pass per input."""
    if mode == "rev":
        return grad(out, xs)
    return _columns([out], xs)[0].tolist()


def hessian_by(mode: str, out: Value, xs: Sequence[Value]) -> list[list[float]]:
    """H[j][i] = d/dx_i (d out / d x_j): reverse-over-reverse, or forward-over-reverse.

    Both differentiate the gradient graph from ``grad(..., create_graph=True)``:
    ``rev`` by one reverse pass per entry of the gradient, ``fwd`` by one tangent
    pass per input through all of it.
    """
    first = grad(out, xs, create_graph=True)
    if mode == "rev":
        return [grad(g, xs) for g in first]
    return _columns(first, xs).tolist()


# ---------------------------------------------------------------------------
# Dual numbers
# ---------------------------------------------------------------------------

class DualLevel:
    """The tangents of one ``forward_ad()`` block: its seeds and every tangent found.

    Tangents are found when asked for (:meth:`tangent`), by one pass over the part
    of the graph not yet visited, and remembered until a seed changes, so asking
    for y, then for a Value built from y, visits each node once.
    """

    __slots__ = ("_seeds", "_known", "_open")

    def __init__(self) -> None:
        self._seeds: dict[Value, float] = {}
        self._known: dict[Value, float] = {}
        self._open = True

    def dual(self, x: Any, tangent: Any, label: str = "") -> Value:
        """A leaf moving at rate ``tangent``: a new one holding the number x, or the
        leaf x itself (a model's parameter, say) when x is a leaf Value."""
        self._check_open("dual")
        rate = _rate("dual", tangent, "the tangent")
        if isinstance(x, Value):
            if x.children:
                raise ValueError(f"dual: {x!r} is the result of an op ({x.op}); give a leaf "
                                 "or a number (dual(x.data, t) makes a new leaf)")
            leaf = x
        elif is_real(x):
            leaf = Value(x, label)
        else:
            raise TypeError(f"dual: x must be a real number or a leaf Value, got "
                            f"{type(x).__name__}: {x!r}"[:200])
        self._seeds[leaf] = rate
        self._known = dict(self._seeds)
        return leaf

    def tangent(self, y: Value) -> float:
        """dy along the duals' tangents: sum over duals d of dy/dd * t(d); 0 if none."""
        self._check_open("tangent")
        a_value(y, "tangent")
        known = self._known
        if y not in known:
            push(inputs_first([y], known), known)
        return known[y]

    def tangents_of(self, nodes: Sequence[Value]) -> list[float] | None:
        """Each node's tangent if any of them is a dual of this level, else None."""
        if not self._open or not any(node in self._seeds for node in nodes):
            return None
        push(inputs_first(nodes, self._known), self._known)
        return [self._known[node] for node in nodes]

    def _check_open(self, who: str) -> None:
        if not self._open:
            raise RuntimeError(f"{who}: this forward_ad() block has ended; open a new one")

    def close(self) -> None:
        self._open = False
        self._seeds.clear()
        self._known.clear()


_LEVELS: contextvars.ContextVar[tuple[DualLevel, ...]] = contextvars.ContextVar(
    "autograd_scalar_forward_ad", default=())


@contextmanager
def forward_ad() -> Iterator[DualLevel]:
    """A block in which :func:`dual` makes leaves with tangents and :func:`tangent`
    reads any Value's; blocks nest (the innermost is used) and belong to the thread.

    Leaving the block forgets its tangents. The graph is recorded as usual:
    ``backward()`` and ``grad`` work on it as ever.
    """
    level = DualLevel()
    token = _LEVELS.set((*_LEVELS.get(), level))
    try:
        yield level
    finally:
        _LEVELS.reset(token)
        level.close()


def _innermost(who: str) -> DualLevel:
    levels = _LEVELS.get()
    if not levels:
        raise RuntimeError(f"{who}: no forward_ad() block is open; write "
                           "`with ag.forward_ad(): x = ag.dual(2.0, 1.0)`")
    return levels[-1]


def dual(x: Any, tangent: Any, label: str = "") -> Value:
    """A dual number x + t e (e^2 = 0): a leaf that moves at rate ``tangent``.

    Inside ``with forward_ad():`` only. Every Value computed from it carries
    f(x) + f'(x) t e, read with :func:`tangent`. ``x`` is a number (a new leaf,
    labelled ``label``) or a leaf Value (seeded itself).
    """
    return _innermost("dual").dual(x, tangent, label)


def tangent(y: Value) -> float:
    """The tangent of ``y`` in the innermost ``forward_ad()`` block: the rate at which
    y moves when the duals move at their tangents (0 if it uses none of them)."""
    return _innermost("tangent").tangent(y)


def open_tangents(nodes: Sequence[Value]) -> list[float] | None:
    """The tangents of ``nodes`` in the innermost open block, if the graph has any
    dual of it; else None. (The explorer shows them beside the gradients.)"""
    levels = _LEVELS.get()
    return levels[-1].tangents_of(nodes) if levels else None
