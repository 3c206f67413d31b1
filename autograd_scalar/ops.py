"""The op table: every differentiable operation, defined once, as a row.

A row (:class:`Op`) holds an op's name, its forward on floats (``scalar``), its
forward on NumPy arrays (``vector``), an optional domain ``check``, and its
derivative rule: ``derivatives(*xs, out)`` returns the partial derivative of the
output with respect to each input, written in terms of the inputs and the output.

A row also owns everything else that is known about its op: the points where it
has no derivative (``kinks``, for the checkers), its operand layout (a
``bilinear`` row is sum_i ws[i] * xs[i], plus a last ``bias`` operand: the tape
runs a dense group of them as a matrix product, drawings read weights from it),
how drawings show it (``symbol``) and whether it is a method of Value and a
function by its name (``method``). No other module matches op names.

The rules use arithmetic and the table's own rows only (a row is callable on a
float, a NumPy array or a :class:`~autograd_scalar.Value` alike), so one rule
serves every consumer: the eager forward stores its float results on each node,
``backward()`` reads those floats, ``grad(..., create_graph=True)`` calls the rule
with Values so that the backward pass is itself a graph, the compiled tape calls
it with arrays, and ``check_graph`` compares it with finite differences of the
row's own forward.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache, reduce
from typing import TYPE_CHECKING, Any, TypeGuard, Union

import numpy as np

if TYPE_CHECKING:
    from . import purepython as cython
else:
    try:
        import cython
    except ImportError:  # interpreted without Cython installed: the standard dataclass
        from . import purepython as cython

Check = Callable[..., "Exception | None"]
Template = Union[str, Callable[..., str]]
"""A row's expression for straight-line code: a format string, or a function of the
operands' names (see :class:`Op`)."""


@cython.dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Op:
    """One row of the op table.

    ``arity`` is the number of inputs, or ``None`` for an n-ary row (``sum``, ``dot``).
    ``formula`` states the derivative rule in words for drawings and reports, e.g.
    ``"d/dx = 1 - out**2"`` (a test evaluates it against ``derivatives``); ``symbol`` is
    how a drawing shows the op (its name unless given). ``kinks`` are the points, in any
    input, where the forward has no derivative (relu at 0): a central difference
    straddling one measures the mean of the one-sided slopes, so the checkers report it
    as a kink. A ``bilinear`` row computes sum_i ws[i] * xs[i] over its operands ws + xs
    (+ b when ``bias``): linear in the ws, in the xs and in b. ``method`` makes a one-
    input row a method of Value and a function of the package, by its name. An ``index``
    row takes, as its last operand, an integer that selects among the others
    (``gather``): that operand is data, not a variable; its derivative is 0 and the
    checkers hold it fixed instead of differencing it. A ``separable`` row is a sum of
    one term per operand, F(x_1, ..., x_n) = sum_j F(x_j) (``sum``): its forward on one
    operand is that operand's term, so moving one operand changes F by that term alone.
    An n-ary row may give ``stacked``, its forward and rule on all operands at once: the
    triple ``(forward(S), derivatives(S, out), pad)`` for the operands stacked on a new
    first axis, S = (operands, ...), the forward reducing that axis and the rule returning
    every partial as one array (or number) that broadcasts to S's shape; the tape runs a
    group of such nodes with two calls. ``pad`` gives the row's neutral operands: the
    operands are ``len(pad)`` lists of equal length (dot's ws and xs), and appending
    ``pad[j]`` to list j changes neither the forward's value, to the bit, nor the
    partials of the other operands, so nodes with different operand counts can run as
    one stack (``autograd_scalar.tape.ragged``). A ``smooth`` row is analytic in every
    operand on the whole real line (no kink, pole or domain edge), so operands that
    differ by rounding give a value and partials that differ by as little: the tape lets
    such a row read a matrix product summed in the product's own order (see
    ``autograd_scalar.tape.matrix``).

    ``template`` = (scalar, vector) writes the forward as one Python expression each,
    for the tape's straight-line code (``autograd_scalar.tape.source``): a format
    string over the operands' names ``{0}``, ``{1}``, ... (plain variables, so a name
    may appear twice), or for an n-ary row a function of the names returning the
    expression. The scalar one may call the ``math`` module's functions by their
    names and Python's builtins, and gives the number ``scalar`` gives wherever that
    gives one (it may raise where IEEE arithmetic gives inf or NaN: the tape then
    runs the batch with NumPy); the vector one calls NumPy as ``np`` and equals
    ``vector``. A temporary is a walrus name starting with ``_``. "" (the default)
    means the code calls the row's own function instead.

    The fields below are the row's one declaration: a frozen dataclass, so a row is
    read-only once made. Compiled, it is a Cython extension type, and ``ops.pxd``
    repeats the fields as typed attributes (a test holds the two equal).
    """

    name: str
    scalar: Callable[..., float]
    vector: Callable[..., Any]
    derivatives: Callable[..., tuple[Any, ...]]
    arity: int | None = 1
    check: Check | None = None
    formula: str = ""
    symbol: str = ""
    kinks: tuple[float, ...] = ()
    bilinear: bool = False
    bias: bool = False
    method: bool = False
    index: bool = False
    separable: bool = False
    smooth: bool = False
    stacked: tuple[Callable[[Any], Any], Callable[[Any, Any], Any], tuple[float, ...]] | None \
        = None
    template: tuple[Template, Template] = ("", "")

    def __call__(self, *args: Any) -> Any:
        """Apply the row to floats, NumPy arrays or graph nodes (whichever it is given).

        A graph node takes part through its type's ``__apply_row__(row, args)``
        (Value has one), so the table knows nothing of the node class. NumPy
        scalars are numbers like floats: their domain is checked.
        """
        arity = self.arity
        if arity is not None and len(args) != arity:  # np.exp(x, y) would write y
            raise TypeError(f"{self.name} takes {arity} operand(s), got {len(args)}")
        if len(args) == 1:
            x = args[0]
            if type(x) is float:  # first: a rule on floats (relu's step) comes here
                return evaluate(self, args)
            if type(x) is np.ndarray:
                with np.errstate(all="ignore"):
                    return self.vector(x)
        for a in args:
            apply_row = getattr(type(a), "__apply_row__", None)
            if apply_row is not None:
                return apply_row(self, args)
        if any(type(a) is np.ndarray for a in args):
            with np.errstate(all="ignore"):
                return self.vector(*args)
        return evaluate(self, tuple(_real(self, a) for a in args))

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def replace(self, **changes: Any) -> Op:
        """A new row with the same fields as this one but for ``changes`` (by name).

        A new ``scalar`` or ``vector`` forward drops the matching ``template`` (which
        wrote the old one), unless a template is given too; a new forward, rule, domain
        check or kinks drop ``smooth`` (the variant may have a kink or an edge), unless
        it is given too.
        """
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise TypeError(f"Op.replace: no field {', '.join(sorted(unknown))}; "
                            f"the fields are {', '.join(FIELDS)}")
        if "template" not in changes:
            scalar, vector = self.template
            changes["template"] = ("" if "scalar" in changes else scalar,
                                   "" if "vector" in changes else vector)
        if "smooth" not in changes and not changes.keys().isdisjoint(_SMOOTHNESS):
            changes["smooth"] = False
        return dataclasses.replace(self, **changes)

    @property
    def shown(self) -> str:
        """How drawings show the op (its symbol, else its name)."""
        return self.symbol or self.name

    def split(self, operands: Sequence[Any]) -> tuple[Sequence[Any], Sequence[Any], Any]:
        """A bilinear row's operands as (ws, xs, b); b is None without a bias."""
        if not self.bilinear:
            raise TypeError(f"{self.name} is not a bilinear row; it has no ws and xs")
        n = (len(operands) - self.bias) // 2
        return operands[:n], operands[n:2 * n], operands[2 * n] if self.bias else None

    def distance_to_kink(self, x: float) -> float:
        """How far the input ``x`` is from the row's nearest kink (inf if it has none)."""
        return min((abs(x - k) for k in self.kinks), default=math.inf)


