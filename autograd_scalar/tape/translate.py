"""Scalar straight-line code, translated from its Python source into C, in two dialects.

:mod:`autograd_scalar.tape.source` writes a segment of a program as one Python
function over floats (``tape.source()`` shows it). That source is a small, closed
language: assignments to local names of expressions made of arithmetic
(``+ - * / **``), comparisons, conditional expressions, named expressions
(``_m := ...``), calls of the ``math`` module's functions and of ``abs``, ``max``,
``min``, ``float`` and ``pow``, and float literals (``inf`` and ``nan`` too). This
module reads it with :mod:`ast` and writes the same statements in C, one for one,
so that the op table stays the only definition of every op: nothing here knows an
op. Anything outside that language (a call of a row's own function, where a row has
no template) raises :class:`Untranslatable`, and the Python code runs instead.

The C gives Python's numbers wherever Python gives a number:

- ``+ - *``, comparisons and conditional expressions are IEEE arithmetic in both,
  in the same order (every operation is parenthesized as the Python tree has it,
  and the C is compiled without contraction into fused multiply-adds);
- the math functions are the C library's own (Python's ``math`` calls the same
  ones); ``max`` and ``min`` keep the first of equal items, as Python's do;
- the walrus temporaries are assigned in Python's order of evaluation: each named
  expression is hoisted, with the comma operator, before the expression reading it.

Where Python raises (``math.exp(1000)``, ``1 / 0``, ``math.log(-1)``) C goes on with
inf or NaN. So every call of a math function, every division and every power is
checked: its result must be finite, else the run is flagged (the function returns
1) and the caller runs the Python code instead, which raises as it always did.
Python raises only where such a result is inf or NaN, so a run that is not flagged
raised nowhere in Python either (a flagged run may be a false alarm: an inf that
Python computes without raising, which costs a slower run, not a wrong number).

The C is written once, in macros (``NUM``, ``BC``, ``SEL``, ``CK``, ``FN``, ``AT``,
...) that two dialects define: :data:`SCALAR`, one example per call, each name a
double, and :data:`LANES` (vector code), as many examples per call as a vector
register holds, each name a vector of them. In lanes both branches of a conditional
expression are computed and selected per lane; a branch's checks and walrus
assignments count only in the lanes that take it (``CKM``, and ``SEL`` of the old
value), so a lane computes what its example's Python run computes. With the C
library's scalar math functions lane by lane, lanes give scalar code's numbers to
the bit; with glibc's vector ones (``use_mvec``), to rounding.

The C function runs a batch of ``n`` examples, example j at column j of arrays of
shape (count, n): it reads the operands (``r``) from ``R``, the upstream
gradients (``u``) from ``U``, a separate backward's saved values (``s``) from
``KI``, and writes the values returned to ``W`` and ``KO`` (a forward's values and
saved values) or ``SK`` (the gradients sent to the operands). Long code is split
into functions of :data:`CHUNK` statements each (a C compiler's time grows faster
than the length of one function); values that cross a chunk live in a scratch
array ``x``.

Only numbers, names this module makes and the structure of the generated source
ever reach the C: no text from the user (a label, a row's name) is copied in.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

CHUNK = 400
"""Statements per C function: short enough for the compiler's optimizer to stay fast."""

ONE_ARGUMENT = frozenset({
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc"})
"""``math`` functions of one float whose C function of the same name is the one Python
calls (checked for a finite result)."""

TWO_ARGUMENTS = frozenset({"atan2", "pow"})
"""``math`` functions of two floats, likewise (checked)."""

EXACT = {"fabs": ("ABS", 1), "copysign": ("COPYSIGN", 2), "isinf": ("ISINF", 1),
         "isnan": ("ISNAN", 1), "isfinite": ("ISFINITE", 1)}
"""``math`` functions that never raise (the tests give 1.0 or 0.0, as Python's ``bool``
counts), the dialects' macro that computes each, and its argument count."""

CONSTANTS = {"inf": math.inf, "nan": math.nan, "pi": math.pi, "e": math.e, "tau": math.tau}
"""Names of ``math`` constants the code may read."""

COMPARISONS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
               ast.NotEq: "!="}
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}

