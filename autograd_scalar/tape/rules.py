"""A row's derivative rule read as a small expression graph, for straight-line code.

The op table writes every derivative rule with arithmetic and the table's own rows,
so that one rule runs on floats, NumPy arrays and Values (see :mod:`autograd_scalar.ops`).
Called once with placeholder Values, x_1 .. x_k and out, a rule therefore builds
the graph of its own partial derivatives: ``1.0 - out * out`` for tanh is the
nodes ``t = out * out`` and ``1.0 - t``. :func:`derive` reads that graph back as
:class:`Rule`: steps, each a row applied to earlier references, and one reference
per partial derivative. The tape's code generator (:mod:`autograd_scalar.tape.source`)
writes each step with the row's own forward expression, so the rule stays the
only definition of the derivative; constant partials (sum's 1.0, a step's 0.0)
are known as constants, so the code adds the upstream gradient without
multiplying it, and skips zeros.

A rule that cannot run on Values (one using ``math.cos`` or ``float(...)``), or
that reads a placeholder's number (a branch on ``x.data`` would be frozen into the
code as it went for the placeholder), is not read: the code calls it as it is
(``Rule.opaque``).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import FrameType

from .. import ops
from ..mode import tracing
from ..ops import Op, is_real
from ..value import Value
from .program import DataRead, Reads, TracedValue

Ref = tuple[str, float]
"""A reference inside a rule: ("in", i) the i-th operand, ("out", 0) the node's output,
("const", c) the number c, ("step", j) the j-th step's result."""

RULE_CACHE_SIZE = 4096
"""How many (row, operand count) rules are kept read (rows of n-ary ops, per count)."""


@dataclass(frozen=True)
class Rule:
    """A row's derivative rule for a node of ``arity`` operands, as an expression graph.

    ``steps[j] = (row, refs)`` applies ``row`` to the references ``refs``;
    ``partials[i]`` is d out / d x_i as a reference, or None where it is 0.
    ``opaque``: the rule could not be read (it is then called as a function).
    """

    arity: int
    steps: tuple[tuple[Op, tuple[Ref, ...]], ...]
    partials: tuple[Ref | None, ...]
    opaque: bool = False


@lru_cache(maxsize=RULE_CACHE_SIZE)
def derive(row: Op, arity: int) -> Rule:
    """The rule of ``row`` for ``arity`` operands, read from Values (see the module
    docstring); opaque if it cannot run on Values or returns something else than one
    partial (a number or a Value) per operand."""
    # A fresh context: gradients on, no anomaly checks and no trace, whatever the caller's.
    return contextvars.Context().run(_derive, row, arity)


_RULE_FILES = frozenset(os.path.abspath(file) for file in (ops.__file__, __file__))
"""Where the op table's rules read numbers: ``ops.py`` (the pure-Python core) or, with the
compiled core, which makes no frames of its own, the frame that called the rule (here)."""


class _RuleReads(Reads):
    """Reads that also records the op table's own reads: a built-in rule may branch on a
    number (``logsumexp`` picks its largest input), and that branch must not be frozen.
    The core's arithmetic on Values (``value.py``) reads numbers too, as any op does."""

    def saw(self, frame: FrameType) -> None:
        code = frame.f_code
        key = (code.co_filename, frame.f_lineno)
        if os.path.abspath(code.co_filename) not in _RULE_FILES:
            super().saw(frame)
        elif key not in self.places:
            self.places[key] = DataRead(key[0], key[1], code.co_name, "")


