"""Straight-line code: a run of a traced program's nodes as one Python function.

Where a program's levels hold few nodes (a graph of scalar ops wired irregularly),
a group of like nodes is one node or two, and the NumPy calls a group makes cost
far more than the arithmetic. This module writes such nodes out as Python source
instead, one statement per node, over local variables, and compiles it once
(``compile``, then ``exec``):

- **scalar** code runs one example, on floats: each node's forward is its row's
  scalar expression (``Op.template``, e.g. ``v7 = exp(v3)`` with ``math.exp``),
  or a call of the row's forward where the row gives none;
- **vector** code runs the whole batch at once: the same statements over the
  columns of the batch (NumPy arrays), from the rows' vector expressions.

The backward pass is written the same way, in reverse (reverse accumulation into
local variables): node c's gradient is one statement,

    g_c = sum over the nodes u that read c, and each position p at which u reads c,
          of g_u * d u / d x_p,

written once every reader's gradient is known. Each partial derivative is the
row's own rule, read as an expression graph by :mod:`autograd_scalar.tape.rules`
and written with the rows' expressions: a constant partial 1 adds g_u itself (a
sum's operands), a zero adds nothing, and an expression already computed is not
computed again (value numbering: the rule of ``logsumexp``, exp(x_i - out), is
the softmax the forward already made when the graph computes it). Everything
comes from the rows: no op is known here by name.

A segment of the program is read from and written to the tape's arrays at its
edges (:mod:`autograd_scalar.tape.layout`), so it runs between grouped steps as
one more step (:class:`Code`); a program that is all one segment runs forward and
backward in one call. Scalar code follows Python's float arithmetic, which raises
where IEEE arithmetic gives inf or NaN (``math.log(-1)``, ``1 / 0``): a scalar run
that raises so is run again by the tape with NumPy, which gives the IEEE results (or
the row's own error), so the results never depend on which code ran.

A zero partial derivative sends exactly 0 back, even against an infinite or NaN
gradient (IEEE's 0 * inf is NaN), as the eager loop and the grouped steps do. The
code multiplies plainly, and only where a run's gradients hold a NaN is it run
again by a careful variant (``careful``), whose terms are :func:`times_scalar` or
:func:`times_vector`: the fast path keeps its speed and the results agree with
eager to the bit.

A segment's scalar code may also run compiled to machine code: its Python source
translated into C (:mod:`autograd_scalar.tape.translate`), built and loaded
(:mod:`autograd_scalar.tape.native`) when ``Tape.native`` says so. The compiled
function reads the operands gathered into one array (reads, n) and writes the values
and the gradients sent into arrays the Python side puts in place as the scalar code's
results are put, so the numbers are the scalar code's to the bit; a run it flags (a
math call, division or power that was not finite, where Python may have raised) or
whose gradients hold a NaN runs as Python instead.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..ops import Op
from .groups import times
from .layout import Layout, SharedArrays
from .native import UNITS, Kernel, Kernels, default_policy
from .numeric import numeric_rule
from .program import Program
from .rules import Ref, derive
from .translate import translate, translate_units

SCALAR_NAMES: dict[str, Any] = {name: getattr(math, name) for name in dir(math)
                                if not name.startswith("_")}
"""What scalar expressions may call besides Python's builtins: ``math``, by name."""

VECTOR_NAMES: dict[str, Any] = {"np": np, "inf": math.inf, "nan": math.nan}
"""What vector expressions may use: NumPy as ``np``, and ``inf`` and ``nan``."""

LONGEST = 256
"""The most terms one expression sums: Python's compiler recurses once per operator of
a sum, and a few thousand (an L2 term over a network's weights) exhaust its stack."""

Node = tuple[int, Op, list[int]]
"""A node of a program: its index, its row and its operands' indices."""


FLOAT_ERRORS = (ArithmeticError, ValueError)
"""What Python's float arithmetic and ``math`` raise where IEEE gives inf or NaN (and a
row's domain check raises outside its domain): scalar code that raises one of these
is run again with NumPy."""


def times_scalar(upstream: float, partial: float) -> float:
    """upstream * partial, but exactly 0.0 where the partial is 0 and the product NaN."""
    product = upstream * partial
    return 0.0 if product != product and partial == 0 else product


def times_vector(upstream: Any, partial: Any) -> Any:
    """:func:`times_scalar` on arrays (:func:`autograd_scalar.tape.groups.times`)."""
    return times(partial, upstream)


_add_all = np.add.reduce