FIELDS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(Op))
"""The fields of a row, in the order :class:`Op` takes them."""

_SMOOTHNESS = frozenset(("scalar", "vector", "derivatives", "check", "kinks"))
"""The fields whose change may make a ``smooth`` row's variant another function."""


REAL_TYPES = (int, float, np.integer, np.floating)


def is_real(x: object) -> TypeGuard[int | float | np.integer | np.floating]:
    """Whether ``x`` is a real number: an int, a float or a NumPy scalar, not a bool."""
    return isinstance(x, REAL_TYPES) and not isinstance(x, bool)


def _real(row: Op, x: Any) -> float:
    """A number operand of a row as a float; anything else is a TypeError naming the row."""
    if is_real(x):
        return float(x)
    raise TypeError(f"{row.name}: expected real numbers, NumPy arrays or Values, "
                    f"got {type(x).__name__}: {x!r}"[:300])


def evaluate(row: Op, xs: tuple[float, ...]) -> float:
    """The row's forward on floats: domain check first, then IEEE semantics.

    Python's float arithmetic raises where IEEE 754 gives ``inf`` or ``nan``
    (``math.exp(1000)``, ``1 / 0.0``); inputs inside the row's domain get the
    IEEE answer instead, as NumPy and the compiled tape give it. Every forward on
    floats comes here: a row called on numbers, a new Value's node, the checkers.
    """
    check = row.check
    if check is not None:
        error = check(*xs)
        if error is not None:
            raise error
    scalar = row.scalar
    try:  # one or two operands passed as such: compiled, a vectorcall, not a tuple's
        if len(xs) == 1:
            return scalar(xs[0])
        if len(xs) == 2:
            return scalar(xs[0], xs[1])
        return scalar(*xs)
    except (ArithmeticError, ValueError):
        return float(ieee(row.vector, xs))


def local_derivatives(row: Op, xs: tuple[float, ...], out: float) -> tuple[float, ...]:
    """The row's derivative rule on floats, with IEEE semantics at singular points."""
    rule = row.derivatives
    try:  # as in evaluate
        if len(xs) == 1:
            return rule(xs[0], out)
        if len(xs) == 2:
            return rule(xs[0], xs[1], out)
        return rule(*xs, out)
    except (ArithmeticError, ValueError):
        return tuple([float(d) for d in ieee(row.derivatives, (*xs, out))])


def ieee(fn: Callable[..., Any], xs: Sequence[float]) -> Any:
    """Evaluate ``fn`` on NumPy float64 scalars, where 1/0 is inf, not an exception."""
    with np.errstate(all="ignore"):
        return fn(*(np.float64(x) for x in xs))


def requires(predicate: Callable[..., bool], name: str, expected: str,
             error: type[Exception] = ValueError) -> Check:
    """A domain check: ``None`` when ``predicate(*xs)`` holds, else an error to raise,
    whose ``outside_domain`` names the op (a trace says so of its example).

    NaN inputs pass (they propagate, and ``detect_anomaly`` reports them).
    """

    def check(*xs: float) -> Exception | None:
        if predicate(*xs) or any(x != x for x in xs):
            return None
        shown = ", ".join(repr(float(x)) for x in xs)
        found = error(f"{name}: expected {expected}, got {shown}")
        found.outside_domain = name  # type: ignore[attr-defined]
        return found

    return check


