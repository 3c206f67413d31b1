"""The Taylor-remainder test: a gradient check that needs no step size.

For f smooth at x, a direction v and the directional derivative g.v under test,

    R(h) = f(x + h v) - f(x) - h g.v  =  h^2 / 2  v^T H v  +  O(h^3)

when g.v is right, and R(h) = h (g_true - g).v + O(h^2) when it is wrong, whatever the
scale of f. The test passes when the observed order, the slope of log |R| against log h,
is at least 1.75, or when |R| never rises above rounding (f linear along v). Why a
central difference cannot do this, and how to read the report:
``docs/tutorials/check-derivatives.md``, "The Taylor test".

The steps and the rounding level come from the number type, not from the user:

- steps h = s * 10^(-1 - k/2), k = 0 .. 24 (0.1 s down to 1e-13 s), where
  s = max(1, |x_i| over the inputs that v moves), with v scaled to max |v_i| = 1.
  The point actually reached, fl(x + h v), is used: R is formed with the step
  taken, d = fl(x + h v) - x, so the rounding of x + h v costs nothing.
- R(h) counts only where it stands above ten times its rounding bound: a running
  error bound (Wilkinson's), pushed through the graph like a tangent,
  e(p) = u (|p| + sum_i |dp/dc_i c_i|) + sum_i |dp/dc_i| e(c_i), with u = 2^-52
  (and 2^-1074, the spacing of subnormals, per node),
  for f(x) and for f(x + d), plus the rounding of g.d itself.
- The order is the slope log(|R(h_a)| / |R(h_b)|) / log(h_a / h_b) between the
  two smallest steps of the last run of at least three consecutive steps above
  that level at which R keeps one sign: the smallest steps are where the Taylor
  series is most exact, and a change of sign is a dip where two terms cancel,
  not the order. When R then falls ten times below that run's own trend and
  stays at rounding level for every smaller step, the run was a kink passed
  at some distance (R ~ h beyond it, 0 within): f is linear at the smallest
  steps, and the test passes.
- Where that slope falls short, the step just past the run may still decide: R there
  has fallen to within ten times its bound but stands above the bound (Wilkinson's
  alone, without the margin of the level) with the run's sign, and every smaller step
  is at rounding level. If even the least slope the exact remainders can have
  between the run's last step a and that step b, log((|R_a| - e_a) / (|R_b| + e_b)) /
  log(h_a / h_b), is at least 1.75, the test passes: a saturating f (tanh moved by
  hundreds beside a coordinate of 800) shows its h^2 only there, while a wrong
  derivative's h (g_true - g).v could not stand above a few times the bound at that
  step, nor ten times it at any smaller one.
- A failing run whose slope rises from step to step (1.2, then 1.5), with no step past
  it reading a lower slope, had not settled to an order: a right derivative of a flat f
  (tanh saturated) reads so, and so does a wrong one whose error cancels the curvature.
  The row is then not judged (``TaylorRow.unresolved``): it fails, saying so.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import numpy as np

from ..backward import grad
from ..derivatives import call, checked_point, leaves
from ..forward import as_vector, check_modes, inputs_first, push
from ..validate import flag
from ..value import Value
from .check_graph import NONE_WRONG, GraphReport, format_table, wrong_nodes
from .differences import agrees, central, step
from .gradcheck import (
    CheckReport,
    describe_point,
    evaluate_at,
    function_name,
    kink_near,
    setup,
    unit,
    verdict,
)

UNIT = 2.0 ** -52
"""The spacing of float64 numbers at 1: each op's result is within UNIT / 2 of exact,
a library function's (sin, exp) within UNIT."""
TINY = 2.0 ** -1074
"""The spacing of float64 numbers near 0 (subnormals): the least rounding of any result."""

LADDER = tuple(10.0 ** (-1 - k / 2) for k in range(25))
"""The steps, as multiples of the scale s of x: 0.1 down to 1e-13, two per decade."""
TINY_SLOPE = sys.float_info.min
"""The smallest normal float64: a slope below it in size is a derivative of 0 (or a
subnormal) in floats, as 1/x's -1e-600 at x = 1e300 is."""
ABOVE_ROUNDING = 10.0
"""R(h) counts when it exceeds this many times its rounding bound."""
PASS_ORDER = 1.75
"""The least observed order that passes: 2 for a right derivative, 1 for a wrong one."""
FIT_MIN = 3
"""Fewer steps in a row above rounding decide nothing: R is then at rounding level."""