def has_nan(*sums: Any) -> bool:
    """Whether some of the arrays (or numbers) holds a NaN: one sum each (an overflow to
    inf - inf only sends the run to the careful variant, which gives the same). The
    ufunc's reduce is called directly: ``np.sum``'s wrapper costs more than a short
    array's sum, and a segment checks a hundred arrays and more at every run."""
    total = 0.0
    for x in sums:
        total += _add_all(x, None) if type(x) is np.ndarray else x
    return bool(total != total)


class CodeFallback(Exception):
    """Scalar code raised one of :data:`FLOAT_ERRORS`: the tape runs the batch again
    with NumPy (the caller catches this; the original exception is its ``__cause__``)."""


def program_nodes(program: Program, groups: Sequence[int]) -> list[Node]:
    """The nodes of the program's groups ``groups`` (indices into ``program.groups``),
    in that order."""
    found: list[Node] = []
    for g in groups:
        group = program.groups[g]
        row = group.row
        found.extend(zip(range(group.nodes.start, group.nodes.stop), itertools.repeat(row),
                         group.children.T.tolist()))
    return found


def _literal(value: float) -> str:
    """A float as Python source (``inf`` and ``nan`` are names in both namespaces)."""
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


def _checked(row: Op) -> Callable[..., float]:
    """The row's scalar forward, its domain check first (a row without a template)."""
    scalar, check = row.scalar, row.check
    assert check is not None

    def checked(*xs: float) -> float:
        error = check(*xs)
        if error is not None:
            raise error
        return scalar(*xs)

    return checked


@dataclass
class Writer:
    """What one function's source calls (bound under names ``F0``, ``F1``, ...) and its
    temporaries' count."""

    vector: bool
    careful: bool = False
    names: dict[str, Any] = field(default_factory=dict)
    bound: dict[int, str] = field(default_factory=dict)
    count: int = 0

    def bind(self, function: Callable[..., Any]) -> str:
        """A name under which the code calls ``function``."""
        name = self.bound.get(id(function))
        if name is None:
            name = self.bound[id(function)] = f"F{len(self.bound)}"
            self.names[name] = function
        return name

    def temporary(self) -> str:
        self.count += 1
        return f"d{self.count}"

    def expression(self, row: Op, operands: Sequence[str]) -> str:
        """``row`` applied to the named operands: its template, or a call of its forward
        (for a row without one, or with more than :data:`LONGEST` operands)."""
        template = row.template[1 if self.vector else 0]
        if template and len(operands) <= LONGEST:
            return template(*operands) if callable(template) else template.format(*operands)
        function = row.vector if self.vector else (
            row.scalar if row.check is None else _checked(row))
        return f"{self.bind(function)}({', '.join(operands)})"


