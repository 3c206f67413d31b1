"""How deep a graph a test of "no recursion" builds, with either core.

A pass that recursed once per node would stop at Python's recursion limit when the
core is interpreted, so a chain fifty times that deep shows it does not; compiled
code has no such check and would overflow the C stack instead, which takes the full
depth the test asks for. The interpreted core builds nodes several times slower,
and the full depth only costs time there.
"""

from __future__ import annotations

import sys

import autograd_scalar as ag


def no_recursion_depth(compiled: int) -> int:
    """``compiled`` nodes with the compiled core; with the interpreted core, fifty times
    the recursion limit if that is fewer."""
    if ag.compiled():
        return compiled
    return min(compiled, 50 * sys.getrecursionlimit())