PRELUDE = """\
#include <math.h>
/* Generated from a tape's straight-line Python code: numbers and generated names only. */
/* e, adding e - e to the chunk's check: 0 for a finite e, NaN for inf and NaN; CKM
   counts only the lanes of mask m (the examples that take the branch e is in) */
#define CK(e) ({ NUM c_ = (e); check += c_ - c_; c_; })
#define CHUNK __attribute__((noinline, visibility("hidden")))
#define ARGS const double *restrict R, const double *restrict U, const double *restrict KI, \\
    double *restrict W, double *restrict KO, double *restrict SK, double *restrict x, long n, long j
"""

SCALAR = """\
#define LANES 1
typedef double NUM;
typedef int MASK;
#define BC(c) (c)
#define QNAN ((double)NAN)
#define BOOL(m) ((double)(m))
#define NOT(m) (!(m))
#define SEL(m, a, b) ((m) ? (a) : (b))
#define CKM(e, m) CK(e)
#define ABS(a) __builtin_fabs(a)
#define COPYSIGN(a, b) __builtin_copysign(a, b)
#define FN(f) f
#define ISNAN(a) ((double)(isnan(a) != 0))
#define ISINF(a) ((double)(isinf(a) != 0))
#define ISFINITE(a) ((double)(isfinite(a) != 0))
#define AT(A, k) A[(k)*n+j]
#define XS(k) x[k]
#define FLAGGED(c) ((c) != (c))
static inline double max_(double a, double b) { return b > a ? b : a; }
static inline double min_(double a, double b) { return b < a ? b : a; }
"""
"""The scalar dialect: one example per call of a chunk, each name a double."""

LANES = """\
#if defined(__AVX512F__)
#define LANES 8
#define MVEC(f, v) _ZGVeN8##v##_##f
#elif defined(__AVX2__)
#define LANES 4
#define MVEC(f, v) _ZGVdN4##v##_##f
#elif defined(__SSE2__) && defined(__x86_64__)
#define LANES 2
#define MVEC(f, v) _ZGVbN2##v##_##f
#else
#define LANES 2
#endif
#if defined(MVEC) && USE_MVEC && defined(__GLIBC__)
#define MVEC_2_22 (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 22)
#define MVEC_2_35 (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)
#else
#define MVEC_2_22 0
#define MVEC_2_35 0
#endif
typedef double NUM __attribute__((vector_size(8 * LANES)));
typedef __typeof__((NUM){} < (NUM){}) MASK;
typedef double UNALIGNED __attribute__((vector_size(8 * LANES), aligned(8)));
#define BC(c) ((c) - (NUM){})
/* NaN out of the compiler's sight: it folds x - C into x + (-C), flipping a NaN's sign */
#define QNAN ({ NUM n_ = BC((double)NAN); __asm__("" : "+m"(n_)); n_; })
#define BOOL(m) ((NUM)((m) & (MASK)BC(1.0)))
#define NOT(m) (~(m))
#define SEL(m, a, b) ((NUM)(((m) & (MASK)(a)) | (~(m) & (MASK)(b))))
#define CKM(e, m) ({ NUM c_ = (e); check += (NUM)((MASK)(c_ - c_) & (m)); c_; })
#define SIGN ((MASK)BC(-0.0))
#define ABS(a) ((NUM)((MASK)(a) & ~SIGN))
#define COPYSIGN(a, b) ((NUM)(((MASK)(a) & ~SIGN) | ((MASK)(b) & SIGN)))
#define FN(f) v_##f
#define AT(A, k) (*(UNALIGNED *)((A) + (k)*n + j))
#define XS(k) (*(UNALIGNED *)(x + (k)*LANES))
static inline int FLAGGED(NUM c) {
    for (int i = 0; i < LANES; i++) if (c[i] != c[i]) return 1;
    return 0;
}
static inline NUM ISNAN(NUM a) { return BOOL(a != a); }
static inline NUM ISINF(NUM a) { return BOOL(ABS(a) == BC(INFINITY)); }
static inline NUM ISFINITE(NUM a) { return BOOL(ABS(a) < BC(INFINITY)); }
static inline NUM max_(NUM a, NUM b) { MASK m = b > a; return SEL(m, b, a); }
static inline NUM min_(NUM a, NUM b) { MASK m = b < a; return SEL(m, b, a); }
"""
"""The lanes dialect: LANES examples per call of a chunk (as many doubles as a vector
register of the machine holds), each name a vector of them. Arithmetic is the same
IEEE arithmetic lane by lane; a conditional expression computes both branches and
selects (a branch's checks and walrus assignments count only in its own lanes); the
math functions are glibc's vector ones (libmvec) where the C library has them and
``USE_MVEC`` is set, else the scalar ones lane by lane."""