# ---------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------

ADD: Op = Op("+", operator.add, np.add, lambda x, y, out: (1.0, 1.0), arity=2,
         formula="d/dx = 1, d/dy = 1", smooth=True, template=("{0} + {1}", "{0} + {1}"))
SUB = Op("-", operator.sub, np.subtract, lambda x, y, out: (1.0, -1.0), arity=2,
         formula="d/dx = 1, d/dy = -1", smooth=True, template=("{0} - {1}", "{0} - {1}"))
MUL = Op("*", operator.mul, np.multiply, lambda x, y, out: (y, x), arity=2,
         formula="d/dx = y, d/dy = x", bilinear=True, smooth=True,
         template=("{0} * {1}", "{0} * {1}"))
DIV = Op("/", operator.truediv, np.divide, lambda x, y, out: (1.0 / y, -out / y), arity=2,
         check=requires(lambda x, y: y != 0, "/", "a non-zero divisor (x / y)",
                        ZeroDivisionError),
         formula="d/dx = 1/y, d/dy = -out/y", template=("{0} / {1}", "{0} / {1}"))
NEG = Op("neg", operator.neg, np.negative, lambda x, out: (-1.0,), formula="d/dx = -1",
         symbol="-", smooth=True, template=("-{0}", "-{0}"))


def _pow_base_positive(x: float, y: float) -> bool:
    return x > 0


def _pow_derivatives(x: Any, y: Any, out: Any) -> tuple[Any, Any]:
    """d/dx x**y = y * x**(y-1), exactly 0 at y = 0; d/dy x**y = out * log(x).

    x ** 0 is 1 whatever x is, so d/dx is 0 there even where x**(y-1) is not finite
    (x = nan; a subnormal x, where x**-1 overflows): PyTorch's convention. d/dy keeps
    IEEE's answer (NaN at x = nan, as in PyTorch).
    """
    return (_zero_times(y, x ** (y - 1.0)), out * LOG(x))


def _zero_times(a: Any, b: Any) -> Any:
    """a * b, but exactly 0 where a = 0 and b is inf or NaN (IEEE: 0 * inf = NaN).

    Where b is finite it is the plain product, so its derivatives (with Values) stay
    those of a * b. Elsewhere ``gather`` picks 0.0 by the index
    [a = 0] * [b not finite] = (1 - step(|a|)) * step(|b - b|) (b - b is 0 for a finite
    b, NaN otherwise, and step(NaN) = 1): one expression on floats, arrays and Values.
    """
    if type(a) is float and type(b) is float:
        return 0.0 if a == 0.0 and b - b != 0.0 else a * b
    index = (1.0 - STEP(ABS(a))) * STEP(ABS(b - b))
    return GATHER(a * b, 0.0, index)


def _pow_where_defined(x: Any, y: Any) -> Any:
    """x ** y on arrays, but NaN where x <= 0: outside the domain the row checks on floats
    (a NaN base passes the check, and IEEE's NaN ** 0 is 1).

    IEEE's pow has a value at (-1, 2), but d/dy = out * log(x) has none there, and the
    eager graph refuses the base; so the compiled tape computes NaN, as it does for
    log(-1), and the step that meets it names the example the eager graph refuses."""
    return np.where(x <= 0, np.nan, np.power(x, y))[()]  # [()]: a number for numbers


POW = Op("**", operator.pow, _pow_where_defined, _pow_derivatives, arity=2,
         check=requires(_pow_base_positive, "**",
                        "a base > 0 when the exponent is a Value (x ** y); "
                        "raise to a plain number for integer powers of any base"),
         formula="d/dx = y * x**(y-1) (0 at y = 0), d/dy = out * log(x)",
         template=("(nan if {0} <= 0 else pow({0}, {1}))",
                   "np.where({0} <= 0, nan, np.power({0}, {1}))"))


_IN_RULES = {id(POW): POW.replace(check=None, vector=np.power,
                                  template=("pow({0}, {1})", "np.power({0}, {1})"))}
"""The rows that a step of a derivative rule stands for where it is not the row itself
(by the id of the row the step was made with): a rule runs on floats, and its ``x ** y``
is Python's, with no domain ((-3.0) ** 2.0 is 9), where POW's forward refuses a base
<= 0."""


def in_rules(row: Op) -> Op:
    """The row a step of a derivative rule read from Values stands for (:data:`_IN_RULES`;
    the row itself for every other)."""
    return _IN_RULES.get(id(row), row)


def _power_check(p: float) -> Check | None:
    """The domain of x ** p: every x for a whole p >= 0; x != 0 for a whole p < 0; x > 0
    for other negative p; x >= 0 for other p (a NaN exponent gives NaN, as IEEE says)."""
    name = f"**{p:g}"
    whole = p.is_integer()
    if p != p or (whole and p >= 0):
        return None
    if p < 0 and whole:
        return requires(lambda x: x != 0, name, f"a non-zero base for the negative power {p:g}",
                        ZeroDivisionError)
    if p < 0:
        return requires(lambda x: x > 0, name, f"a base > 0 for the power {p:g}")
    return requires(lambda x: x >= 0, name, f"a base >= 0 for the non-integer power {p:g}")


ROW_CACHE_SIZE = 1024
"""How many ``power(p)`` and ``leaky_relu(slope)`` rows are kept for reuse (each)."""


