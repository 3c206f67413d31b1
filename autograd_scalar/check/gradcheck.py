"""gradcheck and gradgradcheck: derivatives from backward against finite differences.

``gradcheck`` compares the gradient of f (one Value per input, one Value out) from the
reverse pass (or forward mode) with central differences of f itself, in double
precision, with the kernel of :mod:`autograd_scalar.check.differences`:

    d f / d x_i  ~  (f(.., x_i + h, ..) - f(.., x_i - h, ..)) / 2h,   h = eps * max(1, |x_i|)

``gradgradcheck`` does the same one order up: the Hessian from
``grad(..., create_graph=True)`` against central differences of the gradient. An entry
passes when |analytic - numeric| <= atol + rtol * |numeric|; the step is the one asked
for (no retry at finer steps, unlike ``check_graph``).

On failure :class:`GradcheckError` (an AssertionError; bad arguments raise TypeError or
ValueError) shows the table and says where the fault is, in this order: a kink the step
moves a node's input across (:func:`kink_near`), the node whose rule is wrong
(``check_graph``), the step (the entry moves when differenced again at a step 100 times
smaller), else a gradient lost outside the graph. ``docs/tutorials/check-derivatives.md``
shows each case.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..backward import grad, topological_order
from ..derivatives import as_items, call, checked_point, leaves
from ..forward import check_modes, gradient_by, hessian_by
from ..ops import Op, evaluate, local_derivatives
from ..validate import flag, printable
from ..value import Value, apply
from .check_graph import (
    NONE_WRONG,
    SMALLEST_EPS,
    SMALLEST_EPS_TEXT,
    GraphReport,
    NodeFailure,
    check_graph,
    check_tolerances,
    format_table,
    stored_number,
    wrong_nodes,
)
from .differences import agrees, central, point_text, step

_SHOW_ALL_ROWS = 20
_RULE_INPUTS_MAX = 32
"""Rules of n-ary nodes with more inputs are not second-differentiated when locating."""


class GradcheckError(AssertionError):
    """Analytic derivatives disagree with finite differences; ``report`` has the table."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass(frozen=True)
class CheckEntry:
    """One derivative compared: its name, the analytic and numeric values, the verdict."""

    name: str
    analytic: float
    numeric: float
    ok: bool
    kink: str = ""
    finer: float = math.nan
    """For a disagreeing entry, the central difference again at a step 100 times smaller
    (NaN if not measured): when it differs from ``numeric``, the differences themselves
    are inaccurate at this step, and the step is to blame rather than the graph."""

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        return self.abs_error / abs(self.numeric) if self.numeric else (
            0.0 if self.abs_error == 0 else math.inf)


@dataclass
class CheckReport:
    """What gradcheck or gradgradcheck compared; ``str()`` is the error message."""

    title: str
    point: str
    entries: list[Any]
    """An :class:`CheckEntry` per derivative compared (a ``TaylorRow`` for taylorcheck)."""
    eps: float
    atol: float
    rtol: float
    where: list[str] = field(default_factory=list)
    """Lines saying where the fault is (filled on failure)."""

    @property
    def ok(self) -> bool:
        return all(entry.ok for entry in self.entries)

    def __str__(self) -> str:
        bad = [e for e in self.entries if not e.ok]
        verdict = (f"{len(bad)} of {len(self.entries)} derivatives disagree" if bad
                   else f"all {len(self.entries)} derivatives agree")
        lines = [f"{self.title} at {self.point}: {verdict}",
                 f"(central differences, eps={self.eps:g}; pass when |analytic - numeric| "
                 f"<= {self.atol:g} + {self.rtol:g} * |numeric|)", ""]
        shown = self.entries if len(self.entries) <= _SHOW_ALL_ROWS else bad
        table = [("derivative", "analytic", "numeric", "abs error", "rel error", "")]
        for e in shown:
            mark = "" if e.ok else ("<-- kink" if e.kink else "<-- wrong")
            table.append((e.name, f"{e.analytic:.8g}", f"{e.numeric:.8g}",
                          f"{e.abs_error:.2e}", f"{e.rel_error:.2e}", mark))
        lines.extend(format_table(table))
        if len(shown) < len(self.entries):
            lines.append(f"  ({len(self.entries) - len(shown)} agreeing entries not shown)")
        for e in bad:
            if e.kink:
                lines.append(f"\n{e.name}: {e.kink}; the difference straddles a point with no "
                             "derivative, so it cannot be checked there: move the point")
        if self.where:
            lines.extend(["", "where:", *self.where])
        return "\n".join(lines)