MVEC_SINCE = {"exp": "2_22", "log": "2_22", "sin": "2_22", "cos": "2_22", "pow": "2_22"}
"""The glibc version that brought each vector math function (the rest, but sqrt, 2.35)."""


def lanes_math(use_mvec: bool) -> str:
    """The lanes dialect's math functions, ``v_<name>``, one per ``math`` function the
    code may call: glibc's vector function where it has one, else a loop over lanes."""
    lines = [f"#define USE_MVEC {int(use_mvec)}", LANES]
    for name, count in [*((f, 1) for f in sorted(ONE_ARGUMENT)),
                        *((f, 2) for f in sorted(TWO_ARGUMENTS))]:
        parameters = ", ".join(f"NUM a{k}" for k in range(count))
        arguments = ", ".join(f"a{k}" for k in range(count))
        lanes = ", ".join(f"a{k}[i]" for k in range(count))
        scalar = "__builtin_sqrt" if name == "sqrt" else name
        loop = (f"static inline NUM v_{name}({parameters}) {{ NUM r; "
                f"for (int i = 0; i < LANES; i++) r[i] = {scalar}({lanes}); return r; }}")
        if name == "sqrt":
            lines.append(loop)
            continue
        vector = f"MVEC({name}, {'v' * count})"
        lines += [f"#if MVEC_{MVEC_SINCE.get(name, '2_35')}",
                  f"NUM {vector}({', '.join(['NUM'] * count)});",
                  f"static inline NUM v_{name}({parameters}) {{ return {vector}({arguments}); }}",
                  "#else", loop, "#endif"]
    return "\n".join(lines) + "\n"


ARRAYS = {"r": "R", "u": "U", "s": "KI"}
"""The Python function's parameters and the arrays that hold them."""

OUTPUTS = {"forward": ("W",), "saved": ("W", "KO"), "backward": ("SK",), "both": ("W", "SK")}
"""What each kind of function returns, as the arrays it writes."""


class Untranslatable(ValueError):
    """The source uses something the C writer does not translate (named in the message)."""


def literal(value: float) -> str:
    """A float as an exact C literal (hexadecimal), inf and NaN as C's constants."""
    value = float(value)
    if math.isnan(value):
        return "(double)NAN"
    if math.isinf(value):
        return "(double)INFINITY" if value > 0 else "(-(double)INFINITY)"
    return f"({value.hex()})"


def constant(value: float) -> str:
    """A number in either dialect: :func:`literal`, broadcast (``BC``); NaN as ``QNAN``."""
    return "QNAN" if math.isnan(value) else f"BC({literal(value)})"


@dataclass
class Statement:
    """``target = value``: a local name, or an output array's element ``(array, k)``;
    the value as Python source (a statement of the body) or as a tree (a part of the
    return)."""

    target: str | tuple[str, int]
    value: str | ast.expr


@dataclass
class Function:
    """A parsed function: its kind, its statements, which parameter array and position
    each unpacked name comes from, and the walrus names it uses."""

    kind: str
    statements: list[Statement]
    inputs: dict[str, tuple[str, int]]
    temporaries: set[str]


HEADER = re.compile(r"def (\w+)\(([\w, ]*)\):")
ASSIGNMENT = re.compile(r"    ([\w, ]+?) = (.+)")
RETURN = re.compile(r"    return (.+)")
CHECKS = re.compile(r"\bCKM?\(")
"""A checked value in written C."""
NAMES = re.compile(r"((?<![\w.])[A-Za-z_]\w*)")
"""A name in Python source (not an attribute, not a number's exponent), kept by split."""


