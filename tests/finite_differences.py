"""Central finite differences: the independent reference for every derivative test.

f'(x) ~ (f(x + h) - f(x - h)) / 2h, with error O(h^2 f''') plus rounding
O(eps_machine |f| / h); h = 1e-6 * max(1, |x|) balances the two for smooth f.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def step(x: float) -> float:
    return 1e-6 * max(1.0, abs(x))


def partial(f: Callable[..., float], xs: Sequence[float], i: int,
            h: float | None = None) -> float:
    """d f / d xs[i] at xs by a central difference (of step ``h``, else :func:`step`)."""
    h = step(xs[i]) if h is None else h
    up = list(xs)
    down = list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def settled_partial(f: Callable[..., float], xs: Sequence[float], i: int) -> float | None:
    """:func:`partial`, or None where it is no reference: where halving the step moves it
    by more than :func:`close` allows, the O(h^2 f''') error dominates (f oscillates or
    grows faster than the step resolves, cos(e^(e^4)) say) and no step is trustworthy."""
    estimate = partial(f, xs, i)
    return estimate if close(estimate, partial(f, xs, i, step(xs[i]) / 2)) else None


def gradient(f: Callable[..., float], xs: Sequence[float]) -> list[float]:
    return [partial(f, xs, i) for i in range(len(xs))]


def close(analytic: float, numeric: float, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    return abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric))