def setup(f: Any, inputs: Any, eps: Any, atol: Any, rtol: Any,
          who: str) -> tuple[list[float], list[str], list[Any]]:
    """The checks every checker makes of its arguments: (the point, the inputs' names as the
    table shows them, the inputs as a list)."""
    items = as_items(inputs, who, "the point", "x")
    point = checked_point(f, items, who)
    check_tolerances(eps, atol, rtol, who)
    names = [printable(getattr(item, "label", "")) or f"x[{i}]" for i, item in enumerate(items)]
    return point, names, items


def evaluate_at(f: Callable[..., Any], point: Sequence[float], like: Any, who: str,
                moved: str = "") -> tuple[list[Value], Value]:
    """(fresh leaves at ``point``, f of them); a ValueError naming ``moved`` (where f was
    evaluated) if f fails there or is not finite."""
    xs = leaves(point, like)
    where = f" at {moved}" if moved else ""
    try:
        out = call(f, xs, who)
    except (ArithmeticError, ValueError) as error:
        raise ValueError(f"{who}: f failed{where}: {error}; if that is the edge of f's "
                         "domain, keep the point at least a step inside it") from error
    if not math.isfinite(out.data):
        raise ValueError(f"{who}: f is {out.data}{where}; expected a finite value")
    return xs, out


def _moved(point: Sequence[float], i: int, x: float) -> list[float]:
    return [*point[:i], x, *point[i + 1:]]


def describe_point(names: Sequence[str], point: Sequence[float]) -> str:
    shown = ", ".join(f"{n}={point_text(x)}" for n, x in zip(names[:6], point[:6]))
    return f"({shown}{', ...' if len(point) > 6 else ''})"


def gradcheck(f: Callable[..., Any], inputs: Sequence[Any], *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              modes: Sequence[str] = ("rev",)) -> bool:
    """Whether the gradient of ``f(*inputs)`` from backward matches central differences.

    ``inputs`` are numbers, or Values whose data (and labels, for the table) are
    used. On a mismatch, raise :class:`GradcheckError` (or return False when
    ``raise_exception`` is False). :func:`gradcheck_report` gives the table always.
    ``modes`` (as JAX's ``check_grads``): "rev" checks the gradient from the
    reverse pass, "fwd" the one from forward mode (a tangent pass per input,
    :func:`jvp`); ``("fwd", "rev")`` checks both.
    """
    flag("raise_exception", raise_exception, who="gradcheck")
    report = gradcheck_report(f, inputs, eps=eps, atol=atol, rtol=rtol, modes=modes)
    return verdict(report, raise_exception, GradcheckError)


def gradgradcheck(f: Callable[..., Any], inputs: Sequence[Any], *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, modes: Sequence[str] = ("rev",)) -> bool:
    """Whether the second derivatives of ``f`` match central differences of its gradient.

    The Hessian entry d^2 f / dx_j dx_i comes from differentiating the gradient
    made by ``grad(..., create_graph=True)``, the numeric one from the gradient
    (by backward) at x_i +- h. Run :func:`gradcheck` first: this trusts the
    first derivatives. ``modes``: "rev" differentiates the gradient graph by
    reverse passes, "fwd" by tangent passes (forward-over-reverse).
    """
    flag("raise_exception", raise_exception, who="gradgradcheck")
    report = gradcheck_report(f, inputs, order=2, eps=eps, atol=atol, rtol=rtol, modes=modes)
    return verdict(report, raise_exception, GradcheckError)


