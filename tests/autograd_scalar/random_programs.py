"""Random straight-line programs over Values, for hypothesis tests of whole graphs.

A program is a list of steps over n inputs; each step applies an op that is defined
and smooth on the whole real line to earlier results (inputs or steps), so reuse,
diamonds and n-ary nodes all occur, and no domain is ever left.
"""

from __future__ import annotations

from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value

# Ops defined and smooth on the whole real line, so random graphs never leave a domain.
UNARY = {
    "tanh": lambda v: v.tanh(), "sin": lambda v: v.sin(), "cos": lambda v: v.cos(),
    "sigmoid": lambda v: v.sigmoid(), "softplus": lambda v: v.softplus(),
    "square": lambda v: v ** 2, "neg": lambda v: -v,
    "log1p_sq": lambda v: (v * v + 1).log(), "sqrt1p_sq": lambda v: (v * v + 1).sqrt(),
    "exp_tanh": lambda v: v.tanh().exp(),
}
BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / (b * b + 1), "rsub": lambda a, b: 2.0 - a * b,
    "pow": lambda a, b: (a * a + 1) ** b.tanh(),
}
NARY = {"sum": ag.sum, "dot": lambda vs: ag.dot(vs, list(reversed(vs)))}


@st.composite
def programs(draw):
    """A random straight-line program over n inputs; later steps reuse earlier results."""
    n_inputs = draw(st.integers(1, 4))
    steps = []
    for k in range(draw(st.integers(1, 12))):
        available = n_inputs + k
        kind = draw(st.sampled_from(["unary", "binary", "nary"]))
        if kind == "unary":
            steps.append((kind, draw(st.sampled_from(sorted(UNARY))),
                          [draw(st.integers(0, available - 1))]))
        elif kind == "binary":
            steps.append((kind, draw(st.sampled_from(sorted(BINARY))),
                          [draw(st.integers(0, available - 1)) for _ in range(2)]))
        else:
            size = draw(st.integers(1, 4))
            steps.append((kind, draw(st.sampled_from(sorted(NARY))),
                          [draw(st.integers(0, available - 1)) for _ in range(size)]))
    point = draw(st.lists(st.floats(-2, 2), min_size=n_inputs, max_size=n_inputs))
    return steps, point


def run(steps, inputs):
    """Evaluate a program on Values; the last step's result is the output."""
    table = {"unary": UNARY, "binary": BINARY}
    results = list(inputs)
    for kind, name, args in steps:
        operands = [results[i] for i in args]
        if kind == "nary":
            results.append(NARY[name](operands))
        else:
            results.append(table[kind][name](*operands))
    return results[-1]


def with_shared_leaves(program, n_shared):
    """A drawn program as a function of its last operands, its first ``n_shared`` (at
    most all but one) made shared leaves: (fn, params, the point of fn's inputs)."""
    steps, point = program
    n_shared = min(n_shared, len(point) - 1)
    params = [Value(x, label=f"p{i}") for i, x in enumerate(point[:n_shared])]

    def fn(xs):
        return run(steps, [*params, *xs])

    return fn, params, point[n_shared:]


def as_float_function(steps):
    return lambda *xs: run(steps, [Value(x) for x in xs]).data
