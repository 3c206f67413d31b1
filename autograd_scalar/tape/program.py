"""Tracing: a per-example function, called once on placeholders, as an inert program.

``trace(fn, widths, numbers, parameters)`` calls ``fn`` on fresh leaves holding
one example's numbers (the placeholders) and reads the graph it builds into a
:class:`Program`: plain numbers and arrays, which run nothing and print as text.

The program numbers every node it needs in one index space: the placeholders
[0, first_shared), then the shared leaves [first_shared, first_interior) (the
``parameters`` first, in the order given, then every other leaf the graph
reached, in the order the ops first read them: a dense layer's weights are then
a run, or, as a model lists them, each neuron's weights then its bias, a strided
run), then the interior nodes. The interior nodes are levelled by depth (1 + the
largest depth of their op children) and grouped by row within a level, n-ary rows
by operand count, and apart when made from shared leaves only (``invariant``:
the same for every example, such as an L2 term); each group's nodes get one
contiguous run of indices, and its children are an array (operands, nodes).

A trace sees one example's numbers, so a function whose graph depends on them
cannot be traced: a Python branch on ``v.data`` (``if v.data > 0:``), a number
made from it (``Value(v.data)``, ``float(v.data)``, ``v.item()``, ``v.detach()``)
would be replayed for every example as it went for the traced one. The trace
therefore watches for those reads, as JAX refuses ``float()`` of a tracer: the
placeholders and every op node made while ``fn`` runs are :class:`TracedValue`
nodes (the mode's ``tracing`` switch, see :mod:`autograd_scalar.mode`), whose
``data`` is read through a property that records where it was read from (file,
line, function); so do ``item()``, ``detach()``, copies and pickles, and an op made
under ``no_grad`` from one (its result a number frozen at the example). Reads by the
engine itself (``autograd_scalar``'s own files,
computing each op's forward and rule, which the tape replays per example) are not
counted; the compiled core reads the field directly and never calls the property.
Numbers the engine computes from a traced node for the function are reads too:
gradients (``grad`` and ``gradients`` without ``create_graph``, ``backward`` then
``.grad``), tangents, ``local_grads`` and a pickled placeholder; they count at the
function's own line that asked for them. Text (``repr``, ``format``) is not counted:
it shows the traced example's number, and printing one to debug is common. Any
other read makes :func:`trace` raise :class:`DataDependenceError` naming the
place, unless ``allow_data_reads`` (then the places are in ``Program.data_reads``).
Every other Value is untouched: eager code never meets the property. What a
trace cannot see: a read of a parameter's (or another leaf's) own ``.data``, which
is a Value of yours, not the trace's.
"""

from __future__ import annotations

import copy
import copyreg
import gc
import linecache
import operator
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, compress, islice, repeat
from types import FrameType
from typing import Any

import numpy as np

from ..backward import a_value
from ..mirror import repeats
from ..mode import current_mode, tracing
from ..ops import Op, is_real
from ..validate import first_outside, in_engine
from ..value import Value, data_of

_children = operator.attrgetter("children")

INDEX = np.int32
"""The dtype of a program's children indices (half the memory of ``np.intp``; a
program of 2**31 nodes would not fit in memory anyway)."""


class TraceError(TypeError):
    """The function cannot be compiled (bad example, bad output, a row that needs floats)."""


@dataclass(frozen=True)
class DataRead:
    """A place where a traced function read the number of a traced Value: the source
    ``file``, ``line`` and ``function``, and the line's ``code`` ("" if unavailable)."""

    file: str
    line: int
    function: str
    code: str

    def __str__(self) -> str:
        code = f" ({self.code})" if self.code else ""
        return f"{self.file}:{self.line} in {self.function}{code}"


class DataDependenceError(TraceError):
    """The traced function read the number of a traced Value (``.data``, or numbers the
    engine computed from it), so its graph may depend on the example: ``reads`` lists
    the places (see the module docstring).

    The first line of the message names the first place; the rest says what to do.
    """

    def __init__(self, reads: Sequence[DataRead]) -> None:
        self.reads = tuple(reads)
        first, others = self.reads[0], self.reads[1:]
        more = f" (and {len(others)} more place{'s' if len(others) > 1 else ''})" if others \
            else ""
        lines = [f"compile: the function reads the number of a traced Value at "
                 f"{first}{more}, so its graph may depend on the data",
                 "A trace sees one example: a Python branch on a Value's number, a comparison "
                 "of it or a number made from it (float(v.data), Value(v.data), v.item(), "
                 "v.detach(), or gradients, tangents and local derivatives as numbers: "
                 "grad without create_graph, backward then .grad) would be replayed for "
                 "every example as it went for that one. "
                 "Compute with Value ops instead (relu, abs, ...: max(a, b) is "
                 "b + (a - b).relu()), run it eagerly (fit and predict take "
                 "compiled=False), or, if the read does not change the graph, read it with "
                 "autograd_scalar.peek(v) (or pass allow_data_reads=True and check the tape "
                 "with Tape.check)."]
        lines += [f"  also at {read}" for read in others[:10]]
        super().__init__("\n".join(lines))