def gradcheck_report(f: Callable[..., Any], inputs: Sequence[Any], *, order: int = 1,
                     eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                     modes: Sequence[str] = ("rev",)) -> CheckReport:
    """The table gradcheck (``order=1``) or gradgradcheck (``order=2``) judges by.

    Every entry compares an analytic derivative with its central difference; on a
    mismatch ``report.where`` names the faulty node or rule. Printing the report
    shows the table, whether or not the check passes. With ``modes`` other than
    ("rev",) each derivative has a row per mode, named with it: ``d/dx (fwd)``.
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck_report: order must be 1 or 2, got {order!r}")
    who = "gradcheck" if order == 1 else "gradgradcheck"
    point, names, inputs = setup(f, inputs, eps, atol, rtol, who)
    chosen = check_modes(modes, who)
    xs, out = evaluate_at(f, point, inputs, who)
    entries = _derivatives(f, point, names, inputs, xs, out, eps, atol, rtol, chosen, order)
    report = CheckReport(f"{who} of {function_name(f)}", describe_point(names, point), entries,
                         eps, atol, rtol)
    if any(not e.ok and not e.kink for e in report.entries):
        moved = [(k // len(chosen)) % len(point) for k in range(len(entries))]  # as made
        report.where = _locate(out, xs, report, order, [(i, names[i], point[i]) for i in moved])
    elif not report.ok:  # every failure at a kink: a wrong rule may still sit beside it
        found = check_graph(out, eps=eps, atol=atol, rtol=rtol)
        if found.failures:
            report.where = str(found).splitlines()
    return report


def _derivatives(f: Callable[..., Any], point: list[float], names: list[str], inputs: Any,
                 xs: list[Value], out: Value, eps: float, atol: float, rtol: float,
                 modes: tuple[str, ...], order: int) -> list[CheckEntry]:
    """The entries of the table: d/dx_i (order 1), or d2/dx_j dx_i (order 2), by each mode,
    against central differences of f (order 1) or of its gradient by backward (order 2),
    moving x_i; a disagreeing column i is checked for a kink and differenced again at the
    finer step once."""
    who = "gradcheck" if order == 1 else "gradgradcheck"
    analytic = {mode: [gradient_by(mode, out, xs)] if order == 1 else hessian_by(mode, out, xs)
                for mode in modes}

    def measured(moved: float, i: int) -> list[float]:
        xs_moved, out_moved = evaluate_at(f, _moved(point, i, moved), inputs, who,
                                          _side(names[i], moved, point[i]))
        return [out_moved.data] if order == 1 else grad(out_moved, xs_moved)

    def column(i: int, h: float) -> list[float]:
        return central(lambda moved: measured(moved, i), point[i], h)[0].tolist()

    numeric = [column(i, step(x, eps)) for i, x in enumerate(point)]
    kinks: dict[int, str] = {}
    finer: dict[int, list[float]] = {}
    entries = []
    for j in range(len(point) if order == 2 else 1):
        for i in range(len(point)):
            name = f"d/d{names[i]}" if order == 1 else f"d2/d{names[j]}d{names[i]}"
            for mode, values in analytic.items():
                a, n = values[j][i], numeric[i][j]
                ok = agrees(a, n, atol, rtol)
                if not ok and i not in kinks:
                    kinks[i] = kink_near(out, xs, unit(len(xs), i), step(point[i], eps),
                                         reaches=order == 1)
                    if not kinks[i]:
                        finer[i] = column(i, _finer(point[i], eps))
                entries.append(CheckEntry(name + _by(mode, modes), a, n, ok, "" if ok else kinks[i],
                                     finer[i][j] if not ok and i in finer else math.nan))
    return entries


def _by(mode: str, modes: tuple[str, ...]) -> str:
    """The mode in an entry's name, when the report has more than the reverse mode."""
    return "" if modes == ("rev",) else f" ({mode})"


FINER = 100.0
"""How much smaller the second step is, at which a disagreement is measured again."""


ROUNDING_GROWTH = 3.0
"""How many times farther from the analytic value the difference at the finer step must be
than at eps for the differences' error to be read as rounding (which grows as 1/h: about
:data:`FINER` times) rather than truncation (which shrinks as h^2)."""


def _finer(x: float, eps: float) -> float:
    """The second step: step(x, eps) / FINER, but no smaller than the smallest eps allows."""
    return max(eps / FINER, SMALLEST_EPS) * max(1.0, abs(x))


def _side(name: str, moved: float, x: float) -> str:
    return f"{name} {'+' if moved > x else '-'} eps"


def function_name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", None) or type(f).__name__


def verdict(report: CheckReport, raise_exception: bool,
            error: Callable[[Any], AssertionError]) -> bool:
    """Whether the report passes; a failing one raises ``error(report)`` if asked to."""
    if report.ok:
        return True
    if raise_exception:
        raise error(report)
    return False


