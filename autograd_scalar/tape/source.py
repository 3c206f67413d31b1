"""Straight-line code's source: a run of a traced program's nodes as one Python function.

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
sum's operands), a zero adds nothing (a node reached only through zeros still has
gradient 0, and sends 0 times its own partials on, NaN for an infinite one, as
eager does), and an expression already computed is not
computed again (value numbering: the rule of ``logsumexp``, exp(x_i - out), is
the softmax the forward already made when the graph computes it). Everything
comes from the rows: no op is known here by name.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..ops import Op
from .groups import times
from .layout import Layout
from .numeric import numeric_rule
from .program import Program
from .rules import Rule, derive, partial_expressions

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


def code_rule(row: Op, arity: int) -> Rule:
    """The rule the code writes for a node of ``row`` with ``arity`` operands: read on
    Values, else as it runs on numbers; opaque (the code calls it) where neither reads."""
    rule = derive(row, arity)
    return (numeric_rule(row, arity) or rule) if rule.opaque else rule


def writes_math_only(row: Op, arity: int) -> bool:
    """Whether the scalar code of a node of ``row`` with ``arity`` operands is all
    templates (arithmetic and math calls, which :mod:`~autograd_scalar.tape.translate`
    writes in C), its forward and each step of its rule: a row without a scalar
    template, more operands than :data:`LONGEST`, or a rule read only by calling it
    make the code call a function of the row's (``F0``), which C cannot."""
    if arity > LONGEST or not row.template[0]:
        return False
    rule = code_rule(row, arity)
    return not rule.opaque and all(
        bool(step_row.template[0]) and len(refs) <= LONGEST for step_row, refs in rule.steps)


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
                if all(partials.get(u) is None for u, _ in readers.get(i, ())):
                    continue  # no reader sends it anything: off the backward's path
                # only zero partials reach i: its gradient is 0, as eager's, and 0 times
                # an infinite partial of its own must still send NaN on
                terms = [("+", "0.0")]
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
        rule = code_rule(row, len(kids))
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
        own = {*operands, f"v{u}"}

        def step(step_row: Op, arguments: tuple[str, ...]) -> str:
            used.update(own.intersection(arguments))
            key = (step_row, arguments)
            found = cse.get(key)
            if found is None:
                found = cse[key] = writer.temporary()
                lines.append(f"{found} = {writer.expression(step_row, arguments)}")
            elif found.startswith("v"):  # a node's own value, computed by the forward
                used.add(found)
            return found

        partials = partial_expressions(rule, operands, f"v{u}", step, wanted)
        used.update(own.intersection(partials))
        return partials


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