_DATA = Value.__dict__["data"]
"""Every Value's own ``data`` field (a slot; a C double in the compiled core)."""

_COPIERS = frozenset(os.path.abspath(module.__file__ or "") for module in (copy, copyreg, pickle))
"""Python's copying modules: a copy made through them is their caller's read."""


class TracedValue(Value):
    """A node of a function being traced: a placeholder, or an op node made while it runs.

    A Value in every respect, except that reading its number from Python (``.data``)
    during the trace records where it was read from; see the module docstring
    (``item()``, ``detach()``, ``local_grads``, copies, pickling and ops under
    ``no_grad`` tell the trace from :class:`~autograd_scalar.Value`'s own code). Outside
    the trace that made it, it is read as any Value.
    """

    __slots__ = ()

    @property
    def data(self) -> float:
        """The node's number; during its trace the reading place is recorded."""
        _seen(sys._getframe(1))
        return _DATA.__get__(self, Value)

    @data.setter
    def data(self, value: float) -> None:
        _DATA.__set__(self, value)


def _seen(frame: FrameType) -> None:
    """Record ``frame``'s place with the trace in progress, if any."""
    reads = current_mode().tracing
    if reads is not None:
        reads.saw(frame)


class Reads:
    """What one trace saw: the places, outside the engine, that read a traced node's
    number, each once, in the order first met. ``current_mode().tracing`` during the
    trace (see :func:`autograd_scalar.mode.tracing`)."""

    def __init__(self) -> None:
        self.places: dict[tuple[str, int], DataRead] = {}
        self.refusals: dict[int, tuple[TypeError, DataRead]] = {}

    @staticmethod
    def new_node() -> Value:
        """An empty node for the core to fill: op nodes made during the trace are traced."""
        return TracedValue.__new__(TracedValue)

    def saw(self, frame: FrameType) -> None:
        """Record the place ``frame`` is at, unless it is in the engine's own files."""
        key = (frame.f_code.co_filename, frame.f_lineno)
        if not in_engine(key[0]) and key not in self.places:
            self.places[key] = _place(frame)

    def refusing(self, value: Value, error: TypeError) -> None:
        """Remember where the function asked a traced node for a number a Value refuses
        (``int(v)``, ``v > 0``): if ``error`` ends the trace, that place is why (a
        function that catches it goes on, and its trace with it)."""
        if isinstance(value, TracedValue):
            frame, _ = first_outside(sys._getframe(1), _COPIERS)
            if frame is not None:
                self.refusals[id(error)] = (error, _place(frame))

    def refusal(self, error: BaseException) -> DataRead | None:
        """The place of ``error`` if it is a refusal :meth:`refusing` recorded."""
        found = self.refusals.get(id(error))
        return found[1] if found is not None and found[0] is error else None

    def numbers_from(self, value: Value) -> None:
        """Record the first place outside the engine on the way to this call, if ``value``
        is a traced node: numbers the engine computes from it for the caller (gradients
        by ``grad``, ``gradients`` or ``backward``, tangents, local derivatives) are
        frozen at the traced example as surely as its ``.data``."""
        if not isinstance(value, TracedValue):
            return
        frame, _ = first_outside(sys._getframe(1), _COPIERS)
        if frame is not None:
            self.saw(frame)

    def found(self) -> tuple[DataRead, ...]:
        """Every place recorded, in the order first met."""
        return tuple(self.places.values())


def _place(frame: FrameType) -> DataRead:
    """The file, line, function and code of the place ``frame`` is at."""
    code = frame.f_code
    return DataRead(code.co_filename, frame.f_lineno, code.co_name,
                    linecache.getline(code.co_filename, frame.f_lineno).strip())


def peek(value: Value) -> float:
    """``value.data``, read without a trace counting it as a dependence on the data.

    Inside a function given to :func:`autograd_scalar.compile`, reading a traced
    Value's ``.data`` makes the trace refuse the function, since its graph may depend
    on the number. ``peek`` is for reads that cannot change the graph: a check that
    only raises (an index against a table's size) or a number kept for display.
    """
    a_value(value, "peek")
    return data_of(value)