@dataclass(frozen=True)
class TaylorResult:
    """The Taylor test along one direction: the ladder, the remainders, the verdict.

    ``steps`` are the h of the ladder, along v scaled by 1 / ``norm`` (so that
    max |v_i| = 1); ``remainders`` the signed R(h) (NaN where f failed: outside
    its domain), ``bounds`` their rounding bounds, ``used`` the steps looked at
    for the order (the slope is between the last two). ``order`` is NaN when no
    three consecutive steps stand above rounding: then ``at_rounding`` if the last three
    judged steps are at rounding level, else nothing could be judged.
    """

    direction: tuple[float, ...]
    derivative: float
    steps: tuple[float, ...]
    remainders: tuple[float, ...]
    bounds: tuple[float, ...]
    used: tuple[int, ...]
    order: float
    ok: bool
    norm: float = 1.0
    noise: float = 0.0
    """The floor of |R| the smallest steps measured, where f rounds beyond its computed
    bound (a forward that cancels); 0 where it does not."""

    @property
    def resolution(self) -> float:
        """The least error e in g.v that R shows above the measured noise N. R(h) = h e
        stands ABOVE_ROUNDING times above N only for e > ABOVE_ROUNDING N / h, best at
        the smallest step read (the largest step, where R stayed at rounding level); and
        it shows as order 1 only where it outweighs the curvature's h^2 c, h < e / c: both
        at once need e > sqrt(ABOVE_ROUNDING N c), c read from R at the largest step read.
        0 where no noise was measured: the computed bound is then small enough not to
        matter."""
        if not self.noise:
            return 0.0
        h = self.steps[self.used[-1]] if self.used else self.steps[0]
        k = self.used[0] if self.used else 0
        curvature = abs(self.remainders[k]) / self.steps[k] ** 2
        floor = ABOVE_ROUNDING * self.noise
        return max(floor / h, math.sqrt(floor) * math.sqrt(curvature)) * self.norm

    @property
    def at_rounding(self) -> bool:
        """True when |R(h)| stays at rounding level, f being linear along v to working
        precision: no run of steps shows an order, and at the last FIT_MIN steps where R
        and its bound are finite, R is within ABOVE_ROUNDING times the bound. Fewer such
        steps (f failed at the others, or its bound is inf) judge nothing."""
        if self.used:
            return False
        judged = [k for k, (r, b) in enumerate(zip(self.remainders, self.bounds))
                  if math.isfinite(r) and math.isfinite(b)][-FIT_MIN:]
        return len(judged) == FIT_MIN and all(
            abs(self.remainders[k]) <= ABOVE_ROUNDING * self.bounds[k] for k in judged)

    @property
    def estimate(self) -> float:
        """The directional derivative along v that R points to, g.v + norm R(h) / h at
        the smallest step used: for a wrong g, R(h) ~ h (g_true - g).v / norm."""
        if not self.used:
            return self.derivative
        k = self.used[-1]
        return self.derivative + self.remainders[k] / self.steps[k] * self.norm

    def summary(self) -> str:
        """The order as the table shows it: "2.00", "rounding", or "-" (nothing judged: f
        failed, or no order could be read)."""
        if self.at_rounding:
            return "rounding"
        return f"{self.order:.2f}" if self.used else "-"


def observed_order(steps: Sequence[float], remainders: Sequence[float],
                   bounds: Sequence[float], certain: Sequence[float] | None = None
                   ) -> tuple[float, tuple[int, ...]]:
    """(the slope of log |R| against log h at the smallest steps, those steps), or (NaN, ()).

    ``remainders`` are the signed R(h), ``steps`` decreasing. The slope is taken
    between the last two steps of the last run of at least three consecutive
    steps at which R stands above rounding with one sign: where R changes sign
    its terms cancel (a dip that is not the asymptotic order; the step just past
    the change is left out too), and for h small enough the leading term alone
    decides the sign. With no such run, R is at rounding level (NaN, ()); so it
    is too when R collapses below the run's trend at the next step and stays at
    rounding level for every smaller step (:func:`_collapses`). A slope below
    PASS_ORDER gives way to the least slope the exact remainders can have down to the
    next step, when that one passes (:func:`_beyond`; ``certain`` are the rigorous
    bounds it uses, ``bounds`` when None).
    """
    runs: list[list[int]] = []
    run: list[int] = []
    sign = 0.0
    for k, (r, b) in enumerate(zip(remainders, bounds)):
        if not (math.isfinite(r) and math.isfinite(b) and abs(r) > ABOVE_ROUNDING * b):
            run = []
            continue
        if not run or math.copysign(1.0, r) != sign:
            flipped = bool(run)
            run = []
            runs.append(run)
            sign = math.copysign(1.0, r)
            if flipped:  # next to the zero of R between k - 1 and k: a dip, not the order
                continue
        run.append(k)
    long_enough = [run for run in runs if len(run) >= FIT_MIN]
    if not long_enough:
        return math.nan, ()
    used = long_enough[-1][-FIT_MIN:]
    a, b = used[-2], used[-1]
    slope = _run_slopes(steps, remainders, (a, b))[0]
    if _collapses(steps, remainders, b, slope) and not any(k > b for run in runs for k in run):
        return math.nan, ()
    if slope < PASS_ORDER:
        least = _beyond(steps, remainders, bounds, bounds if certain is None else certain, b)
        if least >= PASS_ORDER:
            return least, (*used[1:], b + 1)
    return slope, tuple(used)