EXACT_INTEGERS = 2.0 ** 53
"""Every float of at least this size is an even integer: p - 1 is odd, and not a float."""


def _nan_for_negative_base(derivative: Any, x: Any) -> Any:
    """The rule of x ** p for a p that is not whole, on arrays: NaN for a negative base, as
    its forward gives (IEEE's pow has (-inf) ** -1.5 = 0 and (-1) ** inf = 1, which the
    eager graph refuses); on numbers and Values as it is."""
    return np.where(x < 0, np.nan, derivative) if type(x) is np.ndarray else derivative


@lru_cache(maxsize=ROW_CACHE_SIZE)
def power(p: float) -> Op:
    """The row for ``x ** p`` with a constant exponent ``p``: d/dx = p * x**(p-1).

    ``x ** 0.5`` is ``sqrt(x)`` (same forward and rule, d/dx = 0.5 / out), and the rule
    of ``x ** 1.5`` is 1.5 * sqrt(x): the two agree on every x >= 0 with C's pow but at
    -0.0, where pow gives +0.0 and sqrt -0.0. NumPy computes x ** 0.5 as sqrt, and so
    does PyTorch, so eager, compiled and PyTorch all give sqrt's -0.0 (and d/dx = -inf).

    Rows of recent exponents are reused; the cache is bounded, so a program with a
    new exponent at every step does not hold a row for each.

    From |p| = 2**53 on, every float p is an even integer and p - 1, which is odd, rounds
    to an even float: x ** (p - 1.0) would lose the sign of a negative x. There the rule
    is p * x * x**(p-2), the same number, with an even exponent left (p - 2.0 is even
    however it rounds; for |x| far from 1 both are 0 or inf, and where they are not,
    |x| is within 1e-13 of 1, so a unit off in the exponent changes nothing visible).
    """
    if p == 0.5:
        return SQRT.replace(name="**0.5", symbol="^0.5", formula="d/dx = 0.5 / out",
                            check=_power_check(0.5), method=False)
    whole = p != p or p.is_integer()  # a NaN exponent gives NaN whatever the base
    if abs(p) >= EXACT_INTEGERS:
        def rule(x: Any, out: Any) -> tuple[Any, ...]:
            derivative = p * x * x ** (p - 2.0)
            return (derivative if whole else _nan_for_negative_base(derivative, x),)
        formula = f"d/dx = {p!r} * x * x**{p - 2.0!r} (p * x**(p-1), with p-1 not a float)"
    elif p == 1.5:
        def rule(x: Any, out: Any) -> tuple[Any, ...]:
            return (1.5 * _sqrt(x),)
        formula = "d/dx = 1.5 * sqrt(x)"
    elif whole:
        def rule(x: Any, out: Any) -> tuple[Any, ...]:
            # x ** 0 is constant: its rule must not build x ** -1, undefined at 0
            return (0.0,) if p == 0 else (p * x ** (p - 1.0),)
        formula = f"d/dx = {p:g} * x**{p - 1:g}"
    else:
        def rule(x: Any, out: Any) -> tuple[Any, ...]:
            return (_nan_for_negative_base(p * x ** (p - 1.0), x),)
        formula = f"d/dx = {p:g} * x**{p - 1:g}"

    if whole:
        vector, template = (lambda x: np.power(x, p)), (f"pow({{0}}, {p!r})",
                                                       f"np.power({{0}}, {p!r})")
    else:  # a negative base is outside the domain: NaN, where IEEE's pow has some finite
        # answers ((-inf) ** -0.5 is 0, (-1) ** inf is 1) that the eager graph refuses
        def vector(x: Any) -> Any:
            return np.where(x < 0, np.nan, np.power(x, p))[()]
        template = (f"(nan if {{0}} < 0 else pow({{0}}, {p!r}))",
                    f"np.where({{0}} < 0, nan, np.power({{0}}, {p!r}))")
    return Op(f"**{p:g}", lambda x: x ** p, vector, rule, check=_power_check(p),
              symbol=f"^{p:g}", formula=formula, template=template,
              smooth=whole and 0 <= p < EXACT_INTEGERS)  # a polynomial


# ---------------------------------------------------------------------------
# Elementary functions
# ---------------------------------------------------------------------------

def plain_function(row: Op) -> Callable[[Any], Any]:
    """``row`` (one operand, no domain check) as a plain function, for derivative rules.

    A float goes straight to the row's forward, an array to its vector forward, a
    Value to the row itself. Same results as calling the row, without the cost of
    calling an object (the eager forward runs a rule per node, so relu's step runs
    once per relu) or of setting NumPy's error state for every array: rules run on
    arrays inside the compiled tape, which ignores floating-point errors for the
    whole run (IEEE results).
    """
    vector = row.vector

    def function(x: Any) -> Any:
        if type(x) is float:
            return evaluate(row, (x,))
        if type(x) is np.ndarray:
            return vector(x)
        return row(x)

    function.__name__ = function.__qualname__ = row.name
    return function


def _step_array(x: Any) -> Any:
    return np.where(x <= 0, 0.0, 1.0)


def _sign_array(x: Any) -> Any:
    """sign(x) as the float forward gives it: 0.0 at NaN (np.sign gives NaN) and at -0.0."""
    return np.subtract(x > 0, x < 0, dtype=np.float64)


def _relu_array(x: Any) -> Any:
    """max(x, 0) with relu's float semantics: -0.0 and NaN pass through unchanged."""
    return np.where(x < 0, 0.0, x)