@dataclass(frozen=True)
class ProgramGroup:
    """Nodes of one level made by one row: indices ``nodes``, operands ``children``
    (operands, k) as indices (``INDEX``); ``invariant`` if they read shared leaves only."""

    level: int
    row: Op
    nodes: slice
    children: np.ndarray
    invariant: bool

    @property
    def size(self) -> int:
        return self.nodes.stop - self.nodes.start


@dataclass(frozen=True)
class Program:
    """What a trace found (see the module docstring); ``str(program)`` lists it.

    ``numbers``: the traced example's number at every index, on which the rows are
    checked against their vector forwards (:func:`~autograd_scalar.tape.check.check_rows`);
    a :class:`~autograd_scalar.tape.Tape` keeps its program without them once checked.
    """

    placeholders: tuple[Value, ...]
    shared: tuple[Value, ...]
    parameter_count: int
    groups: tuple[ProgramGroup, ...]
    outputs: np.ndarray
    traced_outputs: np.ndarray
    single: bool
    invariant: np.ndarray
    data_reads: tuple[DataRead, ...] = ()
    numbers: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def first_shared(self) -> int:
        return len(self.placeholders)

    @property
    def first_interior(self) -> int:
        return len(self.placeholders) + len(self.shared)

    @property
    def size(self) -> int:
        return len(self.invariant)

    @property
    def levels(self) -> int:
        return max((group.level for group in self.groups), default=0)

    def __str__(self) -> str:
        lines = [f"program: {len(self.placeholders)} placeholders 0..{self.first_shared - 1}, "
                 f"{len(self.shared)} shared leaves {self.first_shared}.."
                 f"{self.first_interior - 1} ({self.parameter_count} parameters), "
                 f"{self.size - self.first_interior} ops; outputs {self.outputs.tolist()}"]
        for group in self.groups:
            kids = group.children
            lines.append(f"  level {group.level:3d}: {group.row.name:<10} x{group.size:<6} "
                         f"nodes {group.nodes.start}..{group.nodes.stop - 1} "
                         f"reading {kids.shape[0]} operands from {int(kids.min())}.."
                         f"{int(kids.max())}" + (" (invariant)" if group.invariant else ""))
        return "\n".join(lines)