class Segment:
    """Nodes of a program written as straight-line code, and their edges.

    ``nodes`` are in an order where every node follows its operands. ``upstream``:
    the nodes whose gradient also comes from outside the segment (outputs, nodes
    other steps read). ``needs[with_inputs][i]``: whether index i's gradient is
    wanted (it leads to a shared leaf, or to a placeholder when the gradients with
    respect to the inputs are asked for). ``invariant[i]``: index i is the same for
    every example (vector code keeps it, and its gradient's batch sum, as one number).

    ``reads`` are the indices the nodes read from outside: per-example rows first,
    then invariant rows (column 0), then shared leaves, each in the order first read.
    """

    def __init__(self, nodes: list[Node], layout: Layout, invariant: np.ndarray,
                 upstream: frozenset[int], needs: tuple[np.ndarray, np.ndarray]) -> None:
        self.nodes = nodes
        self.layout = layout
        self.invariant = invariant
        self.upstream = upstream
        self.needs = needs
        inside = {i for i, _, _ in nodes}
        touched = inside.union(*(kids for _, _, kids in nodes))
        # plain containers: the writer asks about every node several times
        self._once = {i for i in touched if invariant[i]}
        self._needs = tuple({i for i in touched if wanted[i]} for wanted in needs)
        found = dict.fromkeys(c for _, _, kids in nodes for c in kids if c not in inside)
        by_kind: dict[str, list[int]] = {"row": [], "once": [], "shared": []}
        for c in found:
            by_kind[self.kind(c)].append(c)
        self.reads = by_kind["row"] + by_kind["once"] + by_kind["shared"]
        self.counts = {kind: len(indices) for kind, indices in by_kind.items()}

    # -- where the edges live ----------------------------------------------

    def kind(self, i: int) -> str:
        """"shared" (a shared leaf), "once" (an invariant interior node: column 0 holds
        it) or "row" (a per-example row)."""
        layout = self.layout
        if layout.first_shared <= i < layout.first_interior:
            return "shared"
        return "once" if i in self._once else "row"

    # -- writing -----------------------------------------------------------

    def source(self, vector: bool, kind: str, with_inputs: bool = False,
               everything: bool = False, careful: bool = False) -> tuple[str, dict[str, Any]]:
        """Python source defining one function, and the names it calls.

        ``kind``: "forward" (the values other steps and the outputs read, or every
        value with ``everything``: scalar code returns them, vector code writes
        them into ``V``), "saved" (those, and the values its backward reads),
        "backward" (from those and the upstream gradients, the gradient sent to
        each operand read from outside: scalar code returns them, vector code adds
        them into ``G`` and ``SG``) or "both" (forward and backward in one call).

        ``careful``: each gradient term is 0 where its partial is 0 (see the module
        docstring). Fast vector code returns True, having added nothing, where a
        gradient it would add holds a NaN: the caller then runs the careful variant.
        """
        if kind not in ("forward", "saved", "backward", "both"):
            raise ValueError(f"no code of kind {kind!r}")
        writer = Writer(vector, careful=careful)
        cse: dict[tuple[Any, ...], str] = {}
        forward = self._forward(writer, cse)
        nodes = [i for i, _, _ in self.nodes]
        written = [f"v{i}" for i in nodes if everything or i in self.upstream]
        kept = self.kept if kind in ("saved", "backward") else []
        if vector:
            return self._vector(writer, cse, kind, forward, written, kept, with_inputs)
        unpack = [f"{_targets(f'v{i}' for i in self.reads)} = r"] if self.reads else []
        if kind == "forward":
            lines = ["def forward(r):", *_indent([*unpack, *forward, f"return {_tuple(written)}"])]
            return "\n".join(lines) + "\n", writer.names
        upstream = [f"u{i}" for i in nodes if i in self.upstream]
        take = [f"{_targets(upstream)} = u"] if upstream else []
        if kind == "both":
            backward, _, sinks = self._backward(writer, cse, with_inputs)
            lines = ["def both(r, u):", *_indent([*unpack, *forward, *take, *backward,
                                                  f"return {_tuple(written)}, {_tuple(sinks)}"])]
            return "\n".join(lines) + "\n", writer.names
        if kind == "saved":
            lines = ["def saved(r):", *_indent([*unpack, *forward,
                                                f"return {_tuple(written)}, {_tuple(kept)}"])]
            return "\n".join(lines) + "\n", writer.names
        backward, _, sinks = self._backward(writer, cse, with_inputs)
        restore = [f"{_targets(kept)} = s"] if kept else []
        lines = ["def backward(s, u):", *_indent([*restore, *take, *backward,
                                                  f"return {_tuple(sinks)}"])]
        return "\n".join(lines) + "\n", writer.names

    def _vector(self, writer: Writer, cse: dict[tuple[Any, ...], str], kind: str,
                forward: list[str], written: list[str], kept: list[str], with_inputs: bool
                ) -> tuple[str, dict[str, Any]]:
        """Vector code: operands read from ``V`` (rows, n) and ``S`` (shared leaves), values
        written back to ``V``, gradients read from and added into ``G`` and ``SG``."""
        row = self.layout.row
        reads = self._vector_reads(self.reads)
        # per-example values are in V already (see _assign): only invariant ones to store
        outside = {f"v{i}" for i in self.reads}
        wanted = written if kind != "saved" else [*written, *(
            name for name in kept if name not in outside and name not in written)]
        stores = [f"V[{row(int(name[1:]))}] = {name}" for name in wanted
                  if int(name[1:]) in self._once]
        if kind in ("forward", "saved"):
            lines = [f"def {kind}(V, S):", *reads, *_indent([*forward, *stores, "return None"])]
            return "\n".join(lines) + "\n", writer.names
        backward, _, sinks = self._backward(writer, cse, with_inputs)
        if kind == "both":
            lines = ["def both(V, S, G, SG):", *reads,
                     *_indent([*forward, *stores, *backward, *sinks, "return None"])]
            return "\n".join(lines) + "\n", writer.names
        loads = self._vector_reads([int(name[1:]) for name in kept])
        lines = ["def backward(V, S, G, SG):", *loads,
                 *_indent([*backward, *sinks, "return None"])]
        return "\n".join(lines) + "\n", writer.names

    @cached_property
    def kept(self) -> list[str]:
        """The values a separate backward reads, with or without the inputs' gradients
        (those with them: a superset), so that "saved" and "backward" agree."""
        writer = Writer(False)
        cse: dict[tuple[Any, ...], str] = {}
        self._forward(writer, cse)
        _, used, _ = self._backward(writer, cse, True)
        return [name for name in (f"v{i}" for i in [*self.reads, *(j for j, _, _ in self.nodes)])
                if name in used]

    def _vector_reads(self, indices: Sequence[int]) -> list[str]:
        """Statements reading indices in vector code: rows, column 0, shared numbers."""
        found = []
        layout = self.layout
        for i in indices:
            kind = self.kind(i)
            if kind == "shared":
                found.append(f"    v{i} = S[{i - layout.first_shared}]")
            elif kind == "once":
                found.append(f"    v{i} = V[{layout.row(i)}, 0]")
            else:
                found.append(f"    v{i} = V[{layout.row(i)}]")
        return found

    def _forward(self, writer: Writer, cse: dict[tuple[Any, ...], str]) -> list[str]:
        """One statement per node: ``v<i> = <its row's expression>``; a node equal to an
        earlier one (same row, same operands) takes its value."""
        lines: list[str] = []
        for i, row, kids in self.nodes:
            operands = tuple(f"v{c}" for c in kids)
            key = (row, operands)
            same = cse.get(key)
            if same is None:
                cse[key] = f"v{i}"
            lines += self._assign(writer, "v", i, same or writer.expression(row, operands))
        return lines

    def _assign(self, writer: Writer, prefix: str, i: int, expression: str) -> list[str]:
        """``v<i> = ...`` (a value) or ``g<i> = ...`` (a gradient). Vector code assigns a
        per-example node's array into its row of ``V`` or ``G`` and names that row:
        every large array then lives in the tape's two arrays, reused run after run,
        and each temporary is freed (and its memory reused) at once."""
        if not writer.vector or i in self._once:
            return [f"{prefix}{i} = {expression}"]
        where = f"{'V' if prefix == 'v' else 'G'}[{self.layout.row(i)}]"
        return [f"{where} = {expression}", f"{prefix}{i} = {where}"]

    def _backward(self, writer: Writer, cse: dict[tuple[Any, ...], str], with_inputs: bool
                  ) -> tuple[list[str], set[str], list[str]]:
        """The gradient statements in reverse, the names of values they read, and the
        gradient sent to each outside operand (scalar: expressions, in ``sinks`` order;
        vector: statements adding into ``G`` and ``SG``)."""
        needs = self._needs[with_inputs]
        vector = writer.vector
        careful = writer.careful and writer.bind(times_vector if vector else times_scalar)
        invariant = self._once
        readers: dict[int, list[tuple[int, int]]] = {}
        for i, _, kids in self.nodes:
            for position, c in enumerate(kids):
                readers.setdefault(c, []).append((i, position))
        lines: list[str] = []
        partials: dict[int, list[str | None]] = {}
        used: set[str] = set()

        def terms_for(c: int) -> list[tuple[str, str]]:
            """(sign, term) for each contribution to c's gradient, latest reader first."""
            found: list[tuple[str, str]] = []
            once = vector and c in invariant
            for u, position in reversed(readers.get(c, ())):
                made = partials.get(u)
                if made is None:
                    continue
                partial = made[position]
                if partial is None:
                    continue
                sign, term = "+", f"g{u}"
                if partial == "1.0":
                    pass
                elif partial == "(-1.0)":
                    sign = "-"
                elif careful:
                    term = f"{careful}(g{u}, {partial})"
                else:
                    term = f"g{u} * {partial}"
                if once and u not in invariant:
                    term = f"({term}).sum()"
                found.append((sign, term))
            return found

        for i, row, kids in reversed(self.nodes):
            if i not in needs:
                continue
            terms = terms_for(i)
            if i in self.upstream:
                if vector:
                    read = f"G[{self.layout.row(i)}]"
                    terms.insert(0, ("+", f"{read}.sum()" if i in invariant else read))
                else:
                    terms.insert(0, ("+", f"u{i}"))
            if not terms:
                continue
            first, *rest = _chunks(terms)
            # an upstream gradient's row is read, not overwritten: a careful run reads it again
            local = i in self.upstream
            lines += [f"g{i} = {first}"] if local else self._assign(writer, "g", i, first)
            for chunk in rest:  # a long sum, in statements Python's compiler takes
                if vector and i not in invariant and not local:
                    lines.append(f"G[{self.layout.row(i)}] += {chunk}")
                else:
                    lines.append(f"g{i} = g{i} + ({chunk})")
            partials[i] = self._partials(writer, cse, lines, used, i, row, kids, needs)
        sinks: list[str] = []
        layout = self.layout
        for c in self.reads:
            if c not in needs:
                if not vector:
                    sinks.append("0.0")
                continue
            terms = terms_for(c)
            if not vector:
                if len(terms) <= LONGEST:
                    sinks.append(_sum(terms) if terms else "0.0")
                    continue
                name = writer.temporary()
                first, *rest = _chunks(terms)
                lines += [f"{name} = {first}", *(f"{name} = {name} + ({chunk})"
                                                 for chunk in rest)]
                sinks.append(name)
                continue
            kind = self.kind(c)
            target = (f"SG[{c - layout.first_shared}]" if kind == "shared" else
                      f"G[{layout.row(c)}, 0]" if kind == "once" else f"G[{layout.row(c)}]")
            if careful:
                lines += [f"{target} += {chunk}" for chunk in _chunks(terms)]
                continue
            for chunk in _chunks(terms):  # added once none holds a NaN
                name = writer.temporary()
                lines.append(f"{name} = {chunk}")
                sinks.append(f"{target} += {name}")
        if vector and sinks:
            names = [line.split(" += ")[1] for line in sinks]
            lines.append(f"if {writer.bind(has_nan)}({', '.join(names)}):")
            lines.append("    return True")
        return lines, used, sinks

    def _partials(self, writer: Writer, cse: dict[tuple[Any, ...], str], lines: list[str],
                  used: set[str], u: int, row: Op, kids: list[int], needs: set[int]
                  ) -> list[str | None]:
        """Node u's partial derivatives as expressions (None where none is needed or
        it is zero), writing the statements of its rule's steps they use; the values
        they read are added to ``used``."""
        rule = derive(row, len(kids))
        if rule.opaque:  # perhaps readable as it runs on numbers
            rule = numeric_rule(row, len(kids)) or rule
        operands = [f"v{c}" for c in kids]
        wanted = [c in needs for c in kids]
        if rule.opaque:
            if not any(wanted):
                return [None] * len(kids)
            name = writer.temporary()
            function = writer.bind(row.derivatives)
            used.update(operands)
            used.add(f"v{u}")
            lines.append(f"{name} = {function}({', '.join([*operands, f'v{u}'])})")
            return [f"{name}[{p}]" if wanted[p] else None for p in range(len(kids))]
        made: dict[int, str] = {}

        def expression(ref: Ref) -> str:
            kind, value = ref
            if kind == "const":
                return _literal(value)
            if kind == "in" or kind == "out":
                name = operands[int(value)] if kind == "in" else f"v{u}"
                used.add(name)
                return name
            j = int(value)
            if j not in made:
                step_row, refs = rule.steps[j]
                arguments = tuple(expression(r) for r in refs)
                key = (step_row, arguments)
                found = cse.get(key)
                if found is None:
                    found = cse[key] = writer.temporary()
                    lines.append(f"{found} = {writer.expression(step_row, arguments)}")
                elif found.startswith("v"):  # a node's own value, computed by the forward
                    used.add(found)
                made[j] = found
            return made[j]

        return [expression(ref) if ref is not None and wanted[p] else None
                for p, ref in enumerate(rule.partials)]