def _in_a_run(result: TaylorResult, k: int, sign: float) -> bool:
    """Whether step k stands above rounding with ``sign``, as a step of a run does."""
    r = result.remainders[k]
    return math.isfinite(r) and abs(r) > ABOVE_ROUNDING * result.bounds[k] and \
        math.copysign(1.0, r) == sign


def _whole_run(result: TaylorResult) -> list[int]:
    """The steps of the run whose last ones ``result.used`` holds, as
    :func:`observed_order` reads runs: back from them while R stands above rounding with
    their sign, leaving out a step just after a change of sign."""
    if not result.used:
        return []
    first, sign = result.used[0], math.copysign(1.0, result.remainders[result.used[0]])
    while first > 0 and _in_a_run(result, first - 1, sign) and not (
            first > 1 and _in_a_run(result, first - 2, -sign)):
        first -= 1
    return list(range(first, result.used[-1] + 1))


def _still_rising(result: TaylorResult) -> list[float]:
    """The slopes of log |R| along the run the order was read from, if they rise from
    step to step (by RISE at least, to RISEN or more) and no step past the run that
    stands above its bound with the run's sign reads a lower slope; else [].

    R = sum c_n h^n. Where its terms share a sign, the slope is their exponents'
    average weighted by the terms, and it falls as h shrinks: towards 1 for a wrong
    derivative. A rising slope comes from terms of opposite signs: a right derivative's
    h^2 bent by a fading h^3 (tanh saturating), or a wrong derivative's h (g_true - g)
    against the curvature, R heading for a zero. Either way the order has not shown."""
    run = _whole_run(result)
    slopes = _run_slopes(result.steps, result.remainders, run)
    if len(slopes) < 2 or slopes[-1] < RISEN or any(y - x < RISE for x, y in pairwise(slopes)):
        return []
    sign, last, k = math.copysign(1.0, result.remainders[run[-1]]), slopes[-1], run[-1]
    while k + 1 < len(result.steps) and math.isfinite(result.remainders[k + 1]) and \
            abs(result.remainders[k + 1]) > result.bounds[k + 1] and \
            math.copysign(1.0, result.remainders[k + 1]) == sign:
        past = _run_slopes(result.steps, result.remainders, (k, k + 1))[0]
        if past < last:
            return []
        last, k = past, k + 1
    return slopes


RISEN = 1.25
"""A rising slope counts from here (a right derivative's heads for 2 or more)."""
RISE = 0.1
"""The least rise from one slope to the next that counts (rounding moves a slope less)."""


def _run_slopes(steps: Sequence[float], remainders: Sequence[float], run: Sequence[int]
               ) -> list[float]:
    """The slope of log |R| against log h between each pair of consecutive steps of ``run``."""
    return [math.log(abs(remainders[a] / remainders[b])) / math.log(steps[a] / steps[b])
            for a, b in pairwise(run)]


def _beyond(steps: Sequence[float], remainders: Sequence[float], bounds: Sequence[float],
            certain: Sequence[float], last: int) -> float:
    """The least slope of log |R| the exact remainders can have between step ``last``
    (the end of a run) and the next, or NaN where that next step cannot tell.

    The exact R lies within ``certain`` (its rounding bound) of the computed one, so
    |R_exact| >= |R| - e at ``last`` and <= |R| + e at the next step. That step counts
    only where R stands above its bound with the run's sign (the exact R keeps it: no
    dip through 0) and every smaller step is at rounding level (no h (g_true - g).v
    shows anywhere below).
    """
    k = last + 1
    if k >= len(steps):
        return math.nan
    r, e = remainders[k], certain[k]
    if not (math.isfinite(r) and math.isfinite(e)) or abs(r) <= e or \
            math.copysign(1.0, r) != math.copysign(1.0, remainders[last]):
        return math.nan
    if any(math.isfinite(rj) and math.isfinite(bj) and abs(rj) > ABOVE_ROUNDING * bj
           for rj, bj in zip(remainders[k + 1:], bounds[k + 1:])):
        return math.nan
    least = (abs(remainders[last]) - certain[last]) / (abs(r) + e)
    return math.log(least) / math.log(steps[last] / steps[k])