def _locate(out: Value, xs: list[Value], report: CheckReport, order: int,
            moved: list[tuple[int, str, float]]) -> list[str]:
    """Lines naming the nodes whose rule is wrong, or the likely cause if none is.
    ``moved``: the (position, name, number) of the input each entry of the report moves."""
    failing = [(unit(len(xs), moved[k][0]), abs(e.analytic - e.numeric))
               for k, e in enumerate(report.entries) if not e.ok and not e.kink] \
        if order == 1 else []  # a second derivative's error is not one of the nodes' rules
    found = wrong_nodes(out, report.eps, report.atol, report.rtol, xs, failing)
    if found.failures:
        return str(found).splitlines()
    if found.undeclared_kinks:
        if order == 1:
            _mark_kinks(report, found.undeclared_kinks, xs, [i for i, _, _ in moved])
        if all(e.ok or e.kink for e in report.entries) or order == 2:
            return str(found).splitlines()
        # rows the kinks do not reach fail for a cause of their own: said after them
        return [*str(found).splitlines(), "", *_elsewhere(out, report, order, moved, found)]
    return _elsewhere(out, report, order, moved, found)


def _mark_kinks(report: CheckReport, kinks: Sequence[NodeFailure], xs: list[Value],
                moved: list[int]) -> None:
    """Mark the failing rows that move an input of one of the nodes at an undeclared kink
    (``kinks``) as at that kink. ``moved``: the position of each row's input."""
    names = [f"{k.op} node #{k.index}, undeclared" for k in kinks]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    reached = _inputs_under([k.node for k in kinks], xs)
    report.entries = [replace(e, kink="at a kink: " + ", ".join(names[:3]) + more)
                      if not e.ok and not e.kink and i in reached else e
                      for i, e in zip(moved, report.entries)]


def _elsewhere(out: Value, report: CheckReport, order: int,
               moved: list[tuple[int, str, float]], found: GraphReport) -> list[str]:
    """Lines on the likely cause of the failing rows when no node's rule is wrong: the
    step, points finite differences cannot judge, or the gradient lost outside the graph."""
    unchecked = found.unchecked_lines()
    unsteady = [e for e in report.entries if not e.ok and not e.kink and math.isfinite(e.finer)
                and not agrees(e.finer, e.numeric, report.atol, report.rtol)]
    if unsteady:
        inputs = {moved[k][1]: moved[k][2] for k, e in enumerate(report.entries)
                  if any(e is u for u in unsteady)}
        return _blame_the_step(report, unsteady, unchecked, inputs)
    if unchecked:
        return found.partly_checked("so finite differences cannot judge f at this point: "
                                    "check it where they settle (a smaller |x|), or with a "
                                    "Taylor test (taylorcheck)")
    if order == 2:
        rules = _rules_not_differentiable(out, report.eps, report.atol, report.rtol)
        if rules:
            return ["these derivative rules, run on Values by grad(create_graph=True), have "
                    "derivatives that disagree with finite differences of the rule itself:",
                    *rules,
                    "a rule must compute with arithmetic and table rows (ops.COS(x), not "
                    "math.cos(x)) so that its result stays in the graph"]
        return ["every node's first and second derivatives agree with its own forward, so "
                "the gradient is lost outside the graph: does f use .data (or "
                "math functions on it)?"]
    return [f"{NONE_WRONG}, so the gradient is lost outside the graph: does f use .data "
            "(or math functions on it)? Or a rule is off by less than that, and f magnifies "
            "it (a cancellation: f subtracts nearly equal values)"]


