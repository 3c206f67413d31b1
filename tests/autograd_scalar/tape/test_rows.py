"""The rows as straight-line code reads them: expression templates and rules as graphs.

Each row's scalar template gives what the row's float forward gives (or raises,
which sends a run to NumPy), each vector template what its vector forward gives,
and each rule read as an expression graph (``rules.derive``) computes, step
by step, what the rule itself computes.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest

from autograd_scalar import ops
from autograd_scalar.tape.rules import derive, scalar_rule
from autograd_scalar.value import WRITTEN_OUT
from tests.autograd_scalar.sample_functions import Cube

SCALAR_NAMES = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
"""What scalar templates may call besides the builtins (``source.SCALAR_NAMES``)."""
VECTOR_NAMES = {"np": np, "inf": math.inf, "nan": math.nan}

ROWS = [row for row in ops.TABLE if row.template != ("", "")] + [
    ops.power(2.0), ops.power(-1.0), ops.power(0.5), ops.power(3.0), ops.leaky_relu(0.1)]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 30.0, -30.0, 700.0, -745.5, 1e-300, math.inf,
           -math.inf, math.nan]


def _arity(row: ops.Op) -> int:
    return row.arity if row.arity is not None else (5 if row.bias else 4)


def _format(template, names):
    return template(*names) if callable(template) else template.format(*names)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_scalar_templates_give_the_rows_float_forward(row) -> None:
    """Wherever the row's float forward gives a number, the template gives the same one
    (or raises, which sends the run to NumPy); NaN where it gives NaN. Where the row's
    check refuses the point (as the eager graph does), the template gives NaN or raises:
    the compiled run never has a number where eager has none."""
    arity = _arity(row)
    names = [f"x{i}" for i in range(arity)]
    function = eval(f"lambda {', '.join(names)}: {_format(row.template[0], names)}",
                    dict(SCALAR_NAMES))
    rng = np.random.default_rng(0)
    points = [[float(v) for v in rng.choice(SPECIAL, arity)] for _ in range(400)]
    points += [[float(v) for v in rng.normal(scale=3.0, size=arity)] for _ in range(400)]
    for xs in points:
        if row.check is not None and row.check(*xs) is not None:
            with contextlib.suppress(ArithmeticError, ValueError):
                assert math.isnan(function(*xs)), (row, xs)
            continue
        try:
            expected = row.scalar(*xs)
        except (ArithmeticError, ValueError):
            continue
        if isinstance(expected, complex):
            continue
        try:
            found = function(*xs)
        except (ArithmeticError, ValueError):
            continue
        assert found == expected or (math.isnan(found) and math.isnan(expected)), (row, xs)


@pytest.mark.parametrize("row", [row for row in ROWS if row.template[1]], ids=lambda r: r.name)
def test_vector_templates_give_the_rows_vector_forward(row) -> None:
    arity = _arity(row)
    names = [f"x{i}" for i in range(arity)]
    function = eval(f"lambda {', '.join(names)}: {_format(row.template[1], names)}",
                    dict(VECTOR_NAMES))
    rng = np.random.default_rng(1)
    xs = [np.concatenate([rng.choice(SPECIAL, 300), rng.normal(scale=3.0, size=300)])
          for _ in range(arity)]
    with np.errstate(all="ignore"):
        expected = np.asarray(row.vector(*xs), dtype=float)
        found = np.asarray(function(*xs), dtype=float)
    np.testing.assert_allclose(found, expected, rtol=1e-15, atol=0)


READS_NUMBERS = {"logsumexp"}
"""Rows whose rule, run on Values, branches on their numbers (logsumexp's largest input)."""


@pytest.mark.parametrize("row", [*ops.TABLE, ops.power(2.5), ops.power(-2.0),
                                 ops.leaky_relu(0.2), Cube.row],
                         ids=lambda row: row.name)
def test_rules_read_as_expression_graphs_equal_the_rules(row) -> None:
    """The graph :func:`derive` reads, evaluated step by step with the rows' float
    forwards, gives what the row's own rule gives."""
    arity = _arity(row)
    rule = derive(row, arity)
    if row.name in READS_NUMBERS:  # called as it is, not frozen for the placeholders
        assert rule.opaque
        return
    assert not rule.opaque and len(rule.partials) == arity
    rng = np.random.default_rng(2)
    for _ in range(50):
        xs = [float(v) for v in rng.uniform(0.2, 2.0, size=arity)]
        if row.index:
            xs[-1] = float(rng.integers(0, arity - 1))
        out = row.scalar(*xs)
        made: list[float] = []

        def value(ref, xs=xs, out=out, made=made):
            kind, number = ref
            if kind == "in":
                return xs[int(number)]
            if kind == "out":
                return out
            return number if kind == "const" else made[int(number)]

        for step_row, refs in rule.steps:
            made.append(step_row.scalar(*(value(r) for r in refs)))
        found = [0.0 if ref is None else value(ref) for ref in rule.partials]
        expected = [float(e) for e in row.derivatives(*xs, out)]
        np.testing.assert_allclose(found, expected, rtol=1e-14, atol=1e-300)


def _bits(x: float) -> object:
    """A float's bit pattern as a comparable value (NaN equal to NaN, -0.0 not 0.0)."""
    return "nan" if x != x else (x, math.copysign(1.0, x))


@pytest.mark.parametrize("row", [row for row in ROWS if row.arity in (1, 2)],
                         ids=lambda row: row.name)
def test_scalar_rules_compute_the_rules_numbers_to_the_bit(row) -> None:
    """The rule written as statements (``scalar_rule``, what the interpreted core's
    operators inline) gives the rule's own numbers on floats, to the bit, and raises
    wherever the rule raises (the operators then take the general path)."""
    operands = ("a", "b")[:row.arity]
    code = scalar_rule(row, operands, "out")
    if code is None:  # called as it is: never so for an operator Value writes out
        assert row not in {written for _, written, _ in WRITTEN_OUT}, row
        return
    statements, expressions = code
    source = "\n".join([f"def rule({', '.join(operands)}, out):",
                        *(f"    {line}" for line in statements),
                        f"    return ({', '.join(expressions)},)"])
    names = dict(SCALAR_NAMES)
    exec(source, names)
    rng = np.random.default_rng(3)
    points = [[float(v) for v in rng.choice(SPECIAL, row.arity)] for _ in range(400)]
    points += [[float(v) for v in rng.normal(scale=3.0, size=row.arity)] for _ in range(400)]
    for xs in points:
        try:
            out = row.scalar(*xs)
        except (ArithmeticError, ValueError):
            continue
        try:
            expected = [_bits(float(d)) for d in row.derivatives(*xs, out)]
        except (ArithmeticError, ValueError):
            with pytest.raises((ArithmeticError, ValueError)):
                names["rule"](*xs, out)
            continue
        try:
            found = [_bits(d) for d in names["rule"](*xs, out)]
        except (ArithmeticError, ValueError):
            continue
        assert found == expected, (row, xs)


def test_a_replaced_forward_drops_its_template() -> None:
    """The template wrote the old forward: a row made with a new one must not keep it."""
    doubled = ops.EXP.replace(name="doubled", scalar=lambda x: 2.0 * x)
    assert doubled.template == ("", "np.exp({0})")
    both = ops.EXP.replace(scalar=lambda x: 2.0 * x, vector=lambda x: 2.0 * x)
    assert both.template == ("", "")
    assert ops.EXP.replace(name="same").template == ops.EXP.template
    assert ops.EXP.replace(scalar=abs, template=("abs({0})", "")).template == ("abs({0})", "")