def _collapses(steps: Sequence[float], remainders: Sequence[float], last: int,
               slope: float) -> bool:
    """Whether R falls, just past step ``last``, ten times below the run's own trend.

    Then the run was not the asymptotic order: f changes its formula within it
    (a kink at distance d from x: R grows as h for h > d, and is 0 for h < d),
    and the smaller steps, all at rounding level, show f linear along v.
    """
    k = last + 1
    if k >= len(steps) or not math.isfinite(remainders[k]):
        return False
    trend = abs(remainders[last]) * (steps[k] / steps[last]) ** slope
    return abs(remainders[k]) < trend / 10


NOISE_STEPS = 8
"""The smallest steps of the ladder (h <= 3e-10 s), where a smooth f's R(h) is far below
any rounding: what R is there is f's rounding, which they measure."""


SIGNAL_FALL = 2.0
"""A step of the tail at which |R| falls this many times (h e falls sqrt(10) times) is
still a signal's, not noise."""


def _measured_noise(remainders: Sequence[float]) -> float:
    """The largest |R(h)| at the :data:`NOISE_STEPS` smallest steps when it is noise, else 0.

    There a smooth f's R(h) = h^2 f''/2 is far below rounding, and what R holds is f's
    rounding: a forward that cancels rounds far beyond :func:`_rounding_bound`'s bound
    ((1 - cos x) / x^2 in a Function, 90 units at 0.1). Noise has no order in h:
    |R| rises between steps as often as it falls, and it varies by half its size or
    more (f(x)'s own error, one number, may give it one sign). A wrong derivative's
    R = h e falls at every step (by sqrt(10)) until rounding takes over: those first
    steps are left out (:data:`SIGNAL_FALL`); a jump's R = J stays the same: neither is
    taken for noise. Where
    noise is taken, the test resolves only errors above :attr:`TaylorResult.resolution`,
    which :func:`taylor_report` holds against the tolerance."""
    tail = [abs(r) for r in remainders[-NOISE_STEPS:] if math.isfinite(r)]
    while len(tail) > NOISE_STEPS // 2 and tail[0] >= SIGNAL_FALL * tail[1]:
        tail = tail[1:]  # a signal's end (h e falls sqrt(10) a step) before rounding's floor
    if len(tail) < NOISE_STEPS // 2 or sum(b > a for a, b in pairwise(tail)) < 2:
        return 0.0
    largest = max(tail)
    return largest if largest - min(tail) >= 0.5 * largest else 0.0


def _rounding_bound(out: Value) -> float:
    """Wilkinson's running error bound on f's computed value, through f's graph.

    Each node's own rounding, UNIT (|p| + sum_i |dp/dc_i c_i|) + TINY (the second
    term is the cancellation inside an n-ary sum, TINY the spacing of subnormals),
    is carried to the output by the stored local derivatives in absolute value:
    e(p) = own(p) + sum_i |dp/dc_i| e(c_i).
    Inputs and constants are exact (f is the function of the floats it was given).
    """
    bound: dict[Value, float] = {}
    for node in inputs_first([out]):
        children = node.children
        if not children:
            bound[node] = 0.0
            continue
        own = UNIT * abs(node.data)  # UNIT first: exp(709)'s 8e307 * 709 would overflow
        carried = 0.0
        for local, child in zip(node.local_grads, children):
            size = abs(local)
            if child.data:  # 0 * inf (sqrt at 0) is no rounding, not NaN
                own += UNIT * size * abs(child.data)
            if bound[child]:
                carried += size * bound[child]
        bound[node] = own + TINY + carried
    return bound[out]


def _magnitude(order: Sequence[Value], xs: Sequence[Value], delta: Sequence[float],
               out: Value) -> float:
    """sum over paths of |products of local derivatives| |delta_i|: how large the terms
    summed into g.delta are, which bounds the rounding of g.delta."""
    size: dict[Value, float] = {x: abs(d) for x, d in zip(xs, delta)}
    for node in order:
        total = 0.0
        for local, child in zip(node.local_grads, node.children):
            if size[child]:
                total += abs(local) * size[child]
        size[node] = total
    return size[out]


class _Directional:
    """g.d for any displacement d, by the mode under test: g from one reverse pass
    ("rev"), or a tangent pass along d through the graph of f(x) ("fwd")."""

    def __init__(self, mode: str, out: Value, xs: Sequence[Value]) -> None:
        self.mode, self.out, self.xs = mode, out, list(xs)
        self.order = inputs_first([out], xs)
        self.gradient = grad(out, xs) if mode == "rev" else None

    def __call__(self, delta: Sequence[float]) -> float:
        if self.gradient is not None:
            return math.fsum(g * d for g, d in zip(self.gradient, delta))
        known = dict(zip(self.xs, delta))
        push(self.order, known)
        return known[self.out]

    def magnitude(self, delta: Sequence[float]) -> float:
        return _magnitude(self.order, self.xs, delta, self.out)