def parse(source: str) -> Function:
    """The one ``def`` of ``source`` read as statements (see the module docstring).

    The source is the code writer's: a header, one assignment per line, a return. Each
    assignment's value stays text here (see :func:`translate`); the return is parsed."""
    lines = source.rstrip("\n").split("\n")
    header = HEADER.fullmatch(lines[0])
    if header is None or len(lines) < 2:
        raise Untranslatable("the source must be one function definition")
    kind = header.group(1)
    if kind not in OUTPUTS:
        raise Untranslatable(f"no C for a function named {kind!r}")
    parameters = [p.strip() for p in header.group(2).split(",") if p.strip()]
    if any(p not in ARRAYS for p in parameters):
        raise Untranslatable("unexpected parameters")
    inputs: dict[str, tuple[str, int]] = {}
    statements: list[Statement] = []
    for line in lines[1:-1]:
        found = ASSIGNMENT.fullmatch(line)
        if found is None:
            raise Untranslatable("a line that is not an assignment")
        target, value = found.groups()
        if value in parameters:
            names = [name.strip() for name in target.split(",") if name.strip()]
            for k, name in enumerate(names):
                if not name.isidentifier() or name in inputs:
                    raise Untranslatable("unpacking into something else than new names")
                inputs[name] = (ARRAYS[value], k)
        elif target.isidentifier():
            statements.append(Statement(target, value))
        else:
            raise Untranslatable("assignment to something else than a name")
    found = RETURN.fullmatch(lines[-1])
    if found is None:
        raise Untranslatable("the function must end in a return")
    try:
        returned = ast.parse(found.group(1), mode="eval").body
    except SyntaxError:
        raise Untranslatable("the return does not parse") from None
    arrays = OUTPUTS[kind]
    parts = [returned] if len(arrays) == 1 else (
        returned.elts if isinstance(returned, ast.Tuple) else [])
    if len(parts) != len(arrays):
        raise Untranslatable("the return is not the tuple expected")
    for array, part in zip(arrays, parts):
        if not isinstance(part, ast.Tuple):
            raise Untranslatable("a returned part is not a tuple")
        statements += [Statement((array, k), element) for k, element in enumerate(part.elts)]
    assigned = {s.target for s in statements if isinstance(s.target, str)}
    if assigned & set(inputs) or assigned & (CONSTANTS.keys() | ONE_ARGUMENT | TWO_ARGUMENTS):
        raise Untranslatable("an input is assigned or a name shadows a function")
    temporaries = set(re.findall(r"\(\s*(\w+)\s*:=", source))
    return Function(kind, statements, inputs, temporaries)