def _chunks(terms: Sequence[tuple[str, str]]) -> list[str]:
    """The terms as sums of at most :data:`LONGEST` terms each (none for no terms)."""
    return [_sum(terms[start:start + LONGEST]) for start in range(0, len(terms), LONGEST)]


def _sum(terms: Sequence[tuple[str, str]]) -> str:
    """The terms as one sum, in order: "a + b - c"."""
    first_sign, first = terms[0]
    text = f"-{first}" if first_sign == "-" else first
    for sign, term in terms[1:]:
        text += f" {sign} {term}"
    return text


def _indent(lines: Sequence[str]) -> list[str]:
    return [f"    {line}" for line in lines]


def _tuple(items: Any) -> str:
    """Python source of a tuple of these expressions: "(a, b)", "(a,)" or "()"."""
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _targets(items: Any) -> str:
    """Python source of names to unpack into: "a, b" or "a,"."""
    items = list(items)
    return f"{items[0]}," if len(items) == 1 else ", ".join(items)


def compile_function(source: str, names: dict[str, Any], vector: bool, filename: str
                     ) -> Callable[..., Any]:
    """Compile ``source`` (one ``def``) with the namespace its expressions call."""
    namespace = dict(VECTOR_NAMES if vector else SCALAR_NAMES)
    namespace.update(names)
    exec(compile(source, filename, "exec"), namespace)
    function_name = source[4:source.index("(")]
    function: Callable[..., Any] = namespace[function_name]
    return function