def _evaluate(f: Callable[..., Any], point: Sequence[float], like: Any,
              who: str) -> Value | None:
    """f at ``point``, or None where f fails or is not finite (outside its domain)."""
    try:
        out = call(f, leaves(point, like), who)
    except (ArithmeticError, ValueError):
        return None
    return out if math.isfinite(out.data) else None


def _ladder(f: Callable[..., Any], point: Sequence[float], like: Any, out: Value,
            direction: Sequence[float], modes: Sequence[_Directional],
            who: str) -> list[TaylorResult]:
    """Measure R(h) along ``direction`` over the ladder of steps and judge its order,
    once per mode: f is evaluated once per step, and each mode's g.d read off it.

    The steps are multiples of s = max(1, |x|) over the coordinates moved. Where x is
    small (1/x at x = 1e-14) every such step reaches past x, to where f is another
    function; so a mode that fails there is measured again with s = |x|, and takes
    that ladder's verdict if it passes above rounding (at rounding level a step that
    small could not tell a wrong derivative)."""
    own = max(abs(x) for x, v in zip(point, direction) if v)
    results = _measured(f, point, like, out, direction, max(1.0, own), modes, who)
    if 0.0 < own < 1.0 and not all(result.ok for result in results):
        closer = _measured(f, point, like, out, direction, own, modes, who)
        results = [near if not wide.ok and near.ok and not near.at_rounding else wide
                   for wide, near in zip(results, closer)]
    return results


def _measured(f: Callable[..., Any], point: Sequence[float], like: Any, out: Value,
              direction: Sequence[float], scale: float, modes: Sequence[_Directional],
              who: str) -> list[TaylorResult]:
    """Each mode's Taylor result over the steps ``LADDER`` times ``scale`` along
    ``direction`` scaled to a largest entry of 1."""
    norm = max(abs(v) for v in direction)
    along = [v / norm for v in direction]
    f0 = out.data
    e0 = _rounding_bound(out)
    steps: list[float] = []
    remainders: list[list[float]] = [[] for _ in modes]
    bounds: list[list[float]] = [[] for _ in modes]
    certain: list[list[float]] = [[] for _ in modes]  # without the level's margin
    for multiple in LADDER:
        h = multiple * scale
        moved = [x + h * v for x, v in zip(point, along)]
        delta = [m - x for m, x in zip(moved, point)]
        steps.append(h)
        there = _evaluate(f, moved, like, who) if any(delta) else None
        e1, f1 = (math.nan, math.nan) if there is None else (_rounding_bound(there), there.data)
        values = e0 + UNIT * abs(f0) + e1 + UNIT * abs(f1)
        for k, directional in enumerate(modes):
            if there is None:
                remainders[k].append(math.nan)
                bounds[k].append(math.nan)
                certain[k].append(math.nan)
                continue
            remainder = math.fsum((there.data, -f0, -directional(delta)))
            dot = 16 * UNIT * directional.magnitude(delta)
            remainders[k].append(remainder)
            bounds[k].append(values + dot)
            # fsum rounds the exact sum once: f's two bounds, g.d's, and that rounding
            certain[k].append(e0 + e1 + dot + UNIT * abs(remainder))
    results = []
    for k, directional in enumerate(modes):
        noise = _measured_noise(remainders[k])
        if noise <= max(bounds[k][-NOISE_STEPS:], default=0.0):
            noise = 0.0  # within the computed bound: f rounds as bounded
        if noise:  # f rounds worse than bounded (a Function's forward that cancels): R's
            # floor, measured, is the bound
            bounds[k] = [max(b, noise) for b in bounds[k]]
            certain[k] = [max(c, noise) for c in certain[k]]
        order, used = observed_order(steps, remainders[k], bounds[k], certain[k])
        result = TaylorResult(
            direction=tuple(direction), derivative=directional(direction), steps=tuple(steps),
            remainders=tuple(remainders[k]), bounds=tuple(bounds[k]), used=used, order=order,
            ok=order >= PASS_ORDER, norm=norm, noise=noise)
        results.append(replace(result, ok=True) if result.at_rounding else result)
    return results


def taylor_test(f: Callable[..., Any], point: Sequence[Any], direction: Sequence[Any], *,
                mode: str = "rev") -> TaylorResult:
    """The Taylor test of f's derivative at ``point`` along ``direction`` (one per input).

    ``mode`` is where g comes from: "rev" (backward) or "fwd" (a tangent pass).
    The result holds the steps and remainders, for a plot of log |R| against log h.
    """
    who = "taylor_test"
    x = checked_point(f, point, who)
    (mode,) = check_modes([mode], who)
    v = _direction(direction, len(x), who)
    xs, out = evaluate_at(f, x, point, who, "the point")
    return _ladder(f, x, point, out, v, [_Directional(mode, out, xs)], who)[0]


