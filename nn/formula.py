"""Formulas typed by a person (``"tanh(x * w + b)"``) turned into graphs of Values.

A formula is read by Python's own parser (:func:`ast.parse`) and then checked
node by node against a whitelist (what it allows is listed in
docs/howto/command-line.md and in :data:`FUNCTIONS`). The graph is built by walking
that tree; no text is ever handed to ``eval``, ``exec`` or ``compile``, so a
formula can do nothing but arithmetic on Values, whatever it contains.

The graph is the one Python would build if every variable were a
:class:`~autograd_scalar.Value`: the same rows of the op table (``x ** 2`` a power
row with a constant exponent). Parts of a formula without variables are folded to
one number at parse time, through the same rows, so a constant error such as ``1/0``
is found before any point is given. Every rejected formula raises
:class:`FormulaError`, one line naming the problem and where it is.
"""

from __future__ import annotations

import ast
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from autograd_scalar import Value, ops
from autograd_scalar.validate import is_real

from .activations import LEAKY_RELU_SLOPE

MAX_LENGTH = 2000
"""The longest formula accepted, in characters."""

MAX_DEPTH = 100
"""The deepest syntax tree accepted: each operator or call adds a level, parentheses none."""


class FormulaError(ValueError):
    """A formula, or a point to evaluate it at, that cannot be used; the message says why."""


Scalar = Union[float, Value]


@dataclass(frozen=True)
class _Const:
    value: float


@dataclass(frozen=True)
class _Var:
    name: str


@dataclass(frozen=True)
class _Apply:
    """``fn(*args)`` where ``fn`` accepts floats and Values alike; ``source`` is for errors."""

    fn: Callable[..., Any]
    args: tuple[_Term, ...]
    source: str


_Term = Union[_Const, _Var, _Apply]

_ROWS: dict[str, ops.Op] = {row.name: row for row in ops.TABLE
                            if row.method or (row.arity is None and not row.index)}
"""The op table's rows that formulas call by name: the methods of Value (exp, tanh, ...) and
the n-ary rows (sum, dot, ...) but ``gather``, whose index is data, not a term."""
_BILINEAR = tuple(name for name, row in _ROWS.items() if row.bilinear and row.arity is None)
FUNCTIONS: tuple[str, ...] = (*_ROWS, "leaky_relu")
"""The names a formula may call: every named row of the table, and leaky_relu (x, slope)."""

_BINARY_ROWS: dict[type[ast.operator], ops.Op] = {
    ast.Add: ops.ADD, ast.Sub: ops.SUB, ast.Mult: ops.MUL, ast.Div: ops.DIV,
}
_OPERATOR_NAMES: dict[type[ast.AST], str] = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^", ast.Not: "not", ast.Invert: "~",
}
_CONSTRUCT_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access", ast.Subscript: "a subscript ([...])",
    ast.Lambda: "a lambda", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
    ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.IfExp: "a conditional expression",
    ast.NamedExpr: "assignment (:=)", ast.Starred: "a starred argument (*)",
    ast.JoinedStr: "an f-string", ast.Dict: "a dictionary", ast.Set: "a set",
    ast.Tuple: "a tuple (a formula is one expression)",
    ast.List: "a list outside " + " or ".join(f"{name}(...)" for name in _BILINEAR),
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
}
_ALLOWED = ("allowed: numbers, variables, + - * / **, unary -, and calls to "
            + ", ".join(FUNCTIONS))