@dataclass
class NativeSaved:
    """What a compiled forward keeps for its backward: the saved values, (kept, n)."""

    kept: np.ndarray


class Code:
    """A segment of the program as one step of a run (see the module docstring).

    ``strategy`` is "scalar" (a loop over the examples, each a call of float code)
    or "vector" (one call over the batch's columns). The functions are written and
    compiled when a run first needs them, and kept.
    """

    def __init__(self, segment: Segment, vector: bool, owner: Any = None) -> None:
        self.segment = segment
        self.owner = owner
        self.vector = vector
        self.strategy = "vector" if vector else "scalar"
        self.size = len(segment.nodes)
        layout = segment.layout
        self.first = segment.nodes[0][0]
        self.last = segment.nodes[-1][0]
        self._functions: dict[tuple[str, bool, bool, bool], Callable[..., Any]] = {}
        # scalar code reads its operands as one list per example, in the order of
        # ``segment.reads``: per-example rows, invariant rows (column 0), shared leaves
        reads, counts = segment.reads, segment.counts
        rows, once = counts["row"], counts["row"] + counts["once"]
        self._rows = np.array([layout.row(i) for i in reads[:rows]], dtype=np.intp)
        self._once = np.array([layout.row(i) for i in reads[rows:once]], dtype=np.intp)
        self._shared = np.array([i - layout.first_shared for i in reads[once:]], dtype=np.intp)
        self._sink_rows = np.array([layout.row(i) for i in reads[:once]], dtype=np.intp)
        self._sink_count = once
        nodes = [i for i, _, _ in segment.nodes]
        self.upstream_rows = np.array([layout.row(i) for i in nodes if i in segment.upstream],
                                       dtype=np.intp)
        self._write_rows = self.upstream_rows
        self._all_rows = np.array([layout.row(i) for i in nodes], dtype=np.intp)
        self._internal_rows = np.array([layout.row(i) for i in nodes
                                        if i not in segment.upstream], dtype=np.intp)
        self.kernels = Kernels(self.native_sources, self.size)

    # -- machine code ----------------------------------------------------------

    @property
    def policy(self) -> str:
        """When to compile to machine code: the owner's ``native`` (a Tape's), else
        ``AUTOGRAD_SCALAR_NATIVE`` (see :mod:`autograd_scalar.tape.native`)."""
        found = getattr(self.owner, "native", None)
        return default_policy() if found is None else found

    def native_sources(self, key: tuple[str, bool, bool]) -> list[str]:
        """The C of one function, as files to compile apart: its scalar code (the fast
        variant) translated."""
        kind, with_inputs, everything = key
        return translate_units(self.segment.source(False, kind, with_inputs, everything)[0],
                               UNITS)

    def native_source(self, kind: str, with_inputs: bool = False,
                      everything: bool = False) -> str:
        """The C source of one of its functions (see :mod:`autograd_scalar.tape.translate`)."""
        return translate(self.segment.source(False, kind, with_inputs, everything)[0])

    def kernel(self, kind: str, with_inputs: bool, everything: bool) -> Kernel | None:
        """The compiled function, if there is one (or the policy builds it now).

        Compiled code computes as scalar code does, to the bit. For vector code that is
        the same numbers to rounding only (NumPy's math functions are not the C
        library's), so "auto", which switches when timing says so, compiles scalar
        code only: no result then depends on when the switch came."""
        policy = self.policy
        if policy == "off" or (policy == "auto" and self.vector):
            return None
        return self.kernels.get((kind, with_inputs, everything), policy)

    def _paid(self, kind: str, with_inputs: bool, everything: bool, started: float) -> None:
        """Count a Python run toward compiling its function (see ``Kernels``)."""
        self.kernels.pay((kind, with_inputs, everything), time.perf_counter() - started)

    def _reads(self, values: np.ndarray, shared: SharedArrays) -> np.ndarray:
        """The operands read from outside, (reads, n) in float64: what a kernel reads."""
        n = values.shape[1]
        found = np.empty((len(self.segment.reads), n))
        rows = len(self._rows)
        once = rows + len(self._once)
        if rows:
            found[:rows] = values[self._rows]
        if once > rows:
            found[rows:once] = values[self._once, 0][:, None]
        if len(self._shared):
            found[once:] = shared.data[self._shared][:, None]
        return found

    def _upstream(self, grads: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(grads[self.upstream_rows], dtype=np.float64)

    def _written(self, everything: bool) -> np.ndarray:
        return self._all_rows if everything else self._write_rows

    def _native_both(self, kernel: Kernel, values: np.ndarray, grads: np.ndarray,
                     shared: SharedArrays, everything: bool) -> bool:
        """Forward and backward by the kernel; False (nothing written) if it was flagged
        or a gradient sent is NaN (the Python code then runs)."""
        n = values.shape[1]
        rows = self._written(everything)
        W = np.empty((len(rows), n))
        SK = np.empty((len(self.segment.reads), n))
        if kernel(n, R=self._reads(values, shared), U=self._upstream(grads), W=W, SK=SK) \
                or has_nan(SK):
            return False
        if len(rows):
            values[rows] = W
        self._send(SK, grads, shared)
        return True

    def source(self, kind: str, with_inputs: bool = False, everything: bool = False,
               careful: bool = False) -> str:
        """The Python source of one of its functions (see :meth:`Segment.source`)."""
        return self.segment.source(self.vector, kind, with_inputs, everything, careful)[0]

    def function(self, kind: str, with_inputs: bool = False, everything: bool = False,
                 careful: bool = False) -> Callable[..., Any]:
        """One of its functions, compiled on first use and kept."""
        key = (kind, with_inputs, everything, careful)
        found = self._functions.get(key)
        if found is None:
            source, names = self.segment.source(self.vector, kind, with_inputs, everything,
                                                careful)
            found = self._functions[key] = compile_function(
                source, names, self.vector, f"<tape {self.strategy} code {kind}>")
        return found

    def owned_rows(self, with_inputs: bool) -> list[Any]:
        """Gradient rows no one needs zeroed: the nodes whose gradients stay in the code's
        local variables (those other steps read come in ``G``, and are zeroed)."""
        return [self._internal_rows]

    # -- scalar code ---------------------------------------------------------

    def operands(self, values: np.ndarray, shared: SharedArrays) -> list[list[float]]:
        """Each example's operands, as scalar code unpacks them."""
        fixed = values[self._once, 0].tolist() + shared.data[self._shared].tolist()
        if not len(self._rows):
            return [fixed] * values.shape[1]
        return [column + fixed for column in values[self._rows].T.tolist()]

    def run(self, values: np.ndarray, shared: SharedArrays, full: bool,
            batch: Sequence[np.ndarray], everything: bool = False) -> Any:
        """The forward: write the values other steps and the outputs read (every value
        with ``everything``); return what the backward needs (scalar code: each
        example's saved values; vector code keeps them in ``values``)."""
        kernel = self.kernel("saved", False, everything)
        if kernel is not None:
            n = values.shape[1]
            rows = self._written(everything)
            W = np.empty((len(rows), n))
            kept = np.empty((len(self.segment.kept), n))
            if not kernel(n, R=self._reads(values, shared), W=W, KO=kept):
                if len(rows):
                    values[rows] = W
                return NativeSaved(kept)
        started = time.perf_counter()
        saved = self._python_run(values, shared, everything)
        self._paid("saved", False, everything, started)
        return saved

    def _python_run(self, values: np.ndarray, shared: SharedArrays, everything: bool) -> Any:
        if self.vector:
            self.function("saved", everything=everything)(values, shared.data)
            return None
        function = self.function("saved", everything=everything)
        try:
            results = [function(r) for r in self.operands(values, shared)]
        except FLOAT_ERRORS as error:
            raise CodeFallback(str(error)) from error
        rows = self._written(everything)
        if len(rows):
            values[rows] = np.array([written for written, _ in results]).T
        return [kept for _, kept in results]

    def backward(self, saved: Any, values: np.ndarray, grads: np.ndarray,
                 shared: SharedArrays, with_inputs: bool) -> None:
        """Add the gradients sent to the operands read from outside: into ``grads`` per
        example, into the shared leaves' batch sums."""
        kernel = self.kernel("backward", with_inputs, False)
        if kernel is not None and (isinstance(saved, NativeSaved) or
                                   (saved is not None and len(saved) and len(saved[0]))):
            n = values.shape[1]
            kept = saved.kept if isinstance(saved, NativeSaved) else np.array(saved).T
            SK = np.empty((len(self.segment.reads), n))
            if not kernel(n, U=self._upstream(grads), KI=np.ascontiguousarray(kept), SK=SK) \
                    and not has_nan(SK):
                self._send(SK, grads, shared)
                return
        if isinstance(saved, NativeSaved):  # the Python backward reads the Python forward's
            saved = self._python_run(values, shared, False)
        started = time.perf_counter()
        self._python_backward(saved, values, grads, shared, with_inputs)
        self._paid("backward", with_inputs, False, started)

    def _python_backward(self, saved: Any, values: np.ndarray, grads: np.ndarray,
                         shared: SharedArrays, with_inputs: bool) -> None:
        if self.vector:
            if self.function("backward", with_inputs)(values, shared.data, grads, shared.grad):
                self.function("backward", with_inputs, careful=True)(
                    values, shared.data, grads, shared.grad)
            return
        n = values.shape[1]
        upstream = (grads[self.upstream_rows].T.tolist() if len(self.upstream_rows)
                    else [[]] * n)
        careful = False
        while True:
            function = self.function("backward", with_inputs, careful=careful)
            try:
                sent = np.array([function(kept, u) for kept, u in zip(saved, upstream)])
            except FLOAT_ERRORS as error:
                raise CodeFallback(str(error)) from error
            if careful or not np.isnan(sent).any():
                break
            careful = True
        self._send(sent.reshape(n, -1).T, grads, shared)

    def _send(self, sent: np.ndarray, grads: np.ndarray, shared: SharedArrays) -> None:
        """Add the gradients sent to outside operands (operands, n) into the arrays."""
        count = self._sink_count
        if count:
            grads[self._sink_rows] += sent[:count]
        if len(self._shared):
            shared.grad[self._shared] += sent[count:].sum(axis=1)

    def both(self, values: np.ndarray, grads: np.ndarray, shared: SharedArrays,
             with_inputs: bool, everything: bool) -> None:
        """Forward and backward in one call (per example, for scalar code): the plan's
        only step."""
        kernel = self.kernel("both", with_inputs, everything)
        if kernel is not None and self._native_both(kernel, values, grads, shared, everything):
            return
        started = time.perf_counter()
        self._python_both(values, grads, shared, with_inputs, everything)
        self._paid("both", with_inputs, everything, started)

    def _python_both(self, values: np.ndarray, grads: np.ndarray, shared: SharedArrays,
                     with_inputs: bool, everything: bool) -> None:
        function = self.function("both", with_inputs, everything)
        if self.vector:
            if function(values, shared.data, grads, shared.grad):
                self.function("both", with_inputs, everything, careful=True)(
                    values, shared.data, grads, shared.grad)
            return
        n = values.shape[1]
        upstream = (grads[self.upstream_rows].T.tolist() if len(self.upstream_rows)
                    else [[]] * n)
        operands = self.operands(values, shared)
        try:
            results = [function(r, u) for r, u in zip(operands, upstream)]
            if any(sent != sent for _, example in results for sent in example):
                function = self.function("both", with_inputs, everything, careful=True)
                results = [function(r, u) for r, u in zip(operands, upstream)]
        except FLOAT_ERRORS as error:
            raise CodeFallback(str(error)) from error
        rows = self._all_rows if everything else self._write_rows
        if len(rows):
            values[rows] = np.array([written for written, _ in results]).reshape(n, -1).T
        self._send(np.array([sent for _, sent in results]).reshape(n, -1).T, grads, shared)

    def forward_only(self, values: np.ndarray, shared: SharedArrays, everything: bool) -> None:
        """The forward alone, writing what other steps and the outputs read."""
        kernel = self.kernel("forward", False, everything)
        if kernel is not None:
            n = values.shape[1]
            rows = self._written(everything)
            W = np.empty((len(rows), n))
            if not kernel(n, R=self._reads(values, shared), W=W):
                if len(rows):
                    values[rows] = W
                return
        started = time.perf_counter()
        self._python_forward(values, shared, everything)
        self._paid("forward", False, everything, started)

    def _python_forward(self, values: np.ndarray, shared: SharedArrays,
                        everything: bool) -> None:
        if self.vector:
            self.function("forward", everything=everything)(values, shared.data)
            return
        function = self.function("forward", everything=everything)
        try:
            results = [function(r) for r in self.operands(values, shared)]
        except FLOAT_ERRORS as error:
            raise CodeFallback(str(error)) from error
        rows = self._all_rows if everything else self._write_rows
        if len(rows):
            values[rows] = np.array(results).reshape(values.shape[1], -1).T