def _direction(direction: Any, n: int, who: str) -> list[float]:
    v = as_vector(who, direction, n, "direction")
    if not any(v):
        raise ValueError(f"{who}: the direction is all zeros; expected a non-zero vector")
    return v


# ---------------------------------------------------------------------------
# The report: the Taylor test and the central difference side by side
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TaylorRow:
    """One derivative under both tests: the central difference and the Taylor test.

    ``kink`` names the kinked nodes met along the input when the Taylor test fails
    at a point where f has no derivative.
    """

    name: str
    mode: str
    analytic: float
    numeric: float
    central_ok: bool
    taylor: TaylorResult
    kink: str = ""
    unresolved: str = ""
    """Why the test cannot judge this derivative to the tolerance (f's values round
    too coarsely here), if so: then the row fails, saying so."""

    @property
    def ok(self) -> bool:
        return self.taylor.ok and not self.unresolved


class TaylorReport(CheckReport):
    """What taylorcheck compared, a :class:`TaylorRow` per entry; ``str()`` is the table
    (and the error message). ``ok``: every derivative passes the Taylor test (the central
    column informs)."""

    @property
    def rows(self) -> list[TaylorRow]:
        return self.entries

    def __str__(self) -> str:
        bad = [row for row in self.rows if not row.ok]
        verdict = (f"{len(bad)} of {len(self.rows)} derivatives fail the Taylor test" if bad
                   else f"all {len(self.rows)} derivatives pass the Taylor test")
        lines = [f"{self.title} at {self.point}: {verdict}",
                 "(Taylor: |f(x + h v) - f(x) - h g.v| ~ h^order for h = 0.1 s .. 1e-13 s, "
                 "s = max(1, |x|),",
                 f" a failing row again with s = |x| where 0 < |x| < 1; pass when order >= "
                 f"{PASS_ORDER:g} or at rounding level. Central differences beside",
                 f" it: eps={self.eps:g}, pass when |analytic - numeric| <= {self.atol:g} + "
                 f"{self.rtol:g} * |numeric|)", ""]
        table = [("derivative", "mode", "analytic", "numeric", "central", "Taylor order",
                  "Taylor")]
        for row in self.rows:
            table.append((row.name, row.mode, f"{row.analytic:.8g}", f"{row.numeric:.8g}",
                          "ok" if row.central_ok else "wrong", row.taylor.summary(),
                          "ok" if row.ok else "wrong"))
        lines.extend(format_table(table))
        for row in bad:
            lines.append(f"\n{row.name} ({row.mode}): {_diagnosis(row)}")
        if self.where:
            lines.extend(["", "where:", *self.where])
        return "\n".join(lines)


def _underflowed(result: TaylorResult) -> bool:
    """Whether the derivative is 0 only because f's slope is below float64's range: the
    remainder shrinks as h, pointing to a slope under :data:`TINY_SLOPE` in size."""
    return (abs(result.order - 1) < 0.35 and result.derivative == 0.0
            and abs(result.estimate) < TINY_SLOPE)


def _too_few_steps(result: TaylorResult) -> str:
    """Why a row with no order and not at rounding level judged nothing: f failed at
    every step, or at all but a few (near the edge of its domain), or its rounding bound
    is not finite (a local derivative of inf times a number that is not 0)."""
    defined = [math.isfinite(r) for r in result.remainders]
    bounded = [d and math.isfinite(b) for d, b in zip(defined, result.bounds)]
    if not any(defined):
        return "f failed at every step along this direction (outside its domain)"
    if sum(defined) < FIT_MIN:
        return (f"f is defined at only {sum(defined)} of the {len(defined)} steps along "
                f"this direction (outside its domain at the others), fewer than the "
                f"{FIT_MIN} the test needs; move the point further inside f's domain")
    if sum(bounded) < FIT_MIN:
        return ("f's rounding error has no finite bound along this direction (a local "
                "derivative of inf in f), so no step can be judged; move the point")
    return (f"R stands above rounding at some steps but at no {FIT_MIN} in a row the order "
            "can be read from (one sign, not just past a change of sign): R changes sign or "
            "oscillates along these steps, or f's rounding is larger than bounded; try "
            "another point or direction")


def _unresolved(result: TaylorResult, atol: float, rtol: float) -> str:
    """Why the test cannot judge ``result``'s failing derivative: R's slope still rising
    where R meets rounding (:func:`_still_rising`), or to atol + rtol |g.v| (the central
    column's tolerance), the noise f's rounding puts on R hiding any error in g.v below
    :attr:`TaylorResult.resolution`, which is coarser; "" where it can judge."""
    slopes = [] if result.ok else _still_rising(result)
    if slopes:
        return (f"R's slope was still rising ({', '.join(f'{x:.2f}' for x in slopes)}) where R "
                "met f's rounding, and no order showed: a right derivative of a flat f reads "
                "so (tanh saturated), and so does a wrong one whose error cancels the "
                "curvature, so the test cannot judge it here; test where f is less flat")
    tolerance = atol + rtol * abs(result.derivative)
    if result.resolution <= tolerance:
        return ""
    return (f"f's values round to about {result.noise:.2g} here, far beyond their computed "
            "bound (a forward that cancels?), so R shows an error in this derivative only "
            f"above {result.resolution:.2g}, coarser than the tolerance {tolerance:.2g}: the "
            "test cannot judge it here; test at a point where f rounds less, or write f's "
            "forward so that it does not cancel")


