"""The rows as straight-line code reads them: expression templates.

Each row's scalar template gives what the row's float forward gives (or raises,
which sends a run to NumPy), each vector template what its vector forward gives.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_scalar import ops

SCALAR_NAMES = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
"""What scalar templates may call besides the builtins (``tape_code.SCALAR_NAMES``)."""
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
    (or raises, which sends the run to NumPy); NaN where it gives NaN."""
    arity = _arity(row)
    names = [f"x{i}" for i in range(arity)]
    function = eval(f"lambda {', '.join(names)}: {_format(row.template[0], names)}",
                    dict(SCALAR_NAMES))
    rng = np.random.default_rng(0)
    points = [[float(v) for v in rng.choice(SPECIAL, arity)] for _ in range(400)]
    points += [[float(v) for v in rng.normal(scale=3.0, size=arity)] for _ in range(400)]
    for xs in points:
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
