"""Function subclasses the tests share: a correct cube, rules wrong by much or little, a
log with no domain, and a rule written with NumPy."""

from __future__ import annotations

import math

import numpy as np

from autograd_scalar import Function, ops


class Cube(Function):
    """x**3, with its rule d/dx = 3 x**2 written with arithmetic (differentiable again)."""

    formula = "d/dx = 3 x**2"

    @staticmethod
    def forward(x):
        return x * x * x

    @staticmethod
    def derivatives(x, out):
        return (3 * x * x,)


class BadCube(Function):
    """x**3 with the power rule misapplied: 3x instead of 3x**2."""

    @staticmethod
    def forward(x):
        return x ** 3

    @staticmethod
    def derivatives(x, out):
        return (3 * x,)


class Slightly(Function):
    """2x whose rule is off by half a percent: a mismatch only tolerances decide."""

    @staticmethod
    def forward(x):
        return 2 * x

    @staticmethod
    def derivatives(x, out):
        return (2.0 * (1 + 5e-3),)


class NumpyCos(Function):
    """cos with a rule written with NumPy: it runs on floats and arrays, not on Values,
    and it is not readable as rows."""

    @staticmethod
    def forward(x):
        return math.cos(x)

    @staticmethod
    def derivatives(x, out):
        return (-np.sin(x),)


class DoubledSin(Function):
    """sin with its rule doubled, written with a table row (so it differentiates again)."""

    @staticmethod
    def forward(x):
        return math.sin(x)

    @staticmethod
    def derivatives(x, out):
        return (2.0 * ops.COS(x),)


class RightSin(Function):
    """sin with its right rule, as a user writes it (the built-in row's twin)."""

    @staticmethod
    def forward(x):
        return math.sin(x)

    @staticmethod
    def derivatives(x, out):
        return (ops.COS(x),)


class TinySin(Function):
    """1e-12 sin(x): a derivative far below gradcheck's atol."""

    @staticmethod
    def forward(x):
        return 1e-12 * math.sin(x)

    @staticmethod
    def derivatives(x, out):
        return (1e-12 * ops.COS(x),)


class TinyWrong(TinySin):
    """The same forward with a rule twice too large: wrong, yet below atol."""

    @staticmethod
    def derivatives(x, out):
        return (2e-12 * ops.COS(x),)


class MathLog(Function):
    """log by math.log, no domain declared: it raises outside it, on floats and per element."""

    @staticmethod
    def forward(x):
        return math.log(x)

    @staticmethod
    def derivatives(x, out):
        return (1 / x,)


class Versine(Function):
    """(1 - cos x) / x^2 written as one would, its rule right: at small x the forward
    cancels, and its values are off by about 90 ulps."""

    @staticmethod
    def forward(x):
        return (1 - math.cos(x)) / (x * x)

    @staticmethod
    def derivatives(x, out):
        return ((x * ops.SIN(x) - 2 * (1 - ops.COS(x))) / x ** 3,)