def trace(fn: Callable[..., Any], widths: Sequence[int | None], numbers: list[float],
          parameters: Sequence[Value], allow_data_reads: bool = False) -> Program:
    """Call ``fn`` once on placeholders holding ``numbers`` and read its graph.

    :class:`DataDependenceError` if ``fn`` read the number of a traced Value, unless
    ``allow_data_reads`` (see the module docstring).

    The graph of one example lives only while this reads it. Its bookkeeping is kept
    small beside it, since a model's parameters (hundreds of thousands of shared
    leaves) outnumber its op nodes: sets and dictionaries hold the placeholders and
    op nodes only, and the shared leaves are found by identity in sorted arrays of
    ``id``s (:class:`_Indices`).
    """
    params = parameter_list(parameters)  # checked before the graph exists
    placeholders, arguments = make_arguments(widths, numbers, TracedValue)
    reads = Reads()
    with _collector_paused():
        try:
            with tracing(reads):
                result = fn(*arguments)
        except TypeError as error:  # int(v), v > 0: a number the function asked for
            place = reads.refusal(error)
            if place is not None:
                raise DataDependenceError([place, *reads.found()]) from error
            raise
        except (ArithmeticError, ValueError) as error:
            if getattr(error, "outside_domain", None) is None or type(error) not in (
                    ValueError, ZeroDivisionError):  # not an op's domain check's own error
                raise
            raise type(error)(f"compile: the function raised at the example it was traced "
                              f"at: {error}. Trace it at an example inside every op's domain; "
                              "the tape then takes any example (a built-in op gives NaN "
                              "outside its domain, as NumPy does)") from error
        data_reads = reads.found()
        if data_reads and not allow_data_reads:
            raise DataDependenceError(data_reads)
        single = isinstance(result, Value)
        outputs = [result] if single else output_list(result)
        del result, arguments
        return _read(placeholders, outputs, params, single, data_reads)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: building and reading a graph of n nodes
    allocates O(n) containers that hold no cycles (Values link to their inputs only),
    and each full collection would walk all of them again, and every other object of
    the process (a notebook with PyTorch imported holds hundreds of thousands), making
    the trace superlinear in n. Any cycle made meanwhile is collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(placeholders: list[Value], outputs: list[Value], params: tuple[Value, ...],
          single: bool, data_reads: tuple[DataRead, ...]) -> Program:
    """The program of a traced graph: nodes levelled, grouped and numbered, in single
    passes over them (see the module docstring and :func:`trace`)."""
    inputs = set(placeholders)
    interior, inner = _interior_order(outputs)
    depth: dict[Value, int] = {}
    constant: set[Value] = set()  # op nodes made from shared leaves only
    levels: dict[tuple[int, int, int, bool], tuple[Op, list[Value]]] = {}
    for node in interior:
        level = 1 + max([depth[c] for c in inner[node]], default=0)
        depth[node] = level
        row = node.row
        assert row is not None
        same_for_all = inputs.isdisjoint(node.children) and all(
            c in constant for c in inner[node])
        if same_for_all:
            constant.add(node)
        key = (level, id(row), len(node.children), same_for_all)
        if key not in levels:
            levels[key] = (row, [])
        levels[key][1].append(node)
    if not (inputs.isdisjoint(params) and depth.keys().isdisjoint(params)):
        p = next(p for p in params if p in inputs or p in depth)
        raise TraceError(f"compile: parameter {p.label or p!r} is computed or an "
                         "input in the traced function; parameters must be leaves")
    del inner, depth, constant
    others = _other_leaves(placeholders, params, interior, outputs)
    shared = (*params, *others) if others else params
    del others
    keys = sorted(levels, key=_level)  # stable: a level's groups in the order first met
    first_interior = len(placeholders) + len(shared)
    size = first_interior + len(interior)
    indices = _Indices(_numbered(placeholders, shared, levels, keys), size)
    edges = sum(key[2] * len(levels[key][1]) for key in keys)
    flat = np.empty(edges, dtype=INDEX)  # every group's children, one array
    groups = []
    start = first_interior
    offset = 0
    for key in keys:
        row, nodes = levels[key]
        k, arity = len(nodes), key[2]
        children = indices.of(chain.from_iterable(map(_children, nodes)), k * arity,
                              flat[offset:offset + k * arity]).reshape(k, arity).T
        groups.append(ProgramGroup(key[0], row, slice(start, start + k), children, key[3]))
        start += k
        offset += k * arity
    invariant = np.zeros(size, dtype=bool)
    invariant[len(placeholders):first_interior] = True
    invariant[first_interior:] = np.repeat([key[3] for key in keys],
                                           [len(levels[key][1]) for key in keys])
    numbers = np.fromiter(map(data_of, _numbered(placeholders, shared, levels, keys)),
                          np.float64, size)
    return Program(tuple(placeholders), shared, len(params), tuple(groups),
                   indices.of(outputs, len(outputs)),
                   np.array([o.data for o in outputs]), single, invariant, data_reads, numbers)


def _other_leaves(placeholders: list[Value], params: tuple[Value, ...], interior: list[Value],
                  outputs: list[Value]) -> list[Value]:
    """The leaves that are neither placeholders nor parameters (constants, or a model's
    weights when no parameters were given), each once, in the order the ops first read
    them (then the outputs that are such leaves).

    Found by identity in sorted arrays of ``id``s, one node's children at a time: no set
    or dictionary of every leaf, which would take several times the memory."""
    known = _Indices(chain(placeholders, params, interior),
                     len(placeholders) + len(params) + len(interior))
    found: list[Value] = []
    for node in interior:
        kids = node.children
        missing = ~known.has(kids)
        if missing.any():
            found.extend(compress(kids, missing.tolist()))
    leaf_outputs = [o for o in outputs if not o.children]
    if leaf_outputs:
        found.extend(compress(leaf_outputs, (~known.has(leaf_outputs)).tolist()))
    del known
    if len(found) < 2:
        return found
    ids = np.fromiter(map(id, found), np.intp, len(found))
    first = np.unique(ids, return_index=True)[1]
    first.sort()
    return list(map(found.__getitem__, first.tolist()))


def _level(key: tuple[int, int, int, bool]) -> int:
    return key[0]


def _numbered(placeholders: list[Value], shared: Sequence[Value],
              levels: dict[tuple[int, int, int, bool], tuple[Op, list[Value]]],
              keys: list[tuple[int, int, int, bool]]) -> Iterator[Value]:
    """Every node in the order of its index: placeholders, shared leaves, then the
    interior nodes group after group."""
    return chain(placeholders, shared, chain.from_iterable(levels[key][1] for key in keys))


