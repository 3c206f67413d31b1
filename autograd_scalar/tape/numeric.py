"""A rule read as it runs on numbers, where it cannot be read on Values.

:func:`autograd_scalar.tape.rules.derive` reads a row's derivative rule by running
it on Values. A rule that branches on the kind of its operands does something else
on Values than on numbers: ``logsumexp``'s picks the largest input on Values (to
keep its higher derivatives accurate) and reads its numbers there, so it cannot be
read on Values and the code calls it; on floats and arrays it is exp(x_i - out),
the same expression for every example. :func:`numeric_rule` reads that branch: it
runs the rule on operands that look like NumPy arrays (0-d arrays of symbols), so
the rule takes its road for numbers, and records what it does with them:

- arithmetic (``+ - * / **`` and negation) as the table's rows for it, which the
  code writes as Python's operators, as a rule on floats computes them;
- a call of a row of the op table (``EXP(x - out)``) as that row (a row applied to
  a symbol asks it how, through ``__apply_row__``, as it asks a Value).

Anything else raises and leaves the rule unread (the code calls it as before): a
comparison or a conversion to float (a branch on a number), a NumPy function
called directly (``np.sin(x)`` on a float is NumPy's sine, not the row's), a result
that is not one partial per operand. So the partials read are the rule's own on
floats, operation for operation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from .. import ops
from ..ops import Op, is_real
from .rules import RULE_CACHE_SIZE, Ref, Rule

ROW_OF = {"add": ops.ADD, "sub": ops.SUB, "mul": ops.MUL, "truediv": ops.DIV, "pow": ops.POW}
"""Python's binary operators, as the rows the code writes them with."""


class Unreadable(Exception):
    """The rule did something on its operands that cannot be written as rows."""


class Symbol:
    """A number in a rule: a reference, and the steps recorded so far (shared)."""

    __slots__ = ("ref", "steps")

    def __init__(self, ref: Ref, steps: list[tuple[Op, tuple[Ref, ...]]]) -> None:
        self.ref = ref
        self.steps = steps

    def _ref_of(self, other: Any) -> Ref:
        if isinstance(other, Symbol):
            return other.ref
        if is_real(other):
            return ("const", float(other))
        raise Unreadable(f"an operand of type {type(other).__name__}")

    def _apply(self, row: Op, refs: tuple[Ref, ...]) -> Symbol:
        self.steps.append((row, refs))
        return Symbol(("step", float(len(self.steps) - 1)), self.steps)

    @staticmethod
    def __apply_row__(row: Op, args: tuple[Any, ...]) -> Symbol:
        symbol = next(a for a in map(_unwrap, args) if isinstance(a, Symbol))
        return symbol._apply(row, tuple(symbol._ref_of(_unwrap(a)) for a in args))

    def _binary(self, name: str, other: Any, reflected: bool) -> Symbol:
        refs = (self._ref_of(other), self.ref) if reflected else (self.ref, self._ref_of(other))
        return self._apply(ROW_OF[name], refs)

    def __neg__(self) -> Symbol:
        return self._apply(ops.NEG, (self.ref,))

    def __pos__(self) -> Symbol:
        return self

    def __bool__(self) -> bool:
        raise Unreadable("a branch on a number")

    def __float__(self) -> float:
        raise Unreadable("a conversion to float")

    def _compare(self, other: Any) -> bool:
        raise Unreadable("a comparison")

    __lt__ = __le__ = __gt__ = __ge__ = _compare


def _operator(name: str, reflected: bool) -> Any:
    """Symbol's ``__name__`` (or ``__rname__``): the operator recorded as its row."""

    def operator(self: Symbol, other: Any) -> Symbol:
        return self._binary(name, other, reflected)

    operator.__name__ = f"__{'r' if reflected else ''}{name}__"
    return operator


for _name in ROW_OF:  # + - * / ** and their reflections, from the table of rows above
    setattr(Symbol, f"__{_name}__", _operator(_name, False))
    setattr(Symbol, f"__r{_name}__", _operator(_name, True))


def _unwrap(x: Any) -> Any:
    """A 0-d object array's element; anything else as it is."""
    if type(x) is np.ndarray and x.dtype == object and x.shape == ():
        return x[()]
    return x


def _wrapped(symbol: Symbol) -> np.ndarray:
    array = np.empty((), dtype=object)
    array[()] = symbol
    return array


@lru_cache(maxsize=RULE_CACHE_SIZE)
def numeric_rule(row: Op, arity: int) -> Rule | None:
    """The rule of ``row`` for ``arity`` operands as it runs on numbers, or None where it
    cannot be read so (see the module docstring)."""
    steps: list[tuple[Op, tuple[Ref, ...]]] = []
    xs = [_wrapped(Symbol(("in", float(i)), steps)) for i in range(arity)]
    out = _wrapped(Symbol(("out", 0.0), steps))
    try:
        with np.errstate(all="ignore"):
            result = row.derivatives(*xs, out)
        if not isinstance(result, (tuple, list)) or len(result) != arity:
            return None
        partials: list[Ref | None] = []
        for partial in map(_unwrap, result):
            if isinstance(partial, Symbol):
                partials.append(partial.ref)
            elif is_real(partial):
                partials.append(None if float(partial) == 0.0 else ("const", float(partial)))
            else:
                return None
    except Exception:  # Unreadable, or whatever the rule raised on symbols
        return None
    return Rule(arity, tuple(steps), tuple(partials))