class Expressions:
    """Writes Python expressions as C: each as (hoisted assignments, pure expression).

    A local name is written as a token ``@name@`` (and noted in ``read``), replaced
    once every statement is written and it is known where each name lives. The C is
    the same for both dialects (their macros differ): a conditional expression is a
    ``SEL`` of its branches, under a mask named by its depth (``q1``, ``q2``, ...);
    ``context`` is the C of the mask of the lanes the expression being written runs
    for (None outside every branch), which its checks and walrus assignments heed."""

    def __init__(self, locals_: set[str]) -> None:
        self.locals = locals_
        self.read: set[str] = set()
        self.assigned: list[str] = []  # every walrus name written, hoisted or in a branch
        self.context: str | None = None
        self.depth = 0

    def checked(self, value: str) -> str:
        """``value`` whose finiteness counts toward the run's flag (in its lanes only)."""
        return f"CK({value})" if self.context is None else f"CKM({value}, {self.context})"

    def mask(self, node: ast.expr) -> tuple[list[str], str]:
        """The truth of ``node`` as a mask (a comparison's own, else Python's: nonzero)."""
        if isinstance(node, ast.Compare):
            return self.comparison(node)
        hoisted, value = self.write(node)
        return hoisted, f"(({value}) != BC(0.0))"

    def comparison(self, node: ast.Compare) -> tuple[list[str], str]:
        if len(node.ops) != 1 or type(node.ops[0]) not in COMPARISONS:
            raise Untranslatable("a chained comparison or one without C")
        (left_hoisted, left), (right_hoisted, right) = self.operands(
            [node.left, node.comparators[0]])
        symbol = COMPARISONS[type(node.ops[0])]
        return left_hoisted + right_hoisted, f"({left} {symbol} {right})"

    def branch(self, node: ast.expr, context: str) -> str:
        """A branch of a conditional expression, written for the lanes of ``context``."""
        outer = self.context
        self.context = context
        try:
            return self.statement(node)
        finally:
            self.context = outer

    def statement(self, node: ast.expr) -> str:
        """The expression as one C expression, its hoisted assignments first."""
        hoisted, value = self.write(node)
        return f"({', '.join([*hoisted, value])})" if hoisted else value

    def write(self, node: ast.expr) -> tuple[list[str], str]:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise Untranslatable(f"constant {type(node.value).__name__}")
            if isinstance(node.value, int) and abs(node.value) > 2 ** 53:
                raise Untranslatable("an integer beyond a double's exact range")
            return [], constant(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                self.read.add(node.id)
                return [], f"@{node.id}@"
            if node.id in CONSTANTS:
                return [], constant(CONSTANTS[node.id])
            raise Untranslatable(f"unknown name {node.id!r}")
        if isinstance(node, ast.NamedExpr):
            hoisted, value = self.write(node.value)
            name = node.target.id
            if name not in self.locals:
                raise Untranslatable(f"unknown name {name!r}")
            if self.context is not None:  # the other lanes keep the name's value
                value = f"SEL({self.context}, {value}, @{name}@)"
            self.assigned.append(f"@{name}@")
            return [*hoisted, f"@{name}@ = {value}"], f"@{name}@"
        if isinstance(node, ast.BinOp):
            (left_hoisted, left), (right_hoisted, right) = self.operands([node.left,
                                                                          node.right])
            hoisted = left_hoisted + right_hoisted
            operator = type(node.op)
            if operator in ARITHMETIC:
                return hoisted, f"({left} {ARITHMETIC[operator]} {right})"
            if operator is ast.Div:
                return hoisted, self.checked(f"{left} / {right}")
            if operator is ast.Pow:
                return hoisted, self.checked(f"FN(pow)({left}, {right})")
            raise Untranslatable(f"operator {operator.__name__}")
        if isinstance(node, ast.UnaryOp):
            hoisted, operand = self.write(node.operand)
            if isinstance(node.op, ast.USub):
                return hoisted, f"(-{operand})"
            if isinstance(node.op, ast.UAdd):
                return hoisted, operand
            if isinstance(node.op, ast.Not):
                return hoisted, f"BOOL(({operand}) == BC(0.0))"
            raise Untranslatable(f"operator {type(node.op).__name__}")
        if isinstance(node, ast.Compare):
            hoisted, test = self.comparison(node)
            return hoisted, f"BOOL{test}"
        if isinstance(node, ast.IfExp):
            hoisted, test = self.mask(node.test)
            self.depth += 1
            try:
                mask = f"q{self.depth}"
                inside, outside = mask, f"NOT({mask})"
                if self.context is not None:
                    inside, outside = (f"({m} & {self.context})" for m in (inside, outside))
                body = self.branch(node.body, inside)
                orelse = self.branch(node.orelse, outside)
            finally:
                self.depth -= 1
            return hoisted, f"({{ MASK {mask} = {test}; SEL({mask}, ({body}), ({orelse})); }})"
        if isinstance(node, ast.Call):
            return self.call(node)
        raise Untranslatable(f"expression {type(node).__name__}")

    def operands(self, nodes: Sequence[ast.expr]) -> list[tuple[list[str], str]]:
        """Operands evaluated left to right: no operand may assign a walrus name that an
        earlier one reads, hoisted or inside a conditional's branch (their pure parts
        are evaluated after all the hoisted ones, and in no order C defines)."""
        written, assigned = [], []
        for node in nodes:
            start = len(self.assigned)
            written.append(self.write(node))
            assigned.append(set(self.assigned[start:]))
        for k, (_, value) in enumerate(written):
            if any(name in value for later in assigned[k + 1:] for name in later):
                raise Untranslatable("a walrus name reassigned after it was read")
        return written

    def call(self, node: ast.Call) -> tuple[list[str], str]:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise Untranslatable("a call of something else than a name")
        name = node.func.id
        arguments = self.operands(node.args)
        hoisted = [a for h, _ in arguments for a in h]
        values = [v for _, v in arguments]
        count = len(values)
        if name in self.locals:
            raise Untranslatable(f"a call of the local {name!r}")
        if (name in ONE_ARGUMENT and count == 1) or (name in TWO_ARGUMENTS and count == 2):
            return hoisted, self.checked(f"FN({name})({', '.join(values)})")
        if name == "pow" and count == 2:  # the builtin: float ** float
            return hoisted, self.checked(f"FN(pow)({values[0]}, {values[1]})")
        if name == "abs":
            name = "fabs"
        if name in EXACT and count == EXACT[name][1]:
            return hoisted, f"{EXACT[name][0]}({', '.join(values)})"
        if name == "float" and count == 1:
            return hoisted, f"({values[0]})"
        if name in ("max", "min") and count >= 2:
            folded = values[0]
            for value in values[1:]:
                folded = f"{name}_({folded}, {value})"
            return hoisted, folded
        raise Untranslatable(f"a call of {name!r} with {count} argument(s)")


def _resolved(parts: list[str], read: list[str], name_of: dict[str, str]) -> list[str]:
    """C split at its names (odd items), each name replaced by its C: ``p_k`` is the
    k-th name read (a shape's), any other a name itself."""
    found = parts[:]
    for i in range(1, len(found), 2):
        token = found[i]
        found[i] = name_of[read[int(token[2:])] if token.startswith("p_") else token]
    return found


class Shapes:
    """Statements translated by their shape: the text with its local names numbered in
    order of appearance (``p_0``, ``p_1``, ...). Generated code repeats a few shapes
    (every softplus node is one) thousands of times, so each is parsed and written
    once. A shape met more than once that calls a function or branches is written
    as a C function of its names (:meth:`functions`), and each statement calls it:
    the compiler then reads its body once, not at every node."""

    def __init__(self, locals_: set[str], temporaries: set[str]) -> None:
        self.locals = locals_
        self.temporaries = temporaries
        self.written: dict[str, tuple[str, int]] = {}
        self.parts: dict[str, list[str]] = {}
        self.uses: dict[str, int] = {}

    def write(self, text: str) -> tuple[list[str], list[str], str]:
        """One statement's value: its shape's C split at its names (odd items: ``p_k``,
        the k-th local name the statement reads, or a walrus name), the local names it
        reads, and its shape."""
        parts = NAMES.split(text)
        names: list[str] = []
        numbered: dict[str, str] = {}
        locals_ = self.locals
        for i in range(1, len(parts), 2):
            name = parts[i]
            if name in locals_:
                found = numbered.get(name)
                if found is None:
                    found = numbered[name] = f"p_{len(names)}"
                    names.append(name)
                parts[i] = found
        shape = "".join(parts)
        code = self.parts.get(shape)
        if code is None:
            try:
                tree = ast.parse(shape, mode="eval").body
            except SyntaxError:
                raise Untranslatable("a statement does not parse") from None
            writer = Expressions({f"p_{k}" for k in range(len(names))} | self.temporaries)
            written = writer.statement(tree)
            self.written[shape] = (written, len(names))
            code = self.parts[shape] = written.split("@")
        self.uses[shape] = self.uses.get(shape, 0) + 1
        return code, names, shape

    def functions(self, temporaries: dict[str, str]) -> dict[str, tuple[str, str]]:
        """C of the shapes worth a function: shape -> (name, definition); ``temporaries``
        names the walrus names in C."""
        found: dict[str, tuple[str, str]] = {}
        for shape, (code, count) in self.written.items():
            if self.uses[shape] < 2 or not ("SEL(" in code or len(CHECKS.findall(code)) > 1):
                continue
            name = f"s{len(found)}"
            parameters = ", ".join([*(f"NUM p_{k}" for k in range(count)), "NUM *out"])
            body = re.sub(r"@(\w+)@", lambda m: temporaries.get(m.group(1), m.group(1)), code)
            used = ", ".join(sorted(set(re.findall(r"\bt\d+\b", body))))
            declared = f"    NUM {used.replace(',', ' = BC(0.0),')} = BC(0.0);\n" if used else ""
            found[shape] = (name, f"__attribute__((noinline)) static NUM {name}("
                            f"{parameters}) {{\n    NUM check = BC(0.0);\n{declared}"
                            f"    NUM value = {body};\n    *out += check;\n"
                            f"    return value;\n}}")
        return found


def translate(source: str, chunk: int = CHUNK, lanes: bool = False,
              use_mvec: bool = False) -> str:
    """C source of ``source`` (one function of scalar straight-line code): a function
    ``int run(R, U, KI, W, KO, SK, x, n)`` over n examples, returning 1 if a checked
    result was not finite (see the module docstring), its number of scratch doubles
    as ``long slots(void)`` and the examples it runs at once as ``long lanes(void)``
    (1, or with ``lanes`` the lanes dialect's, by which n must then divide; ``use_mvec``
    lets it call glibc's vector math). Raises :class:`Untranslatable`."""
    return translate_units(source, 1, chunk, lanes, use_mvec)[0]


def translate_units(source: str, units: int, chunk: int = CHUNK, lanes: bool = False,
                    use_mvec: bool = False) -> list[str]:
    """:func:`translate`'s C as up to ``units`` files that compile apart (in parallel)
    and link into one library: the chunk functions shared out among them, the last
    one holding ``run``."""
    function = parse(source)
    statements = function.statements
    temporaries = {name: f"t{k}" for k, name in enumerate(sorted(function.temporaries))}
    names = {s.target for s in statements if isinstance(s.target, str)} | set(function.inputs)
    shapes = Shapes(names, set(temporaries))
    tree_writer = Expressions(names | set(temporaries))
    if any(name.startswith("p_") for name in names):
        raise Untranslatable("a local name like the shapes' own (p_0, p_1, ...)")
    written: list[tuple[str | tuple[str, int], list[str], list[str], str]] = []
    for statement in statements:
        if isinstance(statement.value, str):
            code, read, key = shapes.write(statement.value)
        else:
            tree_writer.read = set()
            code = tree_writer.statement(statement.value).split("@")
            read, key = sorted(tree_writer.read), ""
        written.append((statement.target, code, read, key))
    functions = shapes.functions(temporaries)
    chunks = [written[start:start + chunk] for start in range(0, len(written), chunk)]
    home: dict[str, int] = {}
    for c, part in enumerate(chunks):
        for target, _, _, _ in part:
            if isinstance(target, str):
                home[target] = c
    # a name assigned again (a long sum, added up in steps) lives in x, as does one
    # read in another chunk than its own
    assigned = [s.target for s in statements if isinstance(s.target, str)]
    crossing = {name for name, count in Counter(assigned).items() if count > 1}
    for c, part in enumerate(chunks):
        for _, _, read, _ in part:
            crossing.update(name for name in read if home.get(name, c) != c)
    slots = {name: k for k, name in enumerate(sorted(crossing, key=lambda s: (len(s), s)))}
    base: dict[str, str] = {name: f"AT({array}, {k})"
                            for name, (array, k) in function.inputs.items()}
    base.update((name, f"XS({k})") for name, k in slots.items())
    base.update(temporaries)
    dialect = lanes_math(use_mvec) if lanes else SCALAR
    head = "\n".join([PRELUDE + dialect,
                      *(definition for _, definition in functions.values())])
    bodies = []
    for c, part in enumerate(chunks):
        local = [target for target, _, _, _ in part if isinstance(target, str)
                 and target not in slots]
        name_of = dict(base)
        name_of.update((name, f"l{k}") for k, name in enumerate(local))

        lines = [f"CHUNK int chunk{c}(ARGS) {{", "    NUM check = BC(0.0);"]
        if temporaries:
            lines.append(f"    NUM {' = BC(0.0), '.join(temporaries.values())} = BC(0.0);")
        for target, code, read, key in part:
            called = functions.get(key)
            if called is not None:
                value = f"{called[0]}({', '.join([*(name_of[r] for r in read), '&check'])})"
            else:
                value = "".join(_resolved(code, read, name_of))
            if isinstance(target, tuple):
                lines.append(f"    AT({target[0]}, {target[1]}) = {value};")
            elif target in slots:
                lines.append(f"    {name_of[target]} = {value};")
            else:
                lines.append(f"    NUM {name_of[target]} = {value};")
        lines += ["    return FLAGGED(check);", "}"]
        bodies.append("\n".join(lines))
    calls = "".join(f"        bad |= chunk{c}(R, U, KI, W, KO, SK, x, n, j);\n"
                    for c in range(len(chunks)))
    main = (f"long slots(void) {{ return {max(len(slots), 1)} * LANES; }}\n"
            "long lanes(void) { return LANES; }\n"
            "int run(const double *R, const double *U, const double *KI, double *W, "
            "double *KO, double *SK, double *x, long n) {\n"
            "    int bad = 0;\n"
            "    for (long j = 0; j < n && !bad; j += LANES) {\n"
            f"{calls}"
            "    }\n"
            "    return bad;\n"
            "}\n")
    units = max(1, min(units, len(bodies)))
    if units == 1:
        return ["\n".join([head, *bodies, main])]
    share = -(-len(bodies) // units)
    files = ["\n".join([head, *bodies[start:start + share]]) + "\n"
             for start in range(0, len(bodies), share)]
    declared = "".join(f"CHUNK int chunk{c}(ARGS);\n" for c in range(len(bodies)))
    files[-1] += declared + main
    return files