# The conventions at edge values are PyTorch's, on floats and arrays alike: relu keeps
# -0.0 and NaN (it zeroes x < 0 only); relu'(x) = step(x) = 0 for x <= 0, else 1, so
# that relu'(NaN) = 1 (the gradient passes, as torch's threshold_backward passes it);
# abs'(x) = sign(x), 0 at NaN as torch.sign gives.
STEP = Op("step", lambda x: 0.0 if x <= 0 else 1.0, _step_array,
          lambda x, out: (0.0,), formula="d/dx = 0 (the derivative of relu)", kinks=(0.0,),
          template=("(0.0 if {0} <= 0 else 1.0)", ""))
SIGN = Op("sign", lambda x: float((x > 0) - (x < 0)), _sign_array, lambda x, out: (0.0,),
          formula="d/dx = 0 (the derivative of abs)", kinks=(0.0,),
          template=("float(({0} > 0) - ({0} < 0))", ""))
_step, _sign = plain_function(STEP), plain_function(SIGN)
ABS = Op("abs", abs, np.abs, lambda x, out: (_sign(x),), formula="d/dx = sign(x)",
         kinks=(0.0,), method=True, template=("abs({0})", "np.abs({0})"))
RELU = Op("relu", lambda x: 0.0 if x < 0 else x, _relu_array,
          lambda x, out: (_step(x),), formula="d/dx = 0 if x <= 0 else 1", kinks=(0.0,),
          method=True,
          template=("(0.0 if {0} < 0 else {0})", ""))
EXP = Op("exp", math.exp, np.exp, lambda x, out: (out,), formula="d/dx = out",
         method=True, smooth=True, template=("exp({0})", "np.exp({0})"))
_exp: Callable[[Any], Any] = plain_function(EXP)
LOG: Op = Op("log", math.log, np.log, lambda x, out: (1.0 / x,),
         check=requires(lambda x: x > 0, "log", "x > 0"), formula="d/dx = 1/x",
         method=True, template=("log({0})", "np.log({0})"))
SQRT = Op("sqrt", math.sqrt, np.sqrt, lambda x, out: (0.5 / out,),
          check=requires(lambda x: x >= 0, "sqrt", "x >= 0"), formula="d/dx = 0.5/out",
          method=True, template=("sqrt({0})", "np.sqrt({0})"))
_sqrt: Callable[[Any], Any] = plain_function(SQRT)
SIN: Op = Op("sin", math.sin, np.sin, lambda x, out: (_cos(x),), formula="d/dx = cos(x)",
             method=True, smooth=True, template=("sin({0})", "np.sin({0})"))
COS: Op = Op("cos", math.cos, np.cos, lambda x, out: (-_sin(x),), formula="d/dx = -sin(x)",
             method=True, smooth=True, template=("cos({0})", "np.cos({0})"))
_sin: Callable[[Any], Any] = plain_function(SIN)
_cos: Callable[[Any], Any] = plain_function(COS)
TANH = Op("tanh", math.tanh, np.tanh, lambda x, out: (1.0 - out * out,),
          formula="d/dx = 1 - out**2", method=True, smooth=True,
          template=("tanh({0})", "np.tanh({0})"))

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
ERF = Op("erf", math.erf, np.vectorize(math.erf, otypes=[np.float64]),
         lambda x, out: (_TWO_OVER_SQRT_PI * _exp(-(x * x)),),
         formula="d/dx = 2/sqrt(pi) * exp(-x**2)", method=True, smooth=True,
         template=("erf({0})", ""))
ERFC = Op("erfc", math.erfc, np.vectorize(math.erfc, otypes=[np.float64]),
          lambda x, out: (-_TWO_OVER_SQRT_PI * _exp(-(x * x)),),
          formula="d/dx = -2/sqrt(pi) * exp(-x**2)", smooth=True,
          template=("erfc({0})", ""))
"""erfc(x) = 1 - erf(x), computed without that difference: for gelu's rule, where Phi(x) =
erfc(-x / sqrt 2) / 2 keeps its relative accuracy at large negative x (see ``_gelu``)."""
_erfc: Callable[[Any], Any] = plain_function(ERFC)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gelu(x: float) -> float:
    """x * Phi(x) = x/2 * erfc(-x / sqrt 2), with Phi the standard normal CDF.

    Written with erfc, not as x/2 * (1 + erf(x / sqrt 2)): for x < 0 that sum cancels
    (relative error 4e-11 at -5, 2% at -8, and -0.0 for -7.6e-23 at -10), while erfc
    keeps Phi's relative accuracy where it is tiny: 40 ulps off at -10 and 530 at -30,
    from the rounding of -x / sqrt 2 (a relative error of x^2 ulps in e^(-x^2/2)), where
    PyTorch's gives -0.0."""
    return 0.5 * x * math.erfc(-x * _INV_SQRT2)


GELU = Op("gelu", _gelu, np.vectorize(_gelu, otypes=[np.float64]),
          lambda x, out: (0.5 * _erfc(-x * _INV_SQRT2)
                          + x * _INV_SQRT_2PI * _exp(-0.5 * (x * x)),),
          formula="d/dx = Phi(x) + x * phi(x)", method=True, smooth=True,
          template=(f"0.5 * {{0}} * erfc(-{{0}} * {_INV_SQRT2!r})", ""))


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x), evaluated without overflow on either side."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_array(x: Any) -> Any:
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


SIGMOID = Op("sigmoid", _sigmoid, _sigmoid_array, lambda x, out: (out * (1.0 - out),),
             formula="d/dx = out * (1 - out)", method=True, smooth=True,
             template=("(1.0 / (1.0 + exp(-{0})) if {0} >= 0 else (_z := exp({0})) / (1.0 + _z))",
                       ""))