def _diagnosis(row: TaylorRow) -> str:
    """Why a row failed, in words: f's rounding too coarse to judge, the order read as a
    wrong derivative, a kink, or no data."""
    result = row.taylor
    order = result.order
    if not math.isfinite(result.derivative):
        return (f"the derivative is {result.derivative}: f has no finite slope here in "
                "float64, at a singular point (such as sqrt at 0) or where the slope is past "
                "float64's range (about 1.8e308, as exp(x * x) has at 26.6 while f is still "
                "finite), so no test can pass; move the point")
    if row.kink and result.used:
        return (f"order {order:.2f}; {row.kink}: f has no derivative there, so no test can "
                "pass at this point; move the point")
    if row.unresolved:
        return row.unresolved
    if not result.used:
        return _too_few_steps(result)
    if _underflowed(result):
        return (f"order {order:.2f}: the remainder shrinks as h, so f's slope is not 0, but "
                f"it is below float64's range (under {TINY_SLOPE:.2g} in size): 0 is the "
                "nearest derivative a float holds, and no rule is wrong; test at a point "
                "where the slope is in range")
    if abs(order - 1) < 0.35:
        return (f"order {order:.2f}: the remainder shrinks as h, not h^2, so the derivative "
                f"is off: the remainder points to {result.estimate:.8g}, not "
                f"{result.derivative:.8g}{_coarse_steps(result)}")
    return (f"order {order:.2f}: the remainder does not shrink as h^2; f is not smooth here "
            f"(a kink or a jump), or its derivative is off{_coarse_steps(result)}")


COARSE_STEP = 0.1
"""A step past which the order read may not be f's Taylor order (see :func:`_coarse_steps`)."""


def _coarse_steps(result: TaylorResult) -> str:
    """A note, when the order was read only at steps of COARSE_STEP and more set by a
    large coordinate (s = max(1, |x_i|) > 1): along another coordinate those steps may
    reach past f's Taylor series (tanh moved by hundreds beside a coordinate of 800),
    where a right derivative reads as this too, and R was at rounding level below them."""
    scale = result.steps[0] / LADDER[0]
    smallest = result.steps[result.used[-1]]
    if scale <= 1.0 or smallest < COARSE_STEP:
        return ""
    return (f" (but the order was read at steps of {smallest:.2g} and more, set by a "
            f"coordinate of size {scale:.3g}: if f varies on a scale of 1 along another "
            "input this direction moves, such steps reach past its Taylor series, where a "
            "right derivative can read so too; test along that input alone to tell)")


class TaylorError(AssertionError):
    """A derivative fails the Taylor test; ``report`` has the table."""

    def __init__(self, report: TaylorReport) -> None:
        super().__init__(str(report))
        self.report = report


def taylorcheck(f: Callable[..., Any], inputs: Sequence[Any], *,
                modes: Sequence[str] = ("rev",), directions: Sequence[Any] | None = None,
                axes: bool = True, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                raise_exception: bool = True) -> bool:
    """Whether f's gradient passes the Taylor test along every input (and direction).

    Raises :class:`TaylorError` on a failure (or returns False when
    ``raise_exception`` is False). ``eps``, ``atol`` and ``rtol`` are for the
    central-difference column shown beside it, and ``eps`` and ``rtol`` for the first
    search of a failing row's wrong node (with atol = 0, then rtol ten times smaller
    each time down to 1e-8): the Taylor verdict has no step size or tolerance to set.
    """
    flag("raise_exception", raise_exception, who="taylorcheck")
    report = taylor_report(f, inputs, modes=modes, directions=directions, axes=axes,
                           eps=eps, atol=atol, rtol=rtol)
    return verdict(report, raise_exception, TaylorError)


