"""Central differences: the one numeric derivative that every checker uses.

For f at x, with a step h scaled to the point,

    f'(x)  ~  (f(x + h) - f(x - h)) / ((x + h) - (x - h)),     h = eps * max(1, |x|)

The error is O(h**2 f''') from the Taylor series plus the rounding of the two
forward values, about ``(ROUNDING * (|f(x + h)| + |f(x - h)|) + 2 TINY) / 2h`` (the
``noise`` returned with each slope; TINY, the spacing of the subnormal floats, is the
least rounding a value can have, and all there is to a value that underflowed). The
step is relative so that x +- h stay distinct numbers however large x is (at x = 1e12
an absolute 1e-6 vanishes in rounding), and the denominator is the step actually
taken, (x + h) - (x - h).

A disagreement is confirmed at finer steps before anyone calls it wrong
(:func:`finer_steps`): a wrong derivative disagrees at every step, while a
difference that straddles a pole, a sharp bend or many periods of ``sin``
recovers at a smaller one; and the finest differences must have settled
(:func:`unsettled`), or no verdict is possible. Near the edge of a domain bounded
at 0 (``log`` at 1e-7) :func:`derivative` shrinks the step until both sides are
inside.

``f`` may map floats to floats or NumPy arrays to arrays (elementwise); the same
formula serves ``gradcheck``, ``gradgradcheck`` (f is then the gradient, an array)
and ``check_graph`` (f is a row's forward with one operand moved).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

ROUNDING = 4 * 2.0 ** -52
"""Relative rounding error allowed in each forward value of a difference."""
TINY = 2.0 ** -1074
"""The spacing of float64 numbers near 0: the absolute rounding a forward value can have
beside its relative one (a product of two numbers near 1e-200 is 0 or a subnormal)."""


def step(x: Any, eps: float) -> Any:
    """The step at x: eps * max(1, |x|) (floats or arrays)."""
    if isinstance(x, np.ndarray):
        return eps * np.maximum(1.0, np.abs(x))
    return eps * max(1.0, abs(x))


def rounding(up: Any, down: Any) -> Any:
    """The rounding two forward values may carry, ROUNDING of their sizes and TINY each
    (floats or arrays): the noise of their difference, before it is divided by a step."""
    return ROUNDING * (abs(up) + abs(down)) + 2 * TINY


def central(f: Callable[[Any], Any], x: Any, h: Any) -> tuple[Any, Any]:
    """(slope, noise) of f at x with step h: (f(x+h) - f(x-h)) / ((x+h) - (x-h)).

    Whatever f raises propagates. Where the step vanishes in rounding, or f is not
    finite, the slope is NaN (never a ZeroDivisionError).
    """
    up, down = f(x + h), f(x - h)
    span = (x + h) - (x - h)
    if isinstance(up, float) and isinstance(down, float) and not isinstance(span, np.ndarray):
        if not span > 0:
            return math.nan, 0.0
        return (up - down) / span, rounding(up, down) / span
    up, down = np.asarray(up, dtype=np.float64), np.asarray(down, dtype=np.float64)
    span = np.asarray(span, dtype=np.float64)
    with np.errstate(all="ignore"):
        slope = np.where(span > 0, (up - down) / span, math.nan)
        noise = np.where(span > 0, rounding(up, down) / span, 0.0)
    if slope.ndim == 0:
        return float(slope), float(noise)
    return slope, noise


def derivative(f: Callable[[float], float], x: float, first: float) -> tuple[float, float]:
    """(slope, noise) of a float function at x with step ``first``, inside f's domain.

    When f fails on a side (ArithmeticError, ValueError), or the step vanishes in
    rounding, the step becomes |x| / 1e3, then |x| / 1e5: both sides stay inside a
    domain bounded at 0, with a truncation error of order (h / x)**2. (NaN, 0) if no
    step fits.
    """
    for h in (first, abs(x) * 1e-3, abs(x) * 1e-5):
        if not 0 < h <= first:
            continue
        if not (x + h) - (x - h) > 0:
            continue
        try:
            return central(f, x, h)
        except (ArithmeticError, ValueError):
            continue
    return math.nan, 0.0


def hundredth(x: float, h: float) -> float:
    """The step 100 times smaller than ``h`` at x, at most |x| / 1e3 (a step that stays on
    x's side of 0 where x is small), and h / 100 at x = 0."""
    return min(h / 100, abs(x) * 1e-3) or h / 100


def finer_steps(x: float, eps: float) -> list[float]:
    """Steps that confirm a disagreement: 100 times smaller (at most |x| / 1e3), then
    eps itself (at least 64 units in the last place of x, so that x +- h differ).

    A wrong rule disagrees at every step; a difference that straddles a pole or a
    sharp bend (1 / y with |y| < h) recovers at the first, and one that spans
    periods of ``sin`` at x = 1e8 (where h = eps |x|) recovers at the second.
    """
    steps = [hundredth(x, step(x, eps))]
    absolute = max(eps, 64 * math.ulp(x))
    if absolute < steps[0]:
        steps.append(absolute)
    return steps


FAR = 10.0
"""How many times the two finest slopes' spread a rule must lie from them to be judged
wrong though they have not settled (see :func:`unsettled`)."""
NEAR = 0.05
"""The largest relative spread of those slopes for which that judgement is made."""
COARSE = 1e-2
"""How much of its size f may move between neighbouring floats for them to resolve it
surely (see :func:`_aliased`)."""
ALIASED = 4.0
"""How many times slope * u a move of f between neighbouring floats may stray from it,
beyond rounding, for a difference to describe f (see :func:`_aliased`)."""
ALIAS_STEPS = 1024
"""The widest step, in floats, that :func:`_aliased` asks about."""
SQUARE_LAW = (2.5, 6.5)
"""The range of s(2h) - s(4h) over s(h) - s(2h) taken as the step's error shrinking as
h^2 (4 exactly, for s(h) = f' + c h^2)."""


def unsettled(f: Callable[[float], float], x: float, eps: float, atol: float,
              rtol: float, analytic: float | None = None) -> str:
    """Why differences of f at x cannot judge a derivative (``analytic``, if given), or ""
    when they can.

    They can when they have settled: at the finest step :func:`finer_steps` takes, h,
    and at 2h the slopes agree with each other (as :func:`agrees` asks of a
    derivative); where rounding noise hides the slope at a step beyond the tolerance
    (:func:`resolving`), the next coarser one decides, and last the check's own step,
    with its noise allowed in the comparison. A disagreement with a rule counts only
    then, or where the step's error is seen to shrink as h^2 and the rule lies far from
    the slopes: s(h) = f' + c h^2 + O(h^4) makes s(h) - s(2h) and s(2h) - s(4h) stand as
    1 to 4 (:data:`SQUARE_LAW`, with the rounding noise well below them), and then s(h)
    is within about d / 3 of f', d = |s(h) - s(2h)|; with the slopes within NEAR of each
    other, a rule more than FAR times d (noise included) from s(h), beyond the
    tolerance, is thirty times further from them than f' is. A kink within the step
    breaks the law (s(h) - s(2h) grows as h shrinks), and so do steps spanning periods
    of ``sin``.

    Otherwise nothing can be said, and the reason tells which limit the step met: the
    floats near x (``sin`` at 1e13, where they are 0.002 apart and the finest step is
    0.125, truncates by h**2 / 6 = 0.3%), f bending sharply within the finest step
    this check takes (``acosh`` 1e-7 from its edge at 1, at a step of 1e-8, where a
    smaller ``eps`` reaches further), or f's values rounding worse than the noise
    allowed for (a forward that cancels: the slopes part more as the step shrinks,
    as rounding over h does, where a bend's error shrinks as h^2; a larger ``eps``
    settles them).
    """
    steps = finer_steps(x, eps)
    own = step(x, eps)
    for h in [*reversed(steps), own]:
        (fine, fine_noise), (coarse, coarse_noise) = derivative(f, x, h), derivative(f, x, 2 * h)
        if h == own:  # the last resort: its noise counts in the comparison below
            if not (math.isfinite(fine) and math.isfinite(coarse)):
                return (f"its forward's differences do not settle at {point_text(x)}: no two "
                        "steps, h and 2h, give finite slopes there that the tolerance can "
                        "read (the edge of its domain, or where it is not finite, is within "
                        "them); a smaller eps may reach")
        elif not (resolving(fine, fine_noise, atol, rtol)
                  and resolving(coarse, coarse_noise, atol, rtol)):
            continue  # a coarser step may still tell
        settled = agrees(fine, coarse, atol, rtol, fine_noise + coarse_noise) or (
            analytic is not None and _far_from_square_law(
                f, x, h, (fine, fine_noise), (coarse, coarse_noise), analytic, atol, rtol))
        if settled and not _aliased(f, x, h, fine, rtol):
            return ""
        at = point_text(x)
        if settled or (h == steps[-1] and h > eps):  # no step finer than the floats there
            why = f"floats there are {math.ulp(x):.2g} apart, too coarse for how fast it changes"
        elif _rounding_over_h(fine, coarse, derivative(f, x, 4 * h)[0]):
            why = (f"f's values round worse than a few ulps near {at}, as where its forward "
                   "cancels (1 - cos(x) at small x); a larger eps may settle them")
        else:
            why = (f"f bends too sharply near {at} for a step of {h:.3g}; a "
                   "smaller eps may settle them")
        return (f"its forward's differences do not settle at {at}: slopes {fine:.8g} at "
                f"step {h:.3g} and {coarse:.8g} at {2 * h:.3g} ({why})")
    return ""


def _aliased(f: Callable[[float], float], x: float, h: float, slope: float, rtol: float) -> bool:
    """Whether the floats around x, u = ulp(x) apart, alias f at the step h that gave
    ``slope``: differences over h, a few floats wide, then describe the floats' sampling
    of f, not f (``sin`` at 1e17, floats 16 apart: steps of 64 and 128 floats, near
    multiples of its period, give two small slopes that agree with each other and not
    with cos x; at 1.7e30 the floats step 0.126 rad on from a multiple of 2 pi).

    f's moves from one float to the next, d_k = f(x + k u) - f(x + (k - 1) u) for
    k = -3, ..., 4, tell: they are aliased when they are more than COARSE of f's size
    (f resolved by the floats moves by a sliver of itself between them: ``sin`` at 1e13,
    0.2%), stray from slope * u by more than ALIASED times it beyond their rounding
    (a zero of x * x - 1e16 at 1e8, 3 a float, rounds by 2 where the product does), and
    do not run along one line on each side of one place, within ``rtol`` (a kink between
    two floats). A step of many floats (1e-8 at sqrt 2, 45 million of them) samples f
    finely, and is not asked. Scale-free, as it must be: at 1e100 the slope of a move of
    1 between floats is 1e-84, inside any atol. Floats that step f on from a multiple of
    its period by under COARSE of its size (``sin`` near 2.6e246) sample a slow function,
    and no test on floats can tell it from one."""
    u = math.ulp(x)
    if h > ALIAS_STEPS * u:
        return False
    try:
        values = [f(x + k * u) for k in range(-4, 5)]
    except (ArithmeticError, ValueError):
        return False
    if not all(map(math.isfinite, values)):
        return False
    pairs = list(itertools.pairwise(values))
    moves = [high - low for low, high in pairs]
    noises = [rounding(high, low) for low, high in pairs]
    if max(map(abs, moves)) <= COARSE * max(map(abs, values)):
        return False
    if all(abs(d - slope * u) <= ALIASED * abs(slope) * u + 2 * noise
           for d, noise in zip(moves, noises)):
        return False
    allowed = rtol * max(map(abs, moves)) + 2 * max(noises)

    def straight(part: list[float]) -> bool:
        return not part or max(part) - min(part) <= allowed

    return not any(straight(moves[:k]) and straight(moves[k:]) for k in range(len(moves)))


def _rounding_over_h(fine: float, coarse: float, coarser: float) -> bool:
    """Whether slopes at h, 2h and 4h part more as the step shrinks, and erratically: the
    rounding of f's values over 2h (a bend's error shrinks as h^2). A kink within the
    steps parts them as 1/h too, but smoothly: s(h) - s(2h) is then twice s(2h) - s(4h),
    with the same sign, where rounding's noise has no such order."""
    near, far = fine - coarse, coarse - coarser
    if abs(far) >= abs(near):
        return False
    return not (near * far > 0 and 1.5 <= near / far <= 2.5)


def _far_from_square_law(f: Callable[[float], float], x: float, h: float,
                         at_h: tuple[float, float], at_2h: tuple[float, float],
                         analytic: float, atol: float, rtol: float) -> bool:
    """Whether the slopes at h, 2h (``at_h``, ``at_2h``: slope and noise, as
    :func:`derivative` gave them) and 4h shrink their error as h^2 and ``analytic`` lies
    far beyond it (see :func:`unsettled`)."""
    (fine, fine_noise), (coarse, coarse_noise) = at_h, at_2h
    coarser, coarser_noise = derivative(f, x, 4 * h)
    near, far = fine - coarse, coarse - coarser
    noise = fine_noise + coarse_noise + coarser_noise
    if not (math.isfinite(coarser) and near != 0.0 and noise <= abs(near) / 4):
        return False
    low, high = SQUARE_LAW
    spread = abs(near) + noise
    return (low <= far / near <= high and spread <= NEAR * abs(fine)
            and not agrees(analytic, fine, atol, rtol, FAR * spread))


def point_text(x: float) -> str:
    """x to 6 significant digits, or as many as it takes when 6 would show another number
    by more than rounding, 4 units in the last place (0.99999999995 is not 1: near the
    edge of a domain the digits are the point; 0.3 - 0.81 is -0.51)."""
    short = f"{x:.6g}"
    if not math.isfinite(x) or abs(float(short) - x) <= 4 * math.ulp(x):
        return short
    return repr(x)


def resolving(slope: float, noise: float, atol: float, rtol: float) -> bool:
    """Whether a difference can tell a derivative from ``slope``: it is finite and its
    rounding noise is within the tolerance (at a step of a few floats' spacing the
    noise of f = 2x at 1e13 is 0.14, so a rule off by 0.01 would pass within it)."""
    return math.isfinite(slope) and noise <= atol + rtol * abs(slope)


def agrees(analytic: float, numeric: float, atol: float, rtol: float,
           noise: float = 0.0) -> bool:
    """|analytic - numeric| <= atol + rtol * |numeric| + noise (False for a NaN numeric).
    An infinity agrees only with itself: against inf the tolerance is inf, and any
    number would pass."""
    if math.isinf(analytic) or math.isinf(numeric):
        return analytic == numeric
    return abs(analytic - numeric) <= atol + rtol * abs(numeric) + noise


def close(x: float, y: float, rtol: float, atol: float = 0.0) -> bool:
    """Whether two numbers agree: |x - y| <= atol + rtol * max(|x|, |y|), NaN with NaN,
    and an infinity only with itself (inf is not close to 5, nor to -inf)."""
    if x == y or (x != x and y != y):
        return True
    if math.isinf(x) or math.isinf(y):
        return False
    return abs(x - y) <= atol + rtol * max(abs(x), abs(y))


def confirmed(f: Callable[[float], float], x: float, eps: float, analytic: float,
              first: tuple[float, float], atol: float, rtol: float
              ) -> tuple[float, float, bool]:
    """Check ``analytic`` against the difference ``first`` = (slope, noise) at step(x, eps),
    retrying at :func:`finer_steps` when they disagree.

    Returns (numeric, noise, agrees): the numeric slope kept is the first finite one
    that agrees, else the first finite one found (NaN if none is finite). A finer step
    whose rounding noise exceeds the tolerance is passed over (see :func:`resolving`).
    """
    numeric, noise = first
    if math.isfinite(numeric) and agrees(analytic, numeric, atol, rtol, noise):
        return numeric, noise, True
    for h in finer_steps(x, eps):
        finer, finer_noise = derivative(f, x, h)
        if not resolving(finer, finer_noise, atol, rtol):
            continue
        ok = agrees(analytic, finer, atol, rtol, finer_noise)
        if not math.isfinite(numeric) or ok:
            numeric, noise = finer, finer_noise
        if ok:
            return numeric, noise, True
    return numeric, noise, False