_sigmoid_function = plain_function(SIGMOID)


def _softplus(x: float) -> float:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact at |x| = 1000."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


SOFTPLUS = Op("softplus", _softplus,
              lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
              lambda x, out: (_sigmoid_function(x),), formula="d/dx = sigmoid(x)",
              method=True, smooth=True,
              # max(x, 0) + log1p(e^-|x|), each side of 0 written out (the same floats)
              template=("({0} + log1p(exp(-{0})) if {0} > 0 else log1p(exp({0})))", ""))


@lru_cache(maxsize=ROW_CACHE_SIZE)
def leaky_relu(slope: float) -> Op:
    """The row for leaky_relu with a constant ``slope``: x if x > 0 else slope * x."""
    return Op(f"leaky_relu({slope:g})", lambda x: slope * x if x <= 0 else x,
              lambda x: np.where(x <= 0, slope * x, x),
              lambda x, out: (slope + (1.0 - slope) * _step(x),),
              formula=f"d/dx = {slope:g} if x <= 0 else 1", kinks=(0.0,),
              template=(f"({slope!r} * {{0}} if {{0}} <= 0 else {{0}})", ""))


# ---------------------------------------------------------------------------
# n-ary rows: one node for a whole sum, dot product, affine map or log-sum-exp
# ---------------------------------------------------------------------------

def _fold(terms: Iterable[Any], start: Any = 0) -> Any:
    return reduce(operator.add, terms, start)


added: Callable[..., Any] = sum if sys.version_info < (3, 12) else _fold
"""``added(terms, start=0)``: start + t_0 + t_1 + ..., added left to right, each addition
rounded once.

This is the order every n-ary row documents and its straight-line code computes
(``0.0 + x0 + x1 + ...``). Python's ``sum`` adds so up to 3.11; from 3.12 on it
compensates the rounding of a run of floats (Neumaier's summation), which gives other
last bits (``sum([1e16, 1.0, -1e16])`` is 1.0, not 0.0). So ``sum`` serves where it adds
plainly, and a fold of ``+`` everywhere else: the same numbers on every version of
Python."""


def dot_forward(ws: Sequence[Any], xs: Sequence[Any]) -> Any:
    """w . x = sum_i ws[i] * xs[i], added left to right: the ``dot`` row's forward."""
    return added(map(operator.mul, ws, xs))


def dot_partials(ws: tuple[Any, ...], xs: tuple[Any, ...]) -> tuple[Any, ...]:
    """The ``dot`` row's rule: d/dw_i = x_i, then d/dx_i = w_i (children are ws + xs)."""
    return xs + ws


def affine_forward(ws: Sequence[Any], xs: Sequence[Any], b: Any) -> Any:
    """b + w . x = b + sum_i ws[i] * xs[i], added left to right from b (as micrograd's
    neuron adds): the ``affine`` row's forward."""
    return added(map(operator.mul, ws, xs), b)


def affine_partials(ws: tuple[Any, ...], xs: tuple[Any, ...]) -> tuple[Any, ...]:
    """The ``affine`` row's rule: d/dw_i = x_i, d/dx_i = w_i, d/db = 1 (children ws + xs + b)."""
    return xs + ws + (1.0,)


def _operand_count(name: str, bias: int) -> Check:
    """The check that a ``dot`` (bias 0) or ``affine`` (bias 1) node has ws, xs (and b)."""
    expected = "ws + xs + (b,)" if bias else "ws + xs"

    def check(*operands: float) -> Exception | None:
        count = len(operands) - bias
        if count >= 2 and count % 2 == 0:
            return None
        return ValueError(f"{name}: expected operands {expected} with as many ws as xs "
                          f"(at least one each), got {len(operands)} operands")

    return check


def _dot(*wx: Any) -> Any:
    n = len(wx) // 2
    return dot_forward(wx[:n], wx[n:])


def _affine(*wxb: Any) -> Any:
    """The affine row's forward on floats and on arrays alike, in the same order."""
    n = len(wxb) // 2
    return affine_forward(wxb[:n], wxb[n:2 * n], wxb[-1])


_ARRAY = {np.ndarray}
_shape = operator.attrgetter("shape")


def _stacked(xs: tuple[Any, ...]) -> Any:
    """The arrays ``xs`` stacked on a new first axis, or None if their shapes differ."""
    if not xs:
        return None
    first = xs[0]
    if set(map(type, xs)) != _ARRAY or len(set(map(_shape, xs))) != 1:
        return None
    if first.ndim == 0:
        return np.array(xs)
    return np.concatenate(xs).reshape(len(xs), *first.shape)


def _sum_array(*xs: Any) -> Any:
    """The n-ary sum on arrays, added in the same order as on floats (x0 + x1 + ...)."""
    stacked = _stacked(xs)
    return added(xs) if stacked is None else _sum_stacked(stacked)


def _sum_stacked(S: Any) -> Any:
    """sum_i S[i], the rows added in order from +0.0, as :func:`added` adds floats (a sum
    of -0.0s is +0.0, as in PyTorch)."""
    return rows_added(S)


def rows_added(S: Any) -> Any:
    """0.0 + S[0] + S[1] + ... over the first axis, in that order, at every shape.

    NumPy's reduction over the first axis adds the rows so (from +0.0) when a row holds
    more than one number. A single column (a batch of one) it sums pairwise instead,
    which gives other last bits than the float order, so there the running sum is
    taken: ``np.add.accumulate`` adds in order from S[0], and 0.0 + that is the sum
    from +0.0 (the two differ only on a column of -0.0s)."""
    if S.size > len(S):
        return S.sum(axis=0)
    return 0.0 + np.add.accumulate(S, axis=0)[-1]


