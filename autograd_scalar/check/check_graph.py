"""check_graph: find the node whose local derivative disagrees with its own forward.

Every node made by an op stores its local derivatives d out / d x_j, computed by its
row's rule at the forward pass (``node.local_grads``). ``check_graph`` recomputes them
from the row's forward alone, by central differences at the node's own inputs:

    d out / d x_j  ~  (F(.., x_j + h, ..) - F(.., x_j - h, ..)) / 2h,   h = eps * max(1, |x_j|)

so a wrong rule is reported at the nodes it made and nowhere else. A node passes when
|analytic - numeric| <= atol + rtol * |numeric| + (the rounding of the difference, about
2**-52 * |F| / h). What is reported as a kink, skipped or a failure:
``docs/tutorials/check-derivatives.md``, "check_graph".

The differences are taken for all the nodes of a row together, their inputs as the
columns of NumPy arrays (:func:`~autograd_scalar.check.array_differences.column_differences`);
a node that does not surely pass there (a disagreement, a non-finite number, a domain
check that fails, a forward that no longer gives its data) is checked again alone, with
the row's float forward, and that check decides. A disagreement is confirmed at finer
steps before it is reported (:func:`~autograd_scalar.check.differences.finer_steps`): a
wrong rule disagrees at every step. Where the finest differences have not settled (``sin``
at 1e13, where floats are too far apart to resolve it) the node is not checkable. An
index operand (``gather``'s last) is held fixed, and its stored derivative must be
exactly 0.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np

from ..backward import a_value, gradients, topological_order
from ..forward import inputs_first, push
from ..ops import Op, evaluate
from ..validate import is_real, printable
from ..value import Value
from .array_differences import column_differences, vector_differences
from .differences import (
    ROUNDING,
    agrees,
    close,
    confirmed,
    derivative,
    finer_steps,
    hundredth,
    point_text,
    step,
    unsettled,
)

_KINK_ROWS = 5
"""Nodes at a kink shown in the printed table (all are in ``report.kinks``)."""
_VECTOR_FROM = 32
"""n-ary nodes with more inputs than this are differenced on NumPy arrays, all at once."""
_data = attrgetter("data")
_children = attrgetter("children")
_local_grads = attrgetter("local_grads")


SMALLEST_EPS = 64 * 2.0 ** -52
"""The smallest relative step, about 1.4e-14: the step h = eps * max(1, |x|) is then at least
64 float64 spacings of the scale max(1, |x|), so x + h and x - h are distinct numbers and the
step actually taken, (x + h) - (x - h), is within 2% of 2h. A smaller eps measures rounding."""
SMALLEST_EPS_TEXT = f"{math.ceil(SMALLEST_EPS * 1e16) / 1e16:.3g}"
"""SMALLEST_EPS rounded up to three digits, as messages show it: a number one can pass."""


def stored_number(d: Any) -> float:
    """A stored local derivative as a float (a Value's data under ``create_graph``)."""
    return float(getattr(d, "data", d))


def tolerance(name: str, value: Any, who: str, positive: bool = False) -> float:
    """``value`` as a finite float >= 0 (> 0 if ``positive``); TypeError or ValueError naming
    ``name`` and ``who`` otherwise."""
    if not is_real(value):
        raise TypeError(f"{who}: {name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{who}: {name} must be finite and {'> 0' if positive else '>= 0'}, "
                         f"got {value!r}")
    return number


def check_tolerances(eps: Any, atol: Any, rtol: Any, who: str) -> None:
    """ValueError unless eps >= :data:`SMALLEST_EPS` and atol, rtol >= 0, all finite reals."""
    tolerance("eps", eps, who, positive=True)
    tolerance("atol", atol, who)
    tolerance("rtol", rtol, who)
    if float(eps) < SMALLEST_EPS:
        raise ValueError(
            f"{who}: eps must be at least {SMALLEST_EPS_TEXT}, got {eps!r}: the step is "
            "eps * max(1, |x|), and a smaller one is lost in the rounding of x +- step "
            "(float64 numbers near x are 2.2e-16 * |x| apart), so the difference would "
            "measure rounding, not the slope")


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
    declared: bool = True
    """Whether the row names the kink the node is at (``kinks``); False where the
    forward's one-sided slopes found one the row does not declare."""

    @property
    def not_finite(self) -> tuple[int, ...]:
        """The wrong positions whose stored derivative is NaN or infinite."""
        return tuple(j for j in self.wrong if not math.isfinite(self.analytic[j]))


@dataclass(frozen=True)
class SkippedNode:
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
    skipped: list[SkippedNode]
    checked: int
    seconds: float
    eps: float
    atol: float
    rtol: float
    nodes: int = field(default=0)
    output: Value | None = field(default=None, repr=False, compare=False)
    """The Value that was checked, so that ``explore(report)`` can show its graph."""

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
                    table.append((_name(failure), _cell(failure.op),
                                  _cell(failure.node.scope or "-"), str(j),
                                  point_text(failure.inputs[j]), f"{a:.8g}", f"{n:.8g}",
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
                         "derivative; the difference straddles it, so no check is possible"
                         + (" (an op of yours says where with kinks, e.g. kinks = (1.0,))."
                            if self.undeclared_kinks else "."))
        for failure in self.failures:
            for j in failure.not_finite:
                lines.append(
                    f"{_name(failure)} {failure.op}: its rule gives {failure.analytic[j]} "
                    f"(NaN or inf) for input {j} = {point_text(failure.inputs[j])}, where its "
                    f"forward is smooth with slope {failure.numeric[j]:.8g}")
        lines.extend(self.unchecked_lines())
        return printable("\n".join(lines))  # op and scope names may come from a file

    @property
    def undeclared_kinks(self) -> list[NodeFailure]:
        """The nodes at a kink their op does not declare (see ``NodeFailure.declared``)."""
        return [kink for kink in self.kinks if not kink.declared]

    def unchecked_lines(self) -> list[str]:
        """A line per node that could not be checked, and why (the first five, then how
        many more)."""
        lines = [printable(f"not checked: {_name(skipped)} {skipped.op}: {skipped.reason}")
                 for skipped in self.skipped[:5]]
        if len(self.skipped) > 5:
            lines.append(f"not checked: {len(self.skipped) - 5} more")
        return lines

    def partly_checked(self, conclusion: str) -> list[str]:
        """Lines for a checker whose failure no rule explains: no node is wrong, some could
        not be checked (listed), then ``conclusion``."""
        return ["check_graph finds no node inconsistent with its own forward, but cannot "
                "check every node:", *self.unchecked_lines(), conclusion]

    def __repr__(self) -> str:
        return f"<GraphReport ok={self.ok} failures={len(self.failures)} checked={self.checked}>"

    def _repr_html_(self) -> str:
        return html_table(self.summary(), self.rows(), lambda row: row[-1] == "<-- wrong")


def _cell(text: str) -> str:
    """A name (an op's, a scope's: from a file, perhaps) as one cell of the table."""
    return printable(text).replace("\n", " ")


def _name(item: NodeFailure | SkippedNode) -> str:
    label = f" {item.node.label!r}" if item.node.label else ""
    return f"#{item.index}{label}"


def format_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as lines of left-aligned columns (the first row is the header)."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
            for row in rows]


def html_table(summary: str, rows: Sequence[Sequence[str]],
               red: Callable[[Sequence[str]], bool], more: str = "") -> str:
    """A report as a notebook shows it: the summary, then the rows (header first) as a
    table, those ``red`` picks in red, then ``more``."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr" + (' style="color:#b00"' if red(row) else "") + ">"
        + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in rows[1:])
    table = f"<table><tr>{head}</tr>{body}</table>" if len(rows) > 1 else ""
    return f"<p>{html.escape(summary)}</p>{table}{more}"


TIGHTEST_RTOL = 1e-8
"""The least relative tolerance :func:`wrong_nodes` tries."""
EXPLAINED = 0.1
"""The least share of a check's error a node named by a tighter pass must account for."""
NONE_WRONG = ("check_graph finds every node consistent with its own forward (also with "
              f"atol=0 and rtol down to {TIGHTEST_RTOL:g} where its error would show)")
"""What a check says when :func:`wrong_nodes` names no node."""

Failing = Sequence[tuple[Sequence[float], float]]
"""A check's failures: (a direction, one number per input; the error seen along it)."""


def wrong_nodes(output: Value, eps: float, atol: float, rtol: float,
                inputs: Sequence[Value] = (), failing: Failing = ()) -> GraphReport:
    """The nodes to blame for a failing check of f's derivatives: :func:`check_graph` at
    the check's tolerances, and, where that names none, again with atol = 0 and rtol ten
    times smaller each time down to :data:`TIGHTEST_RTOL`, until a pass names a node that
    explains the check's error.

    A rule's error can be small beside its own node's numbers and large in f's gradient:
    a node of size 1e-12 whose output f multiplies by 1e12, or two large terms whose
    difference f takes. The tighter passes find it. But at such tolerances a right rule
    of a forward that rounds worse than the differences allow for (1 - cos(x) near 0, a
    naive log(1 + exp(x))) can disagree too. So a node they name counts only where its
    error, carried to the output, accounts for at least :data:`EXPLAINED` of the error
    along one of the ``failing`` directions of the ``inputs``: a node p whose local
    derivative for input c is off by d moves d(out)/dv by (d out / d p) d t_v(c), t_v
    being c's tangent along v. Without ``failing`` only the first pass runs. Where no
    pass names a node, the report is the first.
    """
    found = check_graph(output, eps=eps, atol=atol, rtol=rtol)
    if found.failures or not failing:
        return found
    explains = _explaining(output, inputs, failing)
    tighter = max(rtol, TIGHTEST_RTOL)
    tolerances = [tighter] if atol > 0.0 else []
    while tighter > TIGHTEST_RTOL:
        tighter = max(tighter / 10.0, TIGHTEST_RTOL)
        tolerances.append(tighter)
    for tolerance in tolerances:
        closer = check_graph(output, eps=eps, atol=0.0, rtol=tolerance)
        named = [failure for failure in closer.failures if explains(failure)]
        if named:
            return replace(closer, failures=named)
    return found


def _explaining(output: Value, inputs: Sequence[Value], failing: Failing
                ) -> Callable[[NodeFailure], bool]:
    """Whether a node's wrong local derivatives account for at least EXPLAINED of the
    error along one of the ``failing`` directions (see :func:`wrong_nodes`)."""
    adjoints = gradients(output)
    along = []
    for direction, error in failing:
        known = {x: float(v) for x, v in zip(inputs, direction) if v}
        push(inputs_first([output], known), known)
        along.append((known, error))

    def explains(failure: NodeFailure) -> bool:
        reach = abs(adjoints.get(failure.node, 0.0))
        children = failure.node.children
        return any(reach * max(abs(failure.analytic[j] - failure.numeric[j])
                               * abs(known.get(children[j], 0.0)) for j in failure.wrong)
                   >= EXPLAINED * error for known, error in along)

    return explains


def check_graph(output: Value, *, eps: float = 1e-6, atol: float = 1e-5,
                rtol: float = 1e-3) -> GraphReport:
    """Check every node's stored local derivatives against its row's forward.

    Returns a :class:`GraphReport`; ``report.failures[i].node`` is the Value
    whose rule is wrong (``draw_graph(output, highlight=report)`` marks them).
    """
    a_value(output, "check_graph")
    check_tolerances(eps, atol, rtol, "check_graph")
    start = time.perf_counter()
    failures: list[NodeFailure] = []
    kinks: list[NodeFailure] = []
    skipped: list[SkippedNode] = []
    order = topological_order(output)
    rows: dict[tuple[Op, int], list[int]] = {}
    for index, node in enumerate(order):
        row = node.row
        if row is not None:
            rows.setdefault((row, len(node.children)), []).append(index)
    suspects: list[int] = []
    for (row, count), indices in rows.items():
        nodes = [order[index] for index in indices]
        agree = _agreeing(row, count, nodes, float(eps), float(atol), float(rtol))
        suspects.extend(index for index, ok in zip(indices, agree) if not ok)
    for index in sorted(suspects):
        node = order[index]
        row = node.row
        assert row is not None
        result = _check_node(node, row, index, float(eps), float(atol), float(rtol))
        if isinstance(result, SkippedNode):
            skipped.append(result)
            continue
        if result is None:
            continue
        if all(_at_kink(row, result.inputs[j], eps) for j in result.wrong):
            kinks.append(result)
        elif all(_at_kink(row, result.inputs[j], eps)
                 or _undeclared_kink(row, result.inputs, j, result.analytic[j], eps,
                                     float(atol), float(rtol)) for j in result.wrong):
            kinks.append(replace(result, declared=False))
        else:
            failures.append(result)
    checked = sum(map(len, rows.values())) - len(skipped)
    return GraphReport(failures, kinks, skipped, checked, time.perf_counter() - start,
                       float(eps), float(atol), float(rtol), len(order), output)


def _agreeing(row: Op, count: int, nodes: list[Value], eps: float, atol: float,
              rtol: float) -> list[bool]:
    """For each node of ``row`` with ``count`` inputs: True if it surely passes, its
    differences taken for all the nodes at once on NumPy arrays (:func:`column_differences`);
    False for a node to check on its own (:func:`_check_node`), which also decides
    every disagreement, kink and skip. A node passes here only if its inputs and
    output are finite, its row's forward gives its data again (and its domain check
    passes, at its inputs and, for a row of fixed arity, at each moved point), and
    every stored derivative is finite and agrees with the difference at the first step.
    """
    size = len(nodes)
    doubt = [False] * size
    if count == 0 or (row.arity is None and count > _COLUMNS_UP_TO
                      and not (row.separable or row.bilinear)):
        return doubt
    try:
        values = list(map(_data, chain.from_iterable(map(_children, nodes))))
        point = np.array(values, dtype=np.float64).reshape(size, count).T.copy()
        analytic = np.fromiter(chain.from_iterable(map(_local_grads, nodes)),
                               np.float64, size * count).reshape(size, count).T.copy()
        data = np.fromiter(map(_data, nodes), np.float64, size)
        with np.errstate(all="ignore"):
            out = np.broadcast_to(np.asarray(row.vector(*point), dtype=np.float64), (size,))
        slopes, noise = column_differences(row, point, eps)
    except (ArithmeticError, TypeError, ValueError):
        return doubt  # a no_grad node, an operand the vector forward refuses: one by one
    moved = count - row.index
    with np.errstate(all="ignore"):
        same = (out == data) | (np.abs(out - data) <= ROUNDING * np.maximum(np.abs(out),
                                                                            np.abs(data)))
        fits = np.abs(analytic[:moved] - slopes) <= atol + rtol * np.abs(slopes) + noise
    good = (same & np.isfinite(data) & np.isfinite(point).all(axis=0)
            & (fits & np.isfinite(analytic[:moved]) & np.isfinite(slopes)).all(axis=0)
            & (analytic[moved:] == 0.0).all(axis=0))
    if row.check is not None:
        _checked_domain(row, values, point, moved, eps, good)
    return good.tolist()


_COLUMNS_UP_TO = 64
"""n-ary nodes of a row that is neither separable nor bilinear, with up to this many
inputs, are differenced together (n evaluations of the n-input forward per node);
wider ones one by one (:func:`vector_differences`)."""


def _checked_domain(row: Op, values: list[float], point: np.ndarray, moved: int,
                    eps: float, good: np.ndarray) -> None:
    """Clear ``good`` for the nodes whose inputs fail the row's domain check, or, for a
    row of fixed arity, whose moved points do (those are checked one by one, where the
    step shrinks to stay inside). An n-ary row's check is run at the inputs only."""
    assert row.check is not None
    check = row.check
    columns = np.flatnonzero(good).tolist()
    count = len(point)
    points = [values[column * count:(column + 1) * count] for column in columns]
    if row.arity is None:
        for column, xs in zip(columns, points):
            if check(*xs) is not None:
                good[column] = False
        return
    steps = step(point[:, columns], eps).T.tolist()
    for column, xs, hs in zip(columns, points, steps):
        if check(*xs) is not None:
            good[column] = False
            continue
        for j in range(moved):
            x, h = xs[j], hs[j]
            if (check(*xs[:j], x + h, *xs[j + 1:]) is not None
                    or check(*xs[:j], x - h, *xs[j + 1:]) is not None):
                good[column] = False
                break


def _check_node(node: Value, row: Op, index: int, eps: float, atol: float,
                rtol: float) -> NodeFailure | SkippedNode | None:
    """None if the node agrees, else what disagrees or why it cannot be checked."""
    xs = tuple(child.data for child in node.children)
    analytic = tuple(map(stored_number, node.local_grads))
    try:
        out = evaluate(row, xs)
    except (ArithmeticError, ValueError) as error:
        return SkippedNode(node, row.name, index, f"its forward fails at its inputs now ({error})")
    if not close(out, node.data, ROUNDING):
        return SkippedNode(node, row.name, index, "its forward gives another value at its "
                           f"inputs now (data {node.data:.6g}, forward now {out:.6g}): an input "
                           "changed since the forward pass, or the forward reads state that did")
    if not all(map(math.isfinite, xs)) or not math.isfinite(out):
        return SkippedNode(node, row.name, index, "its inputs or output are not finite")
    if len(analytic) != len(xs):
        return SkippedNode(node, row.name, index, "it stores no local derivatives (no_grad)")
    moved = len(xs) - row.index  # an index operand is held fixed: its derivative is 0
    if row.arity is None and len(xs) > _VECTOR_FROM:
        differences = vector_differences(row, xs, eps)
    else:
        differences = [derivative(_moving(row, xs, j), xs[j], step(xs[j], eps))
                       for j in range(moved)]
    numeric = []
    wrong = [j for j in range(moved, len(xs)) if analytic[j] != 0.0]
    unchecked = ""
    for j, (a, first) in enumerate(zip(analytic[:moved], differences)):
        if not math.isfinite(a):
            slope = _smooth(_moving(row, xs, j), xs[j], eps, first, atol, rtol)
            numeric.append(first[0] if slope is None else slope)
            if slope is not None:
                wrong.append(j)  # a NaN or inf from the rule where the forward is smooth
            else:
                unchecked = f"its derivative for input {j} is {a} (a singular point)"
            continue
        n, _, ok = confirmed(_moving(row, xs, j), xs[j], eps, a, first, atol, rtol)
        numeric.append(n)
        if ok:
            continue
        if math.isfinite(n):
            why = "" if _at_kink(row, xs[j], eps) else unsettled(_moving(row, xs, j), xs[j],
                                                                  eps, atol, rtol, a)
            if why:
                unchecked = why
            else:
                wrong.append(j)
        else:
            unchecked = _no_difference(_moving(row, xs, j), xs[j], eps, j)
    numeric.extend([0.0] * (len(xs) - moved))
    if wrong:
        return NodeFailure(node, row.name, xs, analytic, tuple(numeric), tuple(sorted(wrong)),
                           index)
    if unchecked:
        return SkippedNode(node, row.name, index, unchecked)
    return None


def _no_difference(f: Callable[[float], float], x: float, eps: float, j: int) -> str:
    """Why no finite difference of f (input ``j`` of a row) exists at x: f is not finite
    or not defined at x +- h, or it is, and only the quotient overflows (f moves by more
    than the largest float across the step)."""
    h = step(x, eps)
    try:
        ends = (f(x - h), f(x + h))
    except (ArithmeticError, ValueError):
        ends = (math.nan, math.nan)
    if all(math.isfinite(end) for end in ends):
        return (f"its forward is finite on both sides of input {j} = {point_text(x)} but "
                "changes across the step by more than a float can hold (the difference "
                "quotient overflows)")
    return (f"its forward is not finite or not defined on both sides of input {j} = "
            f"{point_text(x)} (the edge of its domain)")


def _at_kink(row: Op, x: float, eps: float) -> bool:
    """Whether a disagreement at input x is explained by a kink of ``row``: even the
    finest step confirming it (:func:`finer_steps`) reaches across one. A step that
    stays on one side judged the rule there: a wrong relu rule at 5e-7 is wrong."""
    return row.distance_to_kink(x) <= min(finer_steps(x, eps))


def _undeclared_kink(row: Op, xs: tuple[float, ...], j: int, analytic: float, eps: float,
                     atol: float, rtol: float) -> bool:
    """Whether the row's forward has a kink at input j = x that its ``kinks`` do not name,
    and the rule gives one of the one-sided slopes there: max(0, x - 1) at 1 with the
    rule's 0 or 1. The slopes from either side, at the finest step that confirms a
    disagreement and ten times it, stay apart by more than the tolerance and rounding
    (where f is smooth their gap shrinks with the step as f'' h), so f has no derivative
    at x, and any one-sided slope is as right as the other."""
    f, x = _moving(row, xs, j), xs[j]
    h = min(finer_steps(x, eps))
    try:
        (wide, _), (fine, rounding) = (_one_sided_gap(f, x, k) for k in (10 * h, h))
        right = (f(x + h) - f(x)) / ((x + h) - x)
    except (ArithmeticError, ValueError):
        return False
    left = right - fine
    parted = abs(fine) > atol + rtol * max(abs(left), abs(right)) + rounding \
        and abs(fine) >= 0.5 * abs(wide)
    # a one-sided slope's rounding is half the gap's: two values of f, not three
    return parted and any(agrees(analytic, side, atol, rtol, rounding / 2)
                          for side in (left, right))


def _smooth(f: Callable[[float], float], x: float, eps: float, first: tuple[float, float],
            atol: float, rtol: float) -> float | None:
    """f's slope at x if f has a finite one there (else None): at the step eps gives, or
    failing that at each finer step :func:`finer_steps` takes in turn, :func:`_smooth_at`
    finds one (the slope is then the central difference at that step).

    The finer steps see a slope where the step eps gives is too coarse for f: sin at
    2^20 (a step of 1.05 spans a sixth of its period) or sqrt at 1e-6 (a step of 1e-6
    reaches 0). They cannot make a singular point smooth: at a kink or a cusp the
    one-sided slopes part at every step, and a finer step counts only where rounding
    leaves the gap between them readable to the tolerance of a slope, atol + rtol |slope|
    (1e6 + |x| at 0 is a kink, but at a step of 1e-10 the rounding of 1e6 hides it)."""
    if _smooth_at(f, x, step(x, eps), first, atol, rtol):
        return first[0]
    for h in finer_steps(x, eps):
        finer = derivative(f, x, h)
        if _smooth_at(f, x, h, finer, atol, rtol, readable=atol + rtol * abs(finer[0])):
            return finer[0]
    return None


def _smooth_at(f: Callable[[float], float], x: float, h: float, first: tuple[float, float],
               atol: float, rtol: float, readable: float = math.inf) -> bool:
    """Whether f has a finite slope at x, seen from the step h (``first`` is the central
    difference with it): the difference is finite at h and at a finer step, the two
    agree, and the one-sided slopes close in on each other as the step shrinks. Their
    gap, the right slope less the left, is about f''(x) h where f is smooth, shrinking
    tenfold from the step 10 h to h; at a kink it stays (|x|), at a cusp it grows
    (sqrt(|x|) at 0, whose central differences are all 0). A rule's NaN or inf is then
    wrong, not a singular point (sqrt at 0 has no difference that fits; 1/x at 0 gives
    ones that disagree). ``readable``: the most rounding the gap may hold."""
    slope, noise = first
    if not math.isfinite(slope):
        return False
    h = hundredth(x, h)
    finer, finer_noise = derivative(f, x, h)
    if not (math.isfinite(finer) and agrees(slope, finer, atol, rtol, noise + finer_noise)):
        return False
    try:
        gaps = [_one_sided_gap(f, x, k) for k in (10 * h, h)]
    except (ArithmeticError, ValueError):
        return False
    (wide, _), (fine, rounding) = gaps
    return rounding <= readable and not (abs(fine) > atol + rounding
                                         and abs(fine) >= 0.5 * abs(wide))


def _one_sided_gap(f: Callable[[float], float], x: float, k: float) -> tuple[float, float]:
    """(right slope - left slope of f at x with step k, the rounding that gap may hold).
    Each slope is divided by the step actually taken (x + k - x is not k near a power of
    two); the rounding is that of the three values, over the smaller step."""
    ahead, here, behind = f(x + k), f(x), f(x - k)
    right, left = (x + k) - x, x - (x - k)
    size = max(abs(ahead), abs(here), abs(behind))
    return (ahead - here) / right - (here - behind) / left, 4 * ROUNDING * size / min(right, left)


def _moving(row: Op, xs: tuple[float, ...], j: int) -> Callable[[float], float]:
    """The row's forward as a function of its input j alone, the others held at xs.

    Making it copies nothing; each call builds the operand tuple it evaluates (as
    it must), so checking an n-ary node whose inputs all agree at the first step
    costs no scalar evaluation at all.
    """

    def forward(x: float) -> float:
        return evaluate(row, (*xs[:j], x, *xs[j + 1:]))

    return forward
