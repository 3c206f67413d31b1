"""Where a row of the op table is not differentiable: its kinks.

At a kink (``relu``, ``abs``, ``leaky_relu``, ``step`` and ``sign`` at 0) the left
and right derivatives differ, so a central difference that straddles it measures
their average while the stored derivative is one of them. The checkers use this
registry to report such a point as a kink instead of a wrong derivative.
"""

from __future__ import annotations

from . import ops
from .ops import Op

_KINKS: dict[Op, tuple[float, ...]] = {
    ops.RELU: (0.0,),
    ops.ABS: (0.0,),
    ops.STEP: (0.0,),
    ops.SIGN: (0.0,),
}


def register(row: Op, points: tuple[float, ...]) -> None:
    """Declare that ``row`` has a kink in each of its inputs at every one of ``points``."""
    if points:
        _KINKS[row] = tuple(float(p) for p in points)


def kinks_of(row: Op | None) -> tuple[float, ...]:
    """The points (in any input) at which ``row`` has a kink; () for a smooth row."""
    if row is None:
        return ()
    found = _KINKS.get(row)
    if found is not None:
        return found
    if row.name.startswith("leaky_relu(") and ops.leaky_relu(*row.params) is row:
        return (0.0,)
    return ()


def distance_to_kink(row: Op | None, x: float) -> float:
    """How far the input ``x`` of ``row`` is from its nearest kink (inf if none)."""
    return min((abs(x - k) for k in kinks_of(row)), default=float("inf"))