def _sum_stacked_derivatives(S: Any, out: Any) -> float:
    return 1.0


def _dot_stacked(S: Any) -> Any:
    """sum_i ws[i] * xs[i] for S = ws + xs stacked: the products, then their sum in order."""
    n = len(S) // 2
    return rows_added(S[:n] * S[n:])


def _dot_stacked_derivatives(S: Any, out: Any) -> Any:
    """d/dw_i = x_i, d/dx_i = w_i: the two halves of S swapped (the ``dot`` row's rule)."""
    n = len(S) // 2
    return np.concatenate((S[n:], S[:n]))


def _dot_array(*wx: Any) -> Any:
    """The dot product on arrays: sum_i ws[i] * xs[i], added in the float order.

    The ws and the xs are stacked apart, so that they may broadcast against each
    other (ws of shape (k, 1), weights shared by a batch; xs of shape (1, n), inputs
    shared by k neurons).
    """
    n = len(wx) // 2
    ws = _stacked(wx[:n])
    xs = _stacked(wx[n:])
    if ws is None or xs is None:
        return _dot(*wx)
    if math.prod(np.broadcast_shapes(ws.shape, xs.shape)[1:]) == 1:
        return rows_added(ws * xs)  # one column: einsum, too, would add pairwise
    return np.einsum("i...,i...->...", ws, xs)


def _dot_derivatives(*wx_out: Any) -> tuple[Any, ...]:
    n = (len(wx_out) - 1) // 2
    return dot_partials(wx_out[:n], wx_out[n:2 * n])


def _affine_derivatives(*wxb_out: Any) -> tuple[Any, ...]:
    n = (len(wxb_out) - 2) // 2
    return affine_partials(wxb_out[:n], wxb_out[n:2 * n])


def _sum_derivatives(*xs_out: Any) -> tuple[float, ...]:
    return (1.0,) * (len(xs_out) - 1)


def _sum_code(*xs: str) -> str:
    """0.0 + x0 + x1 + ...: the sum in the order ``sum`` adds, from +0.0 as it starts (a
    sum of -0.0s is +0.0)."""
    return f"({' + '.join(['0.0', *xs])})"


def _dot_code(*wx: str) -> str:
    """0.0 + w0 * x0 + ...: the dot product in the order ``dot_forward`` adds (from +0.0)."""
    n = len(wx) // 2
    return "(" + " + ".join(["0.0", *(f"{w} * {x}" for w, x in zip(wx[:n], wx[n:]))]) + ")"


def _affine_code(*wxb: str) -> str:
    """b + w0 * x0 + ...: the affine map in the order ``affine_forward`` adds."""
    n = len(wxb) // 2
    return "(" + " + ".join([wxb[-1], *(f"{w} * {x}" for w, x in zip(wxb[:n], wxb[n:2 * n]))]) + ")"


SUM = Op("sum", lambda *xs: added(xs), _sum_array, _sum_derivatives, arity=None,
         formula="d/dx_i = 1", symbol="Σ", separable=True, smooth=True,
         stacked=(_sum_stacked, _sum_stacked_derivatives, (-0.0,)),
         template=(_sum_code, _sum_code))
DOT = Op("dot", _dot, _dot_array, _dot_derivatives, arity=None,
         check=_operand_count("dot", 0), formula="d/dw_i = x_i, d/dx_i = w_i", symbol="w·x",
         bilinear=True, smooth=True,
         stacked=(_dot_stacked, _dot_stacked_derivatives, (-0.0, 0.0)),
         template=(_dot_code, _dot_code))
AFFINE = Op("affine", _affine, _affine, _affine_derivatives, arity=None,
            check=_operand_count("affine", 1), formula="d/dw_i = x_i, d/dx_i = w_i, d/db = 1",
            symbol="w·x+b", bilinear=True, bias=True, smooth=True,
            template=(_affine_code, _affine_code))


def _logsumexp(*xs: float) -> float:
    """log(sum_i e^(x_i)) = m + log(sum_i e^(x_i - m)) with m = max_i x_i: no overflow.

    An infinite m is the answer, unless some x_i is NaN: then NaN, as NumPy's and
    PyTorch's (Python's ``max`` skips a NaN after the first operand)."""
    top = max(xs)
    if math.isinf(top):
        return math.nan if any(x != x for x in xs) else top
    return top + math.log(added([math.exp(x - top) for x in xs]))


def _logsumexp_array(*xs: Any) -> Any:
    return _logsumexp_stacked(np.stack(np.broadcast_arrays(*xs)))


def _logsumexp_stacked(S: Any) -> Any:
    """m + log(sum_i e^(S[i] - m)) over the first axis, with m the finite maximum."""
    top = S.max(axis=0)
    finite_top = np.where(np.isfinite(top), top, 0.0)
    return finite_top + np.log(rows_added(np.exp(S - finite_top)))


