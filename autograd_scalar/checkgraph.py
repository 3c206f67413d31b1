"""check_graph: find the node whose local derivative disagrees with its own forward.

Every node made by an op stores its local derivatives d out / d x_j, computed by
its row's rule at the forward pass (``node.local_grads``). ``check_graph`` visits
each such node and recomputes them from the row's forward alone, by central
differences at the node's own inputs:

    d out / d x_j  ~  (F(.., x_j + h, ..) - F(.., x_j - h, ..)) / 2h,   h = eps * max(1, |x_j|)

Each node is checked on its own, so a wrong rule is reported at the nodes it made
and nowhere else, however deep the graph. A node passes when
|analytic - numeric| <= atol + rtol * |numeric| + (the rounding error of the
difference, about 2**-52 * |F| / h). A disagreement is confirmed at finer steps
before it is reported (:func:`_finer_steps`): a wrong rule disagrees at every step.

Near the edge of a row's domain (``log`` near 0) the step shrinks to keep both
sides inside. A node whose input sits within h of a kink (``relu``, ``abs``: see
its row's ``kinks``) and disagrees is listed under ``kinks``, not as a
failure. A node that cannot be checked (its derivative is infinite, it sits at the
edge of its domain, or its inputs changed since the forward pass) is listed under
``skipped`` with why.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backward import topological_order
from .ops import Op, evaluate
from .value import Value

_ROUNDING = 4 * 2.0 ** -52
"""Relative rounding error allowed in each forward value of a difference."""
_KINK_ROWS = 5
"""Nodes at a kink shown in the printed table (all are in ``report.kinks``)."""
_VECTOR_FROM = 32
"""n-ary nodes with more inputs than this are differenced on NumPy rows, in chunks."""


def check_tolerances(eps: Any, atol: Any, rtol: Any, who: str) -> None:
    """ValueError unless eps > 0 and atol, rtol >= 0, all finite real numbers."""
    for name, value, low in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                              np.integer)):
            raise TypeError(f"{who}: {name} must be a real number, got {type(value).__name__}")
        number = float(value)
        if not math.isfinite(number) or number < 0 or (low == "> 0" and number == 0):
            raise ValueError(f"{who}: {name} must be finite and {low}, got {value!r}")


@dataclass(frozen=True)
class NodeFailure:
    """A node whose stored local derivatives disagree with its forward.

    ``inputs``, ``analytic`` (stored) and ``numeric`` (central differences) have
    one entry per input of the node; ``wrong`` lists the positions that disagree;
    ``index`` is the node's position in topological order (leaves first).
    """

    node: Value
    op: str
    inputs: tuple[float, ...]
    analytic: tuple[float, ...]
    numeric: tuple[float, ...]
    wrong: tuple[int, ...]
    index: int


@dataclass(frozen=True)
class Skipped:
    """A node that could not be checked, and why."""

    node: Value
    op: str
    index: int
    reason: str


@dataclass
class GraphReport:
    """The result of :func:`check_graph`; prints as a table of the failing nodes.

    ``ok`` is True when no node disagrees. ``kinks`` are disagreements explained
    by an input within h of a kink; ``skipped`` are nodes that could not be checked;
    ``checked`` counts the op nodes compared, ``nodes`` all nodes in the graph
    (leaves included), ``seconds`` the time taken.
    """

    failures: list[NodeFailure]
    kinks: list[NodeFailure]
    skipped: list[Skipped]
    checked: int
    seconds: float
    eps: float
    atol: float
    rtol: float
    nodes: int = field(default=0)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """One line: how many op nodes were checked and how many disagree."""
        if self.failures:
            verdict = (f"{len(self.failures)} of {self.checked:,} op nodes disagree with "
                       "finite differences of their own forward")
        else:
            verdict = (f"ok, none of {self.checked:,} op nodes disagrees with finite "
                       "differences of its own forward")
        extra = []
        if self.kinks:
            extra.append(f"{len(self.kinks)} at a kink")
        if self.skipped:
            extra.append(f"{len(self.skipped)} not checkable")
        tail = f" ({', '.join(extra)})" if extra else ""
        return f"check_graph: {verdict}{tail}"

    def rows(self) -> list[tuple[str, ...]]:
        """The table: one row per disagreeing (node, input) pair, then the kinks."""
        header = ("node", "op", "scope", "input", "at", "analytic", "numeric", "abs error", "")
        table: list[tuple[str, ...]] = [header]
        for mark, group in (("<-- wrong", self.failures), ("kink", self.kinks[:_KINK_ROWS])):
            for failure in group:
                for j in failure.wrong:
                    a, n = failure.analytic[j], failure.numeric[j]
                    table.append((_name(failure), failure.op, failure.node.scope or "-", str(j),
                                  f"{failure.inputs[j]:.6g}", f"{a:.8g}", f"{n:.8g}",
                                  f"{abs(a - n):.2e}", mark))
        return table

    def __str__(self) -> str:
        lines = [self.summary(),
                 f"(central differences, eps={self.eps:g}, atol={self.atol:g}, "
                 f"rtol={self.rtol:g}; {self.seconds:.2f} s)"]
        if self.failures or self.kinks:
            lines.append("")
            lines.extend(format_table(self.rows()))
        if len(self.kinks) > _KINK_ROWS:
            lines.append(f"  ... and {len(self.kinks) - _KINK_ROWS} more nodes at a kink")
        if self.kinks:
            lines.append("kink: the input is within h of a point where the op has no "
                         "derivative; the difference straddles it, so no check is possible.")
        for skipped in self.skipped[:5]:
            lines.append(f"not checked: {_name(skipped)} {skipped.op}: {skipped.reason}")
        if len(self.skipped) > 5:
            lines.append(f"not checked: {len(self.skipped) - 5} more")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<GraphReport ok={self.ok} failures={len(self.failures)} checked={self.checked}>"

    def _repr_html_(self) -> str:
        rows = self.rows()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join(
            "<tr" + (' style="color:#b00"' if row[-1] == "<-- wrong" else "") + ">"
            + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in rows[1:])
        table = f"<table><tr>{head}</tr>{body}</table>" if len(rows) > 1 else ""
        return f"<p>{html.escape(self.summary())}</p>{table}"


def _name(item: NodeFailure | Skipped) -> str:
    label = f" {item.node.label!r}" if item.node.label else ""
    return f"#{item.index}{label}"


def format_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as lines of left-aligned columns (the first row is the header)."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
            for row in rows]


def check_graph(output: Value, *, eps: float = 1e-6, atol: float = 1e-5,
                rtol: float = 1e-3) -> GraphReport:
    """Check every node's stored local derivatives against its row's forward.

    Returns a :class:`GraphReport`; ``report.failures[i].node`` is the Value
    whose rule is wrong (``draw_graph(output, highlight=report)`` marks them).
    """
    if not isinstance(output, Value):
        raise TypeError(f"check_graph expects a Value, got {type(output).__name__}")
    check_tolerances(eps, atol, rtol, "check_graph")
    start = time.perf_counter()
    failures: list[NodeFailure] = []
    kinks: list[NodeFailure] = []
    skipped: list[Skipped] = []
    checked = 0
    order = topological_order(output)
    for index, node in enumerate(order):
        row = node.row
        if row is None:
            continue
        result = _check_node(node, row, index, float(eps), float(atol), float(rtol))
        if isinstance(result, Skipped):
            skipped.append(result)
            continue
        checked += 1
        if result is None:
            continue
        at_kink = all(row.distance_to_kink(result.inputs[j]) <= _step(result.inputs[j], eps)
                      for j in result.wrong)
        (kinks if at_kink else failures).append(result)
    return GraphReport(failures, kinks, skipped, checked, time.perf_counter() - start,
                       float(eps), float(atol), float(rtol), len(order))


def _check_node(node: Value, row: Op, index: int, eps: float, atol: float,
                rtol: float) -> NodeFailure | Skipped | None:
    """None if the node agrees, else what disagrees or why it cannot be checked."""
    xs = tuple(child.data for child in node.children)
    analytic = tuple(float(getattr(d, "data", d)) for d in node.local_grads)
    try:
        out = evaluate(row, xs)
    except (ArithmeticError, ValueError) as error:
        return Skipped(node, row.name, index, f"its forward fails at its inputs now ({error})")
    if not _same(out, node.data):
        return Skipped(node, row.name, index, "its inputs changed since the forward pass "
                       f"(data {node.data:.6g}, forward now {out:.6g})")
    if not all(map(math.isfinite, xs)) or not math.isfinite(out):
        return Skipped(node, row.name, index, "its inputs or output are not finite")
    if len(analytic) != len(xs):
        return Skipped(node, row.name, index, "it stores no local derivatives (no_grad)")
    if row.arity is None and len(xs) > _VECTOR_FROM:
        differences = _vector_differences(row, xs, eps)
    else:
        differences = [_difference(row, xs, j, _step(xs[j], eps)) for j in range(len(xs))]
    numeric = [d for d, _ in differences]
    wrong = []
    unchecked = ""
    for j, (a, (n, noise)) in enumerate(zip(analytic, differences)):
        if not math.isfinite(a):
            unchecked = f"its derivative for input {j} is {a} (a singular point)"
            continue
        if math.isfinite(n) and abs(a - n) <= atol + rtol * abs(n) + noise:
            continue
        for h in _finer_steps(xs[j], eps):
            n_finer, noise = _difference(row, xs, j, h)
            if not math.isfinite(n_finer):
                continue
            if not math.isfinite(n) or abs(a - n_finer) <= atol + rtol * abs(n_finer) + noise:
                n = numeric[j] = n_finer
            if abs(a - n_finer) <= atol + rtol * abs(n_finer) + noise:
                break
        else:
            if math.isfinite(n):
                wrong.append(j)
            else:
                unchecked = (f"its forward is not finite or not defined on both sides of "
                             f"input {j} = {xs[j]:.6g} (the edge of its domain)")
    if wrong:
        return NodeFailure(node, row.name, xs, analytic, tuple(numeric), tuple(wrong), index)
    if unchecked:
        return Skipped(node, row.name, index, unchecked)
    return None


def _step(x: float, eps: float) -> float:
    return eps * max(1.0, abs(x))


def _finer_steps(x: float, eps: float) -> list[float]:
    """Steps that confirm a disagreement: 100 times smaller (at most |x| / 1e3), then
    eps itself (at least 64 units in the last place of x, so that x +- h differ).

    A wrong rule disagrees at every step; a difference that straddles a pole or a
    sharp bend (1 / y with |y| < h) recovers at the first, and one that spans
    periods of ``sin`` at x = 1e8 (where h = eps |x|) recovers at the second.
    """
    first = _step(x, eps)
    steps = [min(first / 100, abs(x) * 1e-3) or first / 100]
    absolute = max(eps, 64 * math.ulp(x))
    if absolute < steps[0]:
        steps.append(absolute)
    return steps


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b) or abs(a - b) <= _ROUNDING * max(abs(a), abs(b))


def _difference(row: Op, xs: tuple[float, ...], j: int, first: float) -> tuple[float, float]:
    """d F / d x_j by central differences with step ``first``, and its rounding noise.

    Near the edge of the row's domain (``log`` at 1e-7) x_j - h may leave it; the
    step then becomes |x_j| / 1e3 or / 1e5, which keeps both sides inside a domain
    bounded at 0, with a truncation error of order (h / x_j)**2. NaN if no step fits.
    """
    for h in (first, abs(xs[j]) * 1e-3, abs(xs[j]) * 1e-5):
        if not 0 < h <= first:
            continue
        up = _at(row, xs, j, xs[j] + h)
        down = _at(row, xs, j, xs[j] - h)
        step = (xs[j] + h) - (xs[j] - h)
        if up is not None and down is not None and step > 0:
            return (up - down) / step, _ROUNDING * (abs(up) + abs(down)) / step
    return math.nan, 0.0


def _at(row: Op, xs: tuple[float, ...], j: int, x: float) -> float | None:
    try:
        return evaluate(row, (*xs[:j], x, *xs[j + 1:]))
    except (ArithmeticError, ValueError):
        return None


def _vector_differences(row: Op, xs: Sequence[float],
                        eps: float) -> list[tuple[float, float]]:
    """Central differences of an n-ary row for all inputs at once, on NumPy rows.

    Each chunk of inputs makes a matrix whose columns are the point moved up or
    down along one coordinate; the row's vector forward takes its rows as inputs.
    """
    point = np.asarray(xs, dtype=np.float64)
    n = len(point)
    steps = eps * np.maximum(1.0, np.abs(point))
    chunk = max(1, 4_000_000 // n)
    result: list[tuple[float, float]] = []
    for start in range(0, n, chunk):
        js = np.arange(start, min(n, start + chunk))
        moved = np.repeat(point[:, None], 2 * len(js), axis=1)
        moved[js, 2 * np.arange(len(js))] += steps[js]
        moved[js, 2 * np.arange(len(js)) + 1] -= steps[js]
        with np.errstate(all="ignore"):
            values = np.asarray(row.vector(*moved), dtype=np.float64)
        up, down = values[0::2], values[1::2]
        span = (point[js] + steps[js]) - (point[js] - steps[js])
        with np.errstate(all="ignore"):
            slopes = (up - down) / span
            noise = _ROUNDING * (np.abs(up) + np.abs(down)) / span
        result.extend(zip(slopes.tolist(), noise.tolist()))
    return result