class _Indices:
    """Every node's index in the program, found by identity: the nodes' ``id``s sorted,
    and where each sorted id came from. Three arrays of 8 bytes a node, where a
    dictionary would take over 60 (its table, and an int object per index); looked
    up ``CHUNK`` nodes at a time, so that the temporaries stay small however many."""

    CHUNK = 1 << 16

    def __init__(self, nodes: Any, count: int) -> None:
        ids = np.fromiter(map(id, nodes), np.intp, count)
        self.order = np.argsort(ids, kind="stable")
        self.ids = ids[self.order]

    def _places(self, wanted: np.ndarray) -> np.ndarray:
        places = np.searchsorted(self.ids, wanted)
        return np.minimum(places, len(self.ids) - 1, out=places)

    def has(self, nodes: Sequence[Value]) -> np.ndarray:
        """Whether each of ``nodes`` is one of the nodes (a short sequence)."""
        wanted = np.fromiter(map(id, nodes), np.intp, len(nodes))
        if not len(self.ids):
            return np.zeros(len(wanted), dtype=bool)
        return self.ids[self._places(wanted)] == wanted

    def of(self, nodes: Any, count: int, out: np.ndarray | None = None) -> np.ndarray:
        """The indices of ``count`` ``nodes`` (each must be one of the program's nodes),
        into ``out`` if given."""
        found = np.empty(count, dtype=np.intp) if out is None else out
        remaining = iter(nodes)
        for start in range(0, count, self.CHUNK):
            stop = min(count, start + self.CHUNK)
            wanted = np.fromiter(map(id, islice(remaining, stop - start)), np.intp,
                                 stop - start)
            places = self._places(wanted)
            assert np.array_equal(self.ids[places], wanted), "a node the program does not have"
            found[start:stop] = self.order[places]
        return found


def _interior_order(outputs: list[Value]) -> tuple[list[Value], dict[Value, list[Value]]]:
    """The op nodes the outputs depend on, each after its children, and each node's
    op children.

    Only op nodes are pushed on the stack: the leaves (a layer's many weights)
    are skipped by one test each, so a graph of few ops over many parameters is
    ordered in time proportional to its edges, with a small constant.
    """
    order: list[Value] = []
    inner: dict[Value, list[Value]] = {}
    stack: list[tuple[Value, bool]] = [(o, False) for o in reversed(outputs) if o.children]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in inner:
            continue
        kids = [c for c in node.children if c.children]
        inner[node] = kids
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(kids) if c not in inner)
    return order, inner


def parameter_list(parameters: Sequence[Value]) -> tuple[Value, ...]:
    """The parameters checked: Values, leaves, each once (a single Value is a list of one,
    as ``grad``'s wrt takes it); TypeError for what is not a sequence of them."""
    if isinstance(parameters, Value):
        return parameter_list([parameters])
    if isinstance(parameters, (str, bytes)) or not isinstance(parameters, Iterable):
        raise TypeError(f"compile: parameters must be a list of Values, got "
                        f"{type(parameters).__name__}")
    found = tuple(parameters)
    if not all(map(isinstance, found, repeat(Value))) or any(map(_children, found)):
        for i, p in enumerate(found):
            if not isinstance(p, Value):
                raise TypeError(f"compile: parameters[{i}] must be a Value, got "
                                f"{type(p).__name__}")
            if p.children:
                raise TraceError(f"compile: parameters[{i}] ({p.label or p.op!r}) is not a "
                                 "leaf; parameters must be leaves")
    if repeats(found):  # by sorted ids: no set of every parameter
        raise ValueError("compile: a parameter is listed twice; list each once")
    return found


def width_of(x: Any, i: int) -> int | None:
    """The width of example argument ``i``: None for a number, the length of a 1-D sequence."""
    if is_real(x):
        return None
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 1:
        raise TraceError(f"compile: example argument {i} must be a number or a 1-D sequence "
                         f"of numbers, got {type(x).__name__}: {x!r}"[:300])
    return int(array.shape[0])


def make_arguments(widths: Sequence[int | None], numbers: list[float],
                   kind: type[Value] = Value) -> tuple[list[Value], list[Any]]:
    """Fresh leaves of class ``kind`` for one example, and the arguments they make (a
    Value or a list each)."""
    leaves = [kind(x) for x in numbers]
    for i, leaf in enumerate(leaves):
        leaf.label = f"in[{i}]"
    arguments: list[Any] = []
    start = 0
    for w in widths:
        if w is None:
            arguments.append(leaves[start])
            start += 1
        else:
            arguments.append(leaves[start:start + w])
            start += w
    return leaves, arguments


def output_list(result: Any) -> list[Value]:
    """What the traced function returned, as a list of Values (or a TraceError)."""
    if isinstance(result, (list, tuple)) and result and all(isinstance(o, Value)
                                                            for o in result):
        return list(result)
    raise TraceError(f"compile: the function must return a Value or a non-empty list of "
                     f"Values, got {type(result).__name__}: {result!r}"[:300])