def _blame_the_step(report: CheckReport, unsteady: list[CheckEntry], unchecked: list[str],
                    inputs: dict[str, float]) -> list[str]:
    """Lines saying that the finite differences, not the graph, are inaccurate here, and
    which smaller eps to try: the finer one, where it agreed, else the smallest there
    is (:data:`SMALLEST_EPS`), if the finer one was not already that. ``inputs``: the
    name and number of the input each unsteady entry moves; one whose step spans 0 is
    named, with whether any eps can help."""
    finer_eps = max(report.eps / FINER, SMALLEST_EPS)
    # a difference across a jump J is J / 2h: the same J (to rtol) at both steps
    jumps = [e for e in unsteady if e.numeric != 0.0 and abs(
        e.numeric * report.eps - e.finer * finer_eps) <= report.rtol * abs(e.numeric * report.eps)]
    if jumps and len(jumps) == len(unsteady):
        return [f"{NONE_WRONG}, and the central differences grow as 1/h as the step "
                "shrinks:",
                *(f"  {e.name}: {e.numeric:.8g} at eps={report.eps:g}, {e.finer:.8g} at "
                  f"eps={finer_eps:.2g}" for e in jumps),
                "so f jumps within the step of the point (a branch on .data, a floor, a "
                "step): it has no derivative there; move the point"]
    graph = (NONE_WRONG if not unchecked
             else "check_graph finds no node inconsistent with its own forward (see below)")
    # truncation shrinks as h^2 with the step; rounding in f's values, over 2h, grows as 1/h
    rounding = [e for e in unsteady if abs(e.finer - e.analytic) > ROUNDING_GROWTH * abs(
        e.numeric - e.analytic)]
    if rounding and len(rounding) == len(unsteady):
        return [f"{graph}, and the central differences get worse as the step shrinks, so "
                "they are what is inaccurate here: the rounding of f's values, divided by the "
                "step, outgrows the slope (as where f's forward cancels, 1 - cos(x) at small x):",
                *(f"  {e.name}: {e.numeric:.8g} at eps={report.eps:g}, {e.finer:.8g} at "
                  f"eps={finer_eps:.2g}, against the analytic {e.analytic:.8g}" for e in rounding),
                *unchecked,
                f"try a larger eps (eps={report.eps * FINER:.2g}; the step is eps * max(1, |x|))"]
    lines = [f"{graph}, and the central differences change with the step, so they are what "
             "is inaccurate here (their error grows as h^2 times f's third derivative):"]
    recovered = False
    for e in unsteady:
        agreeing = agrees(e.analytic, e.finer, report.atol, report.rtol)
        recovered = recovered or agreeing
        verdict = "agrees with" if agreeing else "still differs from"
        lines.append(f"  {e.name}: {e.numeric:.8g} at eps={report.eps:g}, {e.finer:.8g} at "
                     f"eps={finer_eps:.2g}, which {verdict} the analytic {e.analytic:.8g}")
    lines.extend(unchecked)
    spanning = {name: x for name, x in inputs.items() if 0.0 < abs(x) < step(x, report.eps)}
    if spanning and not recovered:
        lines.extend(f"  {name} +- h spans 0 (|{name}| = {abs(x):.3g} < h = "
                     f"{step(x, report.eps):.3g}): where f has a pole or a kink at 0 (1/x, "
                     "abs), no difference across it can find the slope"
                     for name, x in spanning.items())
        if any(abs(x) < step(x, SMALLEST_EPS) for x in spanning.values()):
            lines.append("no eps makes the step smaller than that |x|: check f at a point "
                         "further from 0, or with a Taylor test (taylorcheck)")
            return lines
    if recovered:
        advice = f"use a smaller eps (eps={finer_eps:.2g})"
    elif finer_eps > SMALLEST_EPS:
        advice = (f"try a smaller eps, down to {SMALLEST_EPS_TEXT} (the step is eps * "
                  "max(1, |x|))")
    else:
        advice = "no smaller eps is possible here: check f at a smaller |x|"
    lines.append(f"{advice}, or a Taylor test: the remainder f(x + t v) - f(x) - t grad.v "
                 "must shrink as t**2 when t is halved")
    return lines


def _rules_not_differentiable(out: Value, eps: float, atol: float, rtol: float) -> list[str]:
    """Nodes whose rule, called on Values, differentiates to the wrong second derivative.

    For each node, the rule is run on fresh leaves holding the node's inputs, and
    d(partial_j)/dx_i from ``grad`` is compared with central differences of the
    rule on floats. A rule that leaves the graph (``math.cos(x)``) gives constants.
    """
    lines: list[str] = []
    seen: set[Op] = set()
    for index, node in enumerate(topological_order(out)):
        row = node.row
        if row is None or row in seen or len(node.children) > _RULE_INPUTS_MAX:
            continue
        xs = tuple(child.data for child in node.children)
        fresh = [Value(x) for x in xs]
        try:
            partials = row.derivatives(*fresh, apply(row, fresh))
        except (ArithmeticError, ValueError):
            continue
        for j, partial in enumerate(partials):
            analytic = grad(partial, fresh) if isinstance(partial, Value) else [0.0] * len(xs)
            for i, x in enumerate(xs):
                numeric = _rule_slope(row, xs, i, j, step(x, eps))
                if numeric is not None and not agrees(analytic[i], numeric, atol, rtol):
                    seen.add(row)
                    lines.append(f"  {row.name} node #{index}: d(partial {j})/d(input {i}) "
                                 f"is {analytic[i]:.8g} by grad, {numeric:.8g} numerically")
    return lines