def _logsumexp_derivatives(*xs_out: Any) -> tuple[Any, ...]:
    """d/dx_i = p_i = e^(x_i - out), the softmax; the largest input's as a graph of its own.

    On floats and arrays e^(x_i - out) has the relative error of out's rounding, |out|
    ulps of 1 (5.5e-14 at inputs of 1000, 1.9e-9 at -1e8), as PyTorch's. Differentiated again
    (``create_graph``: the rule runs on Values), the largest input m's partial would carry
    1 - p_m, a cancellation when m dominates (p_m = 1 - 2e-9 at a lead of 20 loses
    half the digits of every higher derivative). There it is written

        p_m = 1 / (1 + sum_{j != m} e^(x_j - x_m)),

    whose derivatives are sums of terms of one sign (every exponent <= 0, no overflow);
    the other partials stay e^(x_i - out), small, with 1 - p_i close to 1.
    """
    xs, out = xs_out[:-1], xs_out[-1]
    if type(out) is float:  # the eager graph's case: the C library's exp, as EXP calls it
        try:
            return tuple([math.exp(x - out) for x in xs])
        except OverflowError:  # no x - out > 0 for out = logsumexp(xs); another out: IEEE
            pass
    if type(out) in _PLAIN:
        return tuple(EXP(x - out) for x in xs)
    data = [getattr(x, "data", x) for x in xs]
    m = data.index(max(data))
    top = xs[m]
    rest = [EXP(x - top) for j, x in enumerate(xs) if j != m]
    dominant = 1.0 / (1.0 + SUM(*rest)) if rest else EXP(top - out)
    return tuple(dominant if j == m else EXP(x - out) for j, x in enumerate(xs))


_PLAIN = (float, np.ndarray, np.float64)
"""Operand types of a rule run on numbers (eagerly, by the tape, by the checkers)."""


def _logsumexp_stacked_derivatives(S: Any, out: Any) -> Any:
    """Every d/dx_i = e^(x_i - out) at once: the softmax along the first axis (S is an
    array: a stacked form runs on arrays only)."""
    return np.exp(S - out)


def _logsumexp_code(*xs: str) -> str:
    """``_logsumexp`` as one expression: the top m, then m + log(sum_i e^(x_i - m)); an
    infinite m is the answer unless some x_i is NaN (then their sum, NaN)."""
    shifted = " + ".join(f"exp({x} - _m)" for x in xs)
    top = f"max({', '.join(xs)})" if len(xs) > 1 else xs[0]
    nans = " + ".join(f"isnan({x})" for x in xs)
    total = " + ".join(xs)
    return (f"((_m if {nans} == 0 else {total}) if isinf(_m := {top}) "
            f"else _m + log({shifted}))")


LOGSUMEXP = Op("logsumexp", _logsumexp, _logsumexp_array, _logsumexp_derivatives, arity=None,
               formula="d/dx_i = exp(x_i - out) (the softmax)", smooth=True,
               stacked=(_logsumexp_stacked, _logsumexp_stacked_derivatives, (-math.inf,)),
               template=(_logsumexp_code, ""))


# ---------------------------------------------------------------------------
# gather: one of n operands, selected by an index that is itself data
# ---------------------------------------------------------------------------

def _gather_check(*operands: float) -> Exception | None:
    """The operands are values v_0 .. v_{n-1} and an index k, an exact integer in [0, n)."""
    n = len(operands) - 1
    if n < 1:
        return ValueError("gather: expected operands v_0, ..., v_{n-1} and an index k "
                          f"(at least one value), got {len(operands)} operand(s)")
    k = operands[-1]
    if float(k).is_integer() and 0 <= k < n:
        return None
    return ValueError(f"gather: expected the index (the last operand) to be an integer from 0 "
                      f"to {n - 1}, selecting one of {n} values, got {float(k)!r}")


def _gather(*operands: float) -> float:
    """v_k for operands v_0, ..., v_{n-1}, k (k an exact integer, checked before)."""
    return operands[int(operands[-1])]


def _gather_array(*operands: Any) -> Any:
    """The gather on arrays: out[b] = v_{k[b]}[b], one NumPy take_along_axis for a batch."""
    stacked = np.stack(np.broadcast_arrays(*operands))
    values, index = stacked[:-1], stacked[-1]
    n = len(values)
    bad = ~((index == np.floor(index)) & (index >= 0) & (index < n))
    if bad.any():
        raise ValueError(f"gather: expected every index to be an integer from 0 to {n - 1}, "
                         f"got {float(index[bad].flat[0])!r}")
    return np.take_along_axis(values, index.astype(np.intp)[None], axis=0)[0]


def _gather_derivatives(*operands_out: Any) -> tuple[Any, ...]:
    """d out / d v_i = [i == k] (one-hot on the selected operand); d out / d k = 0.

    [i == k] is written step(1/2 - |k - i|), from the table's own rows, so that one
    rule serves floats, arrays and Values; on floats it is read off directly.
    """
    index, n = operands_out[-2], len(operands_out) - 2
    if type(index) is float:
        k = int(index)
        return (*[1.0 if i == k else 0.0 for i in range(n)], 0.0)
    return (*[STEP(0.5 - ABS(index - i)) for i in range(n)], 0.0)


GATHER = Op("gather", _gather, _gather_array, _gather_derivatives, arity=None,
            check=_gather_check, formula="d/dv_i = 1 if i == k else 0, d/dk = 0",
            symbol="v[k]", index=True)

TABLE: tuple[Op, ...] = (ADD, SUB, MUL, DIV, NEG, POW, STEP, SIGN, ABS, RELU, EXP, LOG, SQRT,
                         SIN, COS, TANH, ERF, ERFC, GELU, SIGMOID, SOFTPLUS, SUM, DOT, AFFINE,
                         LOGSUMEXP, GATHER)
"""The fixed rows; ``power(p)`` and ``leaky_relu(slope)`` add a row per constant."""

METHODS: dict[str, Op] = {row.name: row for row in TABLE if row.method}
"""The one-input rows that are methods of Value and functions of the package, by name."""