def parse_formula(text: str) -> Formula:
    """Check ``text`` against the whitelist and return the :class:`Formula` it denotes.

    Raises :class:`FormulaError` for anything outside the whitelist, oversized or
    too deeply nested input, and constant parts that fail or overflow (``1/0``,
    ``9**9**9``).
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, got {type(text).__name__}")
    if not text.strip():
        raise FormulaError("the formula is empty; write an expression such as 'x * y + 1'")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text)} characters long; "
                           f"at most {MAX_LENGTH} are accepted")
    indent = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise _syntax_error(error, text.strip(), indent) from None
    except ValueError as error:
        raise FormulaError(f"not a formula: {error}") from None
    except (RecursionError, MemoryError):
        raise FormulaError(f"the formula is nested too deeply (at most {MAX_DEPTH} levels)"
                           ) from None
    _check_depth(tree.body)
    reader = _Reader(text.strip(), indent)
    root = reader.term(tree.body)
    return Formula(text.strip(), tuple(dict.fromkeys(reader.variables)), root)


def _syntax_error(error: SyntaxError, text: str, indent: int) -> FormulaError:
    """Python's syntax error in ``text`` (the formula without its ``indent`` leading
    spaces) at its column. Python gives no column (offset 0) when the formula stops where
    more was needed (``x +``, ``x *``): that is reported at the end of the formula."""
    if not error.offset:
        return FormulaError(f"column {indent + len(text) + 1}: not a formula: unexpected "
                            "end of formula")
    return FormulaError(f"column {error.offset + indent}: not a formula: {error.msg}")


@dataclass(frozen=True)
class Formula:
    """A checked formula: its text, its variables in order of first use, and its terms.

    Call it with one number or Value per variable (in ``variables`` order) to
    build its graph; :meth:`build` does the same from a mapping of names to numbers.
    """

    text: str
    variables: tuple[str, ...]
    _root: _Term

    def __call__(self, *inputs: Scalar) -> Value:
        """The formula's output node, with ``inputs[i]`` standing for ``variables[i]``."""
        if len(inputs) != len(self.variables):
            raise FormulaError(f"{self.text!r} has {len(self.variables)} variable(s) "
                               f"{list(self.variables)}, got {len(inputs)} input(s)")
        out = _build(self._root, dict(zip(self.variables, inputs)))
        return out if isinstance(out, Value) else Value(out)

    def build(self, point: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
        """The output node and the input leaves (labelled with their names) at ``point``.

        ``point`` must give every variable and nothing else: a missing name is an
        unbound variable, an extra one most likely a typo.
        """
        missing = [name for name in self.variables if name not in point]
        if missing:
            shown = ", ".join(missing)
            example = ",".join(f"{name}=1.0" for name in missing)
            raise FormulaError(f"unbound variable(s) {shown}: give a value for each, "
                               f"e.g. --at {example}")
        extra = [name for name in point if name not in self.variables]
        if extra:
            used = ", ".join(self.variables) or "none"
            raise FormulaError(f"{', '.join(extra)} given a value but not used in the "
                               f"formula (its variables: {used})")
        leaves = {name: Value(_number(name, point[name]), label=name)
                  for name in self.variables}
        return self(*leaves.values()), leaves

    def first_not_finite(self, point: Mapping[str, float]) -> tuple[str, float] | None:
        """The first term (innermost, then leftmost) whose value at ``point`` is inf or
        NaN, as (its source, that value); None when every term is finite. This is where
        an overflow or an undefined operation entered a non-finite result."""
        found: list[tuple[str, float]] = []

        def note(term: _Apply, result: Scalar) -> None:
            number = result.data if isinstance(result, Value) else float(result)
            if not found and not math.isfinite(number):
                found.append((term.source, number))

        _build(self._root, {name: float(point[name]) for name in self.variables}, note)
        return found[0] if found else None


def _number(name: str, value: Any) -> float:
    """The value given for variable ``name``; TypeError unless a real number (a string
    such as "1.5" is refused, not parsed: ``parse_point`` reads text)."""
    if not is_real(value):
        raise TypeError(f"the value of {name} must be a real number, got "
                        f"{type(value).__name__}: {value!r}"[:200])
    return float(value)


_LEVELS = (ast.BinOp, ast.UnaryOp, ast.Call)
"""The nodes that add a level of nesting: operators and calls (not names, numbers, lists)."""


def _check_depth(root: ast.AST) -> None:
    """FormulaError if more than MAX_DEPTH operators and calls nest inside one another
    (``-`` * 100 + ``x`` is 100 levels and passes; walked with a stack, not recursion)."""
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        depth += isinstance(node, _LEVELS)
        if depth > MAX_DEPTH:
            raise FormulaError(f"the formula is nested too deeply (more than {MAX_DEPTH} "
                               "levels); for a long sum write sum(a, b, c, ...)")
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))