def taylor_report(f: Callable[..., Any], inputs: Sequence[Any], *,
                  modes: Sequence[str] = ("rev",), directions: Sequence[Any] | None = None,
                  axes: bool = True, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3) -> TaylorReport:
    """The table taylorcheck judges by, a row per input (then per direction) and mode:
    the analytic derivative, the central difference and its verdict, the observed
    Taylor order and its verdict.

    ``directions``: vectors (one number per input) to test along besides the
    inputs' own axes; ``modes``: "rev", "fwd" or both (where g comes from).
    ``axes=False`` tests along ``directions`` only: each row costs a ladder of 25
    evaluations of f, so for many inputs one random direction (which meets every
    input's derivative) is n times cheaper than the n axes.
    """
    who = "taylorcheck"
    flag("axes", axes, who=who)
    point, names, items = setup(f, inputs, eps, atol, rtol, who)
    chosen = check_modes(modes, who)
    n = len(point)
    extra = [] if directions is None else _directions(directions, n, who)
    if not axes and not extra:
        raise ValueError(f"{who}: axes=False tests along the directions given only, and none "
                         "was given; pass directions=[v] (one number per input), or axes=True")
    xs, out = evaluate_at(f, point, items, who, "the point")
    directionals = [_Directional(mode, out, xs) for mode in chosen]

    def value_at(moved: list[float]) -> float:
        found = _evaluate(f, moved, items, who)
        return math.nan if found is None else found.data

    rows = []
    for i in range(n if axes else 0):
        axis = unit(n, i)

        def along(x: float, i: int = i) -> float:
            return value_at([*point[:i], x, *point[i + 1:]])

        numeric = central(along, point[i], step(point[i], eps))[0]
        for mode, result in zip(chosen, _ladder(f, point, items, out, axis, directionals, who)):
            kink = "" if result.ok else kink_near(out, xs, axis, _smallest(result))
            rows.append(TaylorRow(f"d/d{names[i]}", mode, result.derivative, numeric,
                                  agrees(result.derivative, numeric, atol, rtol), result, kink,
                                  _unresolved(result, atol, rtol)))
    for k, v in enumerate(extra):
        scale = max([1.0, *(abs(x) for x, c in zip(point, v) if c)])

        def line(t: float, v: list[float] = v) -> float:
            return value_at([x + t * c for x, c in zip(point, v)])

        numeric = central(line, 0.0, step(scale, eps) / max(abs(c) for c in v))[0]
        for mode, result in zip(chosen, _ladder(f, point, items, out, v, directionals, who)):
            kink = "" if result.ok else kink_near(out, xs, v, _smallest(result))
            rows.append(TaylorRow(f"along v{k}", mode, result.derivative, numeric,
                                  agrees(result.derivative, numeric, atol, rtol), result, kink,
                                  _unresolved(result, atol, rtol)))
    report = TaylorReport(f"taylorcheck of {function_name(f)}", describe_point(names, point), rows,
                          eps, atol, rtol)
    failing = [row for row in rows if not row.ok and not row.kink and not row.unresolved
               and not _underflowed(row.taylor)]
    if failing:
        # the Taylor test knows no absolute scale, so neither does the search: atol = 0
        found = wrong_nodes(out, eps, 0.0, rtol, xs, [
            (row.taylor.direction, abs(row.taylor.estimate - row.taylor.derivative))
            for row in failing])
        if found.failures:
            report.where = str(found).splitlines()
        elif all(not math.isfinite(row.taylor.derivative) for row in failing):
            report.where = [f"{NONE_WRONG}, none giving inf or NaN where its forward is "
                            "smooth: the infinite slope is f's own"]
        else:
            report.where = _unexplained(found, max(1.0, *map(abs, point)))
    return report


def _unexplained(found: GraphReport, scale: float) -> list[str]:
    """Why a row may fail when check_graph finds no rule wrong: nodes it could not check
    (floats too coarse for f there), or else the two causes left, the gradient lost
    outside the graph or f changing faster than the ladder's smallest step."""
    if found.skipped:
        return found.partly_checked("so no difference can judge f at this point: test it "
                                    "at a smaller |x|")
    return [f"{NONE_WRONG}: either the gradient is lost outside the graph (does f use "
            ".data, or math functions on it?), or f changes faster than this test's smallest "
            "step "
            f"({_smallest_step_text(scale)}) resolves, as sin far from 0 does: "
            "then test it at a smaller |x|"]


def _smallest_step_text(scale: float) -> str:
    """The ladder's smallest step as the message says it: "1e-13 s" with its value here
    where s is not 1."""
    return "1e-13 s" if scale == 1.0 else f"{LADDER[-1] * scale:.2g} here, 1e-13 s"


def _smallest(result: TaylorResult) -> float:
    """The smallest step the order was read at (a kink nearer than it shows)."""
    return result.steps[result.used[-1]] if result.used else result.steps[-1]


def _directions(directions: Any, n: int, who: str) -> list[list[float]]:
    if isinstance(directions, (str, bytes)) or not isinstance(directions, (list, tuple,
                                                                           np.ndarray)):
        raise TypeError(f"{who}: directions must be a list of vectors (each one number per "
                        f"input), got {type(directions).__name__}")
    return [_direction(v, n, f"{who}: direction {k}") for k, v in enumerate(directions)]