def _derive(row: Op, arity: int) -> Rule:
    opaque = Rule(arity, (), (), True)
    # Positive, distinct, away from 0 and 1: inside every built-in row's domain.
    xs = [TracedValue(0.3 + 0.05 * i) for i in range(arity)]
    out = TracedValue(0.45)
    reads = _RuleReads()
    try:
        with tracing(reads):
            result = row.derivatives(*xs, out)
    except Exception:
        return opaque
    if reads.found() or not isinstance(result, (tuple, list)) or len(result) != arity:
        return opaque
    refs: dict[int, Ref] = {id(x): ("in", i) for i, x in enumerate(xs)}
    refs[id(out)] = ("out", 0)
    steps: list[tuple[Op, tuple[Ref, ...]]] = []

    def read(value: object) -> Ref | None:
        """The reference of a partial (or of an operand of a step), adding steps."""
        if is_real(value):
            return ("const", float(value))
        if not isinstance(value, Value):
            return None
        stack: list[tuple[Value, bool]] = [(value, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in refs:
                continue
            if not node.children:  # a number the rule used: a constant leaf
                refs[id(node)] = ("const", node.data)
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in node.children
                             if id(child) not in refs)
                continue
            node_row = node.row
            assert node_row is not None
            steps.append((ops.in_rules(node_row),
                          tuple(refs[id(child)] for child in node.children)))
            refs[id(node)] = ("step", float(len(steps) - 1))
        return refs[id(value)]

    partials = []
    for partial in result:
        ref = read(partial)
        if ref is None:
            return opaque
        partials.append(None if ref == ("const", 0.0) else ref)
    return Rule(arity, tuple(steps), tuple(partials))


def python_literal(value: float) -> str:
    """A float as Python source (``inf`` and ``nan`` are names in the code's namespaces)."""
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


def partial_expressions(rule: Rule, operands: Sequence[str], out: str,
                        step: Callable[[Op, tuple[str, ...]], str],
                        wanted: Sequence[bool] | None = None) -> list[str | None]:
    """Each wanted partial of ``rule`` as Python source over the operands' names and
    ``out``'s; None where it is 0 or not wanted.

    A reference becomes a name (an operand, ``out``) or a literal (a constant); a
    step becomes the name ``step(row, arguments)`` gives it, with its arguments
    written first. ``step`` is called once per step the wanted partials use, in an
    order where a step follows the steps it reads; the caller writes the statement
    (and may share it with other rules: value numbering).
    """
    made: dict[int, str] = {}

    def expression(ref: Ref) -> str:
        kind, value = ref
        if kind == "const":
            return python_literal(value)
        if kind == "in":
            return operands[int(value)]
        if kind == "out":
            return out
        j = int(value)
        if j not in made:
            step_row, refs = rule.steps[j]
            made[j] = step(step_row, tuple(expression(r) for r in refs))
        return made[j]

    return [expression(ref) if ref is not None and (wanted is None or wanted[p]) else None
            for p, ref in enumerate(rule.partials)]


def scalar_rule(row: Op, operands: Sequence[str], out: str
                ) -> tuple[list[str], list[str]] | None:
    """``row``'s rule on floats as Python statements and one expression per partial
    (``"0.0"`` for a zero), over the operands' names and ``out``'s; None where the
    rule cannot be read (:attr:`Rule.opaque`) or a step's row has no scalar template.

    The statements assign temporaries named ``_r0``, ``_r1``, ...: one per step of the
    rule, each the step's row's scalar template; the expressions are names and
    literals. Where the rule gives a number, the code gives the same one, or raises
    (a template may raise where the row's forward gives inf or NaN): the caller then
    calls the rule instead. The interpreted core writes Value's operators with these
    in place of a call of the rule (``value.write_out``).
    """
    rule = derive(row, len(operands))
    if rule.opaque or not all(isinstance(step_row.template[0], str) and step_row.template[0]
                              for step_row, _ in rule.steps):
        return None
    lines: list[str] = []

    def step(step_row: Op, arguments: tuple[str, ...]) -> str:
        name = f"_r{len(lines)}"
        lines.append(f"{name} = {str(step_row.template[0]).format(*arguments)}")
        return name

    partials = partial_expressions(rule, operands, out, step)
    return lines, ["0.0" if partial is None else partial for partial in partials]