class _Reader:
    """Turns a checked syntax tree into terms, collecting the variables it meets."""

    def __init__(self, text: str, indent: int = 0) -> None:
        self.text = text
        self.indent = indent
        self.variables: list[str] = []

    def source(self, node: ast.AST) -> str:
        """The text of ``node`` on one line, shortened to 60 characters, for messages."""
        segment = " ".join((ast.get_source_segment(self.text, node) or "").split())
        return segment if len(segment) <= 60 else segment[:57] + "..."

    def fail(self, node: ast.AST, problem: str) -> FormulaError:
        """The error ``problem`` at ``node``, its column counted in characters (the syntax
        tree counts UTF-8 bytes, so ``é`` would count twice) in the text as given."""
        line = self.text.splitlines()[getattr(node, "lineno", 1) - 1]
        column = len(line.encode()[:getattr(node, "col_offset", 0)].decode(errors="ignore"))
        return FormulaError(f"column {column + 1 + self.indent}: {problem}")

    def term(self, node: ast.expr) -> _Term:
        if isinstance(node, ast.Constant):
            return _Const(self.number(node))
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return self.term(node.operand)
            if isinstance(node.op, ast.USub):
                return self.apply(ops.NEG, (self.term(node.operand),), node)
            raise self.fail(node, f"the operator {_OPERATOR_NAMES[type(node.op)]} "
                                  "is not allowed; use + - * / ** and functions")
        if isinstance(node, ast.Call):
            return self.call(node)
        construct = _CONSTRUCT_NAMES.get(type(node), type(node).__name__)
        if isinstance(node, ast.Attribute):
            construct += f" (.{node.attr})"
        raise self.fail(node, f"{construct} is not allowed in a formula; {_ALLOWED}")

    def number(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "a string" if isinstance(value, (str, bytes)) else repr(value)
            raise self.fail(node, f"{kind} is not a number; {_ALLOWED}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.fail(node, f"the number {self.source(node)} is too large for a float")
        return number

    def name(self, node: ast.Name) -> _Var:
        if node.id in FUNCTIONS:
            raise self.fail(node, f"{node.id} is a function; call it, as in {node.id}(x)")
        self.variables.append(node.id)
        return _Var(node.id)

    def binary(self, node: ast.BinOp) -> _Term:
        left, right = self.term(node.left), self.term(node.right)
        if isinstance(node.op, ast.Pow):
            if isinstance(right, _Const):
                return self.apply(ops.power(right.value), (left,), node)
            return self.apply(ops.POW, (left, right), node)
        row = _BINARY_ROWS.get(type(node.op))
        if row is None:
            raise self.fail(node, f"the operator {_OPERATOR_NAMES[type(node.op)]} is not "
                                  "allowed; use + - * / **")
        return self.apply(row, (left, right), node)

    def call(self, node: ast.Call) -> _Term:
        if not isinstance(node.func, ast.Name):
            self.term(node.func)
            raise self.fail(node, f"only the functions {', '.join(FUNCTIONS)} may be called, "
                                  f"not {self.source(node.func)}")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.fail(node, f"unknown function {name}; known: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise self.fail(node, f"{name} takes positional arguments only, "
                                  "as in leaky_relu(x, 0.1)")
        if name == "leaky_relu":
            return self.leaky_relu(node)
        row = _ROWS[name]
        if row.arity is None and row.bilinear:
            return self.bilinear(node, row)
        if row.arity is None:
            if not node.args:
                raise self.fail(node, f"{name} needs at least one argument")
        elif len(node.args) != row.arity:
            raise self.fail(node, f"{name} takes {row.arity} argument"
                                  f"{'s' if row.arity != 1 else ''}, got {len(node.args)}")
        return self.apply(row, tuple(self.term(arg) for arg in node.args), node)

    def leaky_relu(self, node: ast.Call) -> _Term:
        if len(node.args) not in (1, 2):
            raise self.fail(node, f"leaky_relu takes 1 or 2 arguments (x, slope), "
                                  f"got {len(node.args)}")
        slope = LEAKY_RELU_SLOPE
        if len(node.args) == 2:
            given = self.term(node.args[1])
            if not isinstance(given, _Const):
                raise self.fail(node.args[1], "the slope of leaky_relu must be a number, "
                                              "not depend on a variable")
            slope = given.value
        return self.apply(ops.leaky_relu(slope), (self.term(node.args[0]),), node)

    def bilinear(self, node: ast.Call, row: ops.Op) -> _Term:
        """``dot([w1, w2], [x1, x2])``, or ``affine([w1, w2], [x1, x2], b)`` for a row with a
        bias: one node of the bilinear ``row``, its operands laid out as ws + xs (+ b)."""
        name = row.name
        example = f"{name}([w1, w2], [x1, x2]{', b' if row.bias else ''})"
        shape = ("two lists of equal length" + (" and a bias" if row.bias else "")
                 + f", as in {example}")
        lists = [arg for arg in node.args[:2] if isinstance(arg, ast.List)]
        if len(lists) != 2 or len(node.args) != 2 + row.bias:
            raise self.fail(node, f"{name} takes {shape}; got {len(node.args)} argument(s)")
        ws, xs = (tuple(self.term(entry) for entry in arg.elts) for arg in lists)
        if len(ws) != len(xs) or not ws:
            raise self.fail(node, f"{name} takes two non-empty lists of equal length, "
                                  f"got {len(ws)} and {len(xs)} entries")
        bias = (self.term(node.args[2]),) if row.bias else ()
        return self.apply(row, (*ws, *xs, *bias), node)

    def apply(self, fn: Callable[..., Any], args: tuple[_Term, ...], node: ast.AST) -> _Term:
        """The term ``fn(*args)``, folded to a number at once when every arg is a number."""
        term = _Apply(fn, args, self.source(node))
        if not all(isinstance(arg, _Const) for arg in args):
            return term
        value = _build(term, {})
        number = value.data if isinstance(value, Value) else float(value)
        if not math.isfinite(number):
            raise self.fail(node, f"the constant {term.source} overflows to {number}; "
                                  "keep constants within the range of a float")
        return _Const(number)


def _build(term: _Term, inputs: Mapping[str, Scalar],
           visit: Callable[[_Apply, Scalar], None] | None = None) -> Scalar:
    """The number or Value ``term`` denotes, with ``inputs`` for its variables;
    ``visit(term, result)`` is told each applied term's result, innermost first."""
    if isinstance(term, _Const):
        return term.value
    if isinstance(term, _Var):
        return inputs[term.name]
    args = [_build(arg, inputs, visit) for arg in term.args]
    try:
        result = term.fn(*args)
    except (ArithmeticError, ValueError) as error:
        raise FormulaError(f"{error} (in {term.source})") from None
    if visit is not None:
        visit(term, result)
    return result


def parse_point(specs: str | Iterable[str]) -> dict[str, float]:
    """The point ``"x=1,y=2"`` (or several such strings) as ``{"x": 1.0, "y": 2.0}``.

    Each entry is ``name=number`` with ``name`` a Python identifier and the number
    finite. Names are normalised as Python normalises the formula's own (NFKC: ``ﬁ``
    is ``fi``, a full-width ``ｘ`` is ``x``), so they match. A missing value, a
    repeated name or a non-number is a FormulaError.
    """
    pieces = [specs] if isinstance(specs, str) else list(specs)
    point: dict[str, float] = {}
    for piece in pieces:
        for entry in piece.split(","):
            name, value = _assignment(entry.strip())
            if name in point:
                raise FormulaError(f"{name} is given twice in --at; give each variable once")
            point[name] = value
    return point


def _assignment(entry: str) -> tuple[str, float]:
    if not entry:
        raise FormulaError("empty entry in --at; write name=value pairs separated by commas, "
                           "e.g. --at x=1,y=2")
    name, sep, text = (part.strip() for part in entry.partition("="))
    if not sep:
        raise FormulaError(f"{entry!r} in --at has no value; write {entry}=1.5")
    if not name:
        raise FormulaError(f"{entry!r} in --at has no name; write x{entry}")
    if not name.isidentifier():
        raise FormulaError(f"{name!r} in --at is not a variable name "
                           "(letters, digits and _, not starting with a digit)")
    name = unicodedata.normalize("NFKC", name)
    if not text:
        raise FormulaError(f"{name} in --at has no value; write {name}=1.5")
    try:
        value = float(text)
    except ValueError:
        raise FormulaError(f"{name}={text} in --at: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise FormulaError(f"{name}={text} in --at: expected a finite number")
    return name, value