def _rule_slope(row: Op, xs: tuple[float, ...], i: int, j: int, h: float) -> float | None:
    """d/dx_i of the row's j-th partial derivative, by central differences on floats."""
    def partial(x: float) -> float:
        moved = tuple(_moved(xs, i, x))
        return float(local_derivatives(row, moved, evaluate(row, moved))[j])

    try:
        return central(partial, xs[i], h)[0]
    except (ArithmeticError, ValueError):
        return None


def _inputs_under(nodes: Sequence[Value], xs: Sequence[Value]) -> set[int]:
    """The positions in ``xs`` of the inputs that any of ``nodes`` is computed from."""
    seen = {id(under) for node in nodes for under in topological_order(node)}
    return {i for i, x in enumerate(xs) if id(x) in seen}


def kink_near(out: Value, xs: Sequence[Value], direction: Sequence[float], h: float,
              reaches: bool = True) -> str:
    """Describe the kinked nodes whose input the step moves across or onto a kink
    (and, with ``reaches``, whose kinks change f there).

    The recorded graph is replayed (each row's forward on floats) with the inputs moved
    by +h and -h along ``direction`` (one number per input: a unit vector for d/dx_i);
    a kinked node counts when its input moves and a kink lies between the lowest and
    the highest of that input's three numbers, the recorded one and the two replayed.
    So the kink is measured in the input's own units: a relu of 1e-9 x at x = 0.5 is
    5e-10 from its kink, but a step of 1e-6 in x moves it by 1e-15, and it is not
    blamed. With ``reaches`` (first derivatives: f's values are differenced) they are
    reported only if f's replayed values change with those nodes taken straight, each
    its data plus its recorded local derivatives times its inputs' moves: a relu of
    0 * x (a unit with a zero weight) or one whose output is multiplied by 0 leaves f
    smooth, and a wrong rule beside it is named. Second derivatives difference the
    gradient, which such a kink still reaches (relu(x) * w at w = 0).
    """
    order = topological_order(out)
    moved = {x: c for x, c in zip(xs, direction) if c}
    depends: set[Value] = set(moved)
    for node in order:
        if any(child in depends for child in node.children):
            depends.add(node)
    at_up = {x: x.data + h * c for x, c in moved.items()}
    at_down = {x: x.data - h * c for x, c in moved.items()}
    up, down = _replay(order, at_up), _replay(order, at_down)
    found: dict[Value, str] = {}
    for index, node in enumerate(order):
        points = node.row.kinks if node.row is not None else ()
        if not points or node not in depends:
            continue
        for child in node.children:
            if child not in depends:
                continue
            swept = [u for u in (child.data, up[child], down[child]) if u == u]  # no NaN
            low, high = min(swept), max(swept)
            if low < high and any(low <= k <= high for k in points):
                found[node] = f"{node.op} node #{index} (its input is {child.data:.3g})"
                break
    if not found or (reaches and not any(
            _differs(_replay(order, at, set(found))[out], replayed[out])
            for at, replayed in ((at_up, up), (at_down, down)))):
        return ""
    named = list(found.values())
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    return "at a kink: " + ", ".join(named[:3]) + more


def _differs(a: float, b: float) -> bool:
    """Whether two replayed values differ (NaN matching NaN)."""
    return not (a == b or (math.isnan(a) and math.isnan(b)))


def unit(n: int, i: int) -> list[float]:
    """The i-th of n unit vectors: the direction of d/dx_i."""
    return [1.0 if k == i else 0.0 for k in range(n)]


def _replay(order: Sequence[Value], moved: dict[Value, float],
            straight: Collection[Value] = ()) -> dict[Value, float]:
    """Every node's data recomputed from its row's forward with the leaves in ``moved``
    set to their numbers there; a node in ``straight`` is taken as its tangent at the
    recorded point instead: data + sum_j d_j (input j now - input j recorded), with its
    recorded local derivatives d_j."""
    data: dict[Value, float] = {}
    for node in order:
        row = node.row
        if node in straight:
            data[node] = node.data + sum(stored_number(d) * (data[c] - c.data)
                                         for d, c in zip(node.local_grads, node.children))
            continue
        if row is None:
            data[node] = moved.get(node, node.data)
            continue
        try:
            data[node] = evaluate(row, tuple(data[c] for c in node.children))
        except (ArithmeticError, ValueError):
            data[node] = math.nan
    return data
