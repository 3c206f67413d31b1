"""Running a compiled program: its steps over a batch, forward then backward.

A :class:`Runner` lays a :class:`~autograd_scalar.tape.program.Program` out
(:mod:`autograd_scalar.tape.layout`) and, for each batch size it meets, makes a
:class:`Plan`: which strategy runs each group (:mod:`autograd_scalar.tape.cost`),
as steps. A group that runs grouped is planned by :mod:`autograd_scalar.tape.groups`
(a dense layer and its activation fused into one step, :mod:`autograd_scalar.tape.dense`);
consecutive groups that run as code are one :class:`~autograd_scalar.tape.code.Code`
step. Groups of one level do not read each other, so within a level the grouped
ones run first and the code ones join the next level's code. Everything is made
when first needed and kept: groups, compiled code, plans (per batch size).

A run keeps two arrays (rows, n) of the tape's dtype for a batch of n, values and
gradients, reused run after run (a fresh array each run would cost page faults
every time), each only as tall as the plan needs (``Plan.rows``): the interior
nodes' rows, the values of the placeholders some step reads from the array (not
those of an argument only dense layers read, straight from the batch), and the
placeholders' gradients only when they are asked for, and no rows for the
pre-activations of dense layers whose relu runs in place (see
:mod:`autograd_scalar.tape.layout`, which puts those rows last; a run that writes
every node's value, as ``Tape.check``'s does, allocates every row). It runs the
steps: the forward in order, each step keeping what its backward needs; the
backward in reverse, from a seed on the outputs. A plan that
is one code segment runs forward and backward in one call (per example, for
scalar code). Code reads and writes those arrays, so it runs in the tape's dtype
too (scalar code computes each example in Python floats in between).
Scalar code that raises (Python's floats raise where IEEE arithmetic gives inf or
NaN) is run again by NumPy: the plan without scalar code, then the plan without
code at all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..ops import RELU
from .batched import Batched, Blocks, find_blocks, may_be_products
from .code import Code, CodeFallback
from .cost import Choice, choose, costs, machine_costs
from .dense import Dense, alone, maximum_is_relu
from .groups import Group, make_group, runs_stacked
from .layout import Layout, SharedArrays, add_at, distinct
from .native import compiler, default_policy
from .program import Program
from .ragged import Ragged, joinable, make_ragged, ragged_pays
from .source import Segment, program_nodes, writes_math_only

PLANS_KEPT = 16
"""How many batch sizes' plans a runner keeps (the least recently used go first)."""


@dataclass
class Plan:
    """The steps of a run on a batch of one size, and what they need done around them.

    ``zero[with_inputs]``: runs of gradient rows to zero before the backward;
    ``shared_zero``: runs of shared leaves whose batch-summed gradient is zeroed first
    (all but those a dense step assigns whole);
    ``copied``: per argument, the placeholders' rows to copy from the batch (or None);
    ``rows``: how many rows of the values, and of the gradients when the inputs'
    gradients are not wanted, a run uses (every row of the layout when they are, and
    for a run that writes every node's value);
    ``full``: invariant groups write every column; ``product``: the largest matrix
    product's multiply-adds per example; ``single``: the one code step, when the
    plan is just that (it then runs forward and backward in one call).
    ``strategy``: what was asked ("numpy": the cost model's choice without scalar
    code, the plan that runs when scalar code raised).
    """

    steps: list[Any]
    zero: tuple[list[slice], list[slice]]
    shared_zero: list[slice]
    copied: list[slice | None]
    rows: tuple[int, int]
    full: bool
    product: int
    single: Code | None
    strategy: str


class Runner:
    """The plans of a program on its layout and shared arrays (see the module docstring).

    ``native``: when its straight-line code is compiled to machine code, "auto",
    "always" or "off"; None (the default) follows ``AUTOGRAD_SCALAR_NATIVE``
    (see :mod:`autograd_scalar.tape.native`).
    """

    native: str | None = None
    run_policy: str | None = None
    """The policy of the latest run (:meth:`run`): ``native``, else the environment's,
    read once as the run starts, where every code step of the run asks for it (reading
    the environment costs a microsecond, a hundredth of a small network's step)."""

    def __init__(self, program: Program, widths: Sequence[int | None],
                 dtype: Any = np.float64) -> None:
        self.outputs = outputs = program.outputs
        counts = np.bincount(outputs, minlength=program.size).astype(np.int32)
        for group in program.groups:  # how many times each index is read, a group at a time
            counts += np.bincount(group.children.ravel(), minlength=program.size)
        self.reads = counts
        layout = Layout(program.first_shared, program.first_interior, program.size,
                        [1 if width is None else width for width in widths],
                        apart=_relu_inputs(program, counts, np.dtype(dtype)))
        self.traced = program
        self.widths = tuple(widths)
        self.layout = layout
        self.dtype = np.dtype(dtype)
        self.arrays = SharedArrays(program.shared, self.dtype)
        self._groups: dict[int, Group] = {}
        self._dense: dict[int, Dense] = {}
        self._codes: dict[tuple[tuple[int, ...], bool], Code] = {}
        self._raggeds: dict[tuple[tuple[int, ...], int], Ragged] = {}
        self._blocks: dict[tuple[int, ...], Blocks | None] = {}
        self._batched: dict[tuple[tuple[int, ...], int], Batched] = {}
        self._plans: OrderedDict[tuple[int | None, str, bool], Plan] = OrderedDict()
        self._needs: tuple[np.ndarray, np.ndarray] | None = None
        self._order_matters: np.ndarray | None = None
        self._translatable: bool | None = None
        self._fixed: dict[int, int | None] | None = None
        self.shared_outputs = layout.is_shared(outputs)
        self.any_shared_output = bool(self.shared_outputs.any())
        self.output_read = layout.reader(outputs, one_column=False)
        rows = layout.row(outputs[~self.shared_outputs])
        self.seed_rows = rows
        self.unique_seed_rows = distinct(rows)
        self._buffers: list[np.ndarray | None] = [None, None]
        self.fallbacks = 0  # runs whose scalar code raised and that NumPy ran again

    # -- groups, made when first needed -------------------------------------

    def group(self, g: int) -> Group:
        """The program's group ``g``, planned to run grouped."""
        found = self._groups.get(g)
        if found is None:
            group = self.traced.groups[g]
            found = self._groups[g] = make_group(group.row, group.nodes, group.children,
                                                 self.layout, self.traced.invariant)
            if found.matrix is not None:
                found.matrix.bind(self.arrays)
        return found

    @property
    def groups(self) -> tuple[Group, ...]:
        """Every group of the program, planned to run grouped."""
        return tuple(self.group(g) for g in range(len(self.traced.groups)))

    def fixed(self) -> dict[int, int | None]:
        """The dense layers, which always run grouped: group -> its activation group (or
        None). A dense layer is a group of a ``bilinear`` row with a matrix form
        (:mod:`autograd_scalar.tape.matrix`); its activation, a one-input group over
        exactly its nodes."""
        if self._fixed is None:
            program = self.traced
            activations = _activations(program)
            self._fixed = {g: activations.get(g) for g, group in enumerate(program.groups)
                           if _may_be_dense(group.row, group.children, program)
                           and self.group(g).matrix is not None}
        return self._fixed

    def needs(self) -> tuple[np.ndarray, np.ndarray]:
        """For each index, whether its gradient is wanted: without and with the inputs'."""
        if self._needs is None:
            program = self.traced
            found = []
            for with_inputs in (False, True):
                needs = np.zeros(program.size, dtype=bool)
                needs[0 if with_inputs else program.first_shared:program.first_interior] = True
                for group in program.groups:
                    needs[group.nodes] = needs[group.children].any(axis=0)
                found.append(needs)
            self._needs = (found[0], found[1])
        return self._needs

    # -- plans ----------------------------------------------------------------

    @property
    def steps(self) -> list[Any]:
        """The steps of a run with every group grouped (dense layers as matrices)."""
        return self.plan_for(None, "grouped").steps

    @property
    def copied(self) -> list[slice | None]:
        return self.plan_for(None, "grouped").copied

    @property
    def product(self) -> int:
        return self.plan_for(None, "grouped").product

    def plan_for(self, n: int | None, strategy: str = "auto") -> Plan:
        """The plan for a batch of n (None: any). Code of one kind does not depend on n;
        the cost model's choices and the ragged steps of grouped plans do, and so does
        whether code runs as machine code (:meth:`machine_code`)."""
        key = (None if strategy in ("scalar", "vector") else n, strategy,
               strategy == "auto" and self.machine_code())
        found = self._plans.get(key)
        if found is not None:
            self._plans.move_to_end(key)
            return found
        found = self._plans[key] = self._make_plan(n or 1, strategy, key[2])
        while len(self._plans) > PLANS_KEPT:
            self._plans.popitem(last=False)
        return found

    def machine_code(self) -> bool:
        """Whether this tape's code runs as machine code from its first run: the policy
        (``native``, else the environment's) is "always", in float64 (a float32 tape's
        vector code is never compiled), where a C compiler is there."""
        policy = default_policy() if self.native is None else self.native
        return policy == "always" and self.dtype == np.float64 and compiler() is not None

    def translatable(self) -> bool:
        """Whether every node's code can be written in C: its row's forward and each
        step of its rule have a scalar template (code otherwise calls the row's own
        functions, which C cannot, and that code runs as Python: it is planned with
        Python's costs)."""
        if self._translatable is None:
            program = self.traced
            self._translatable = all(writes_math_only(row, arity) for row, arity in {
                (group.row, group.children.shape[0]) for group in program.groups})
        return self._translatable

    def _make_plan(self, n: int, strategy: str, machine: bool = False) -> Plan:
        program = self.traced
        fixed = self.fixed() if strategy in ("auto", "grouped", "numpy") else {}
        fused = {a for a in fixed.values() if a is not None}
        choices = [Choice(g.size, g.children.shape[0], i in fixed or i in fused,
                          runs_stacked(g.row, g.children, program.invariant))
                   for i, g in enumerate(program.groups)]
        # "numpy": what runs when scalar code raised, the cheapest but it; in float32,
        # "auto" too, since scalar code computes in Python's float64: a batch size must
        # not decide whether an intermediate past float32's range is inf or finite
        if strategy == "numpy" or (strategy == "auto" and self.dtype != np.float64):
            model = replace(costs(Runner), scalar=float("inf"))
            chosen = choose(choices, n, "auto", model)
        elif machine and self.translatable():
            chosen = choose(choices, n, strategy, machine_costs(Runner))
        else:
            chosen = choose(choices, n, strategy, costs(Runner) if strategy == "auto" else None)
        # within a level, grouped groups first: code groups then join the next level's
        order = sorted(range(len(chosen)), key=lambda g: (program.groups[g].level,
                                                          chosen[g] != "grouped"))
        grouped = [g for g in order if chosen[g] == "grouped" and g not in fixed
                   and g not in fused]
        products = self._products(grouped)
        joined = _joined(program, [g for g in grouped if g not in products], n)
        steps: list[Any] = []
        pads = self.layout.rows  # the pads of ragged and batched steps, after every row
        start = 0
        while start < len(order):
            kind = chosen[order[start]]
            if kind == "grouped":
                g = order[start]
                start += 1
                if g in fused or (g in joined and joined[g][0] != g) or (
                        g in products and products[g].members[0] != g):
                    continue
                if g in products:
                    steps.append(self._batched_step(products[g], pads))
                    pads += 1
                    continue
                if g in joined:
                    steps.append(self._ragged(joined[g], pads))
                    pads = steps[-1].pads.stop
                    continue
                steps.append(self._dense_step(g, fixed[g]) if g in fixed else self.group(g))
                continue
            stop = start
            while stop < len(order) and chosen[order[stop]] == kind:
                stop += 1
            steps.append(self._code(tuple(order[start:stop]), kind == "vector"))
            start = stop
        layout = self.layout
        full = bool(program.invariant[self.outputs].any()) or any(
            isinstance(step, Group) and step.reads_invariant_in_full for step in steps)
        product = max((step.matrix.multiply_adds for step in steps if isinstance(step, Dense)),
                      default=0)
        single = steps[0] if len(steps) == 1 and isinstance(steps[0], Code) else None
        copied = _read_from_batch(layout, steps, self.reads)
        apart = sum(step.affine.size for step in steps
                    if isinstance(step, Dense) and step.in_place(self.dtype))
        # the rows set apart (relu layers' pre-activations) when some step reads them
        value_rows = layout.rows if apart < layout.interior - layout.kept else max(
            [layout.kept, *(rows.stop for rows in copied if rows is not None)])
        if pads > layout.rows:  # ragged and batched steps' pads, after every row
            value_rows = pads
        # without the inputs' gradients, the gradient rows are those of the values (code
        # sends a gradient to every operand it reads, wanted or not) and those of an
        # output that is a placeholder (its seed goes there, unread)
        seeded = np.asarray(self.seed_rows)
        grad_rows = max(value_rows, int(seeded.max()) + 1 if seeded.size else 0)
        return Plan(steps, (_zeroed(layout, steps, False), _zeroed(layout, steps, True)),
                    _shared_zeroed(len(program.shared), steps), copied,
                    (value_rows, grad_rows), full, product, single, strategy)

    def _dense_step(self, g: int, activation: int | None) -> Dense:
        found = self._dense.get(g)
        if found is None:
            affine = self.group(g)
            fused = None if activation is None else self.group(activation)
            if self._order_matters is None:
                self._order_matters = order_matters(self.traced)
            found = self._dense[g] = Dense(
                affine, fused, alone(affine, fused, self.reads, self.layout),
                eager_order=bool(self._order_matters[self.traced.groups[g].nodes].any()))
        return found

    def _products(self, grouped: Sequence[int]) -> dict[int, Blocks]:
        """Group -> the blocks of batched products it runs in (:mod:`autograd_scalar.tape.
        batched`): of the groups that run grouped, the joinable ``dot`` groups of one
        level whose nodes are the entries of matrix products."""
        program = self.traced
        levels: dict[int, list[int]] = {}
        for g in grouped:
            group = program.groups[g]
            if may_be_products(group, program):
                levels.setdefault(group.level, []).append(g)
        found: dict[int, Blocks] = {}
        for run in levels.values():
            key = tuple(run)
            if key not in self._blocks:
                self._blocks[key] = find_blocks(run, program)
            blocks = self._blocks[key]
            if blocks is not None:
                found.update(dict.fromkeys(blocks.members, blocks))
        return found

    def _batched_step(self, blocks: Blocks, pad_row: int) -> Batched:
        """The batched step of these blocks, its pad in row ``pad_row``, made (and kept)
        when first needed."""
        key = (blocks.members, pad_row)
        found = self._batched.get(key)
        if found is None:
            found = self._batched[key] = Batched(
                blocks, [self.group(g) for g in blocks.members], self.layout, pad_row)
        return found

    def _ragged(self, groups: tuple[int, ...], pad_row: int) -> Ragged:
        """The ragged step of these groups, its pads from row ``pad_row``, made (and
        kept) when first needed."""
        key = (groups, pad_row)
        found = self._raggeds.get(key)
        if found is None:
            found = self._raggeds[key] = make_ragged(groups, self.traced, self.layout, pad_row)
        return found

    def _code(self, groups: tuple[int, ...], vector: bool) -> Code:
        """The code step of these groups, made (and kept) when first needed."""
        key = (groups, vector)
        found = self._codes.get(key)
        if found is None:
            program = self.traced
            nodes = program_nodes(program, groups)
            # the nodes read by other steps or outputs: more reads than from inside
            inside = [i for i, _, _ in nodes]
            within = dict.fromkeys(inside, 0)
            for _, _, kids in nodes:
                for c in kids:
                    if c in within:
                        within[c] += 1
            reads = self.reads[inside].tolist()
            upstream = frozenset(i for i, count in zip(inside, reads) if count > within[i])
            segment = Segment(nodes, self.layout, program.invariant, upstream, self.needs())
            found = self._codes[key] = Code(segment, vector, self)
        return found

    def _fallback(self, plan: Plan, n: int) -> Plan:
        """The plan to run when ``plan``'s code raised: without scalar code, then grouped."""
        if plan.strategy in ("auto", "scalar") and any(
                isinstance(step, Code) and not step.vector for step in plan.steps):
            return self.plan_for(n, "numpy")
        return self.plan_for(None, "grouped")

    # -- running --------------------------------------------------------------

    def run(self, columns: Sequence[np.ndarray], seed: np.ndarray | None, with_inputs: bool,
            everything: bool = False, strategy: str = "auto"
            ) -> tuple[np.ndarray, np.ndarray | None]:
        """Values (and, given a seed on the outputs, gradients) of every node needed.

        ``everything``: every node's value is written (code steps otherwise write
        only what other steps and the outputs read). Run inside
        ``np.errstate(all="ignore")``: IEEE results, as documented.
        """
        self.run_policy = default_policy() if self.native is None else self.native
        plan = self.plan_for(len(columns[0]), strategy)
        while True:
            try:
                return self._run_plan(plan, columns, seed, with_inputs, everything)
            except CodeFallback:
                self.fallbacks += 1
                plan = self._fallback(plan, len(columns[0]))

    def _run_plan(self, plan: Plan, columns: Sequence[np.ndarray], seed: np.ndarray | None,
             with_inputs: bool, everything: bool) -> tuple[np.ndarray, np.ndarray | None]:
        # a run that writes every node's value writes the pre-activations in their rows
        values = self.buffer(len(columns[0]), 0, max(self.layout.rows, plan.rows[0])
                             if everything else plan.rows[0])
        for part, rows in zip(columns, plan.copied):  # the placeholders' rows, by argument
            if rows is not None:
                values[rows] = part.T
        arrays, full = self.arrays, plan.full or everything
        single = plan.single
        if single is not None:
            if seed is None:
                single.forward_only(values, arrays, everything)
                return values, None
            grads = self._seeded(plan, values.shape[1], seed, with_inputs, everything)
            single.both(values, grads, arrays, with_inputs, everything)
            return values, grads
        saved = [step.run(values, arrays, full, columns, everything) for step in plan.steps]
        if seed is None:
            return values, None
        grads = self._seeded(plan, values.shape[1], seed, with_inputs, everything)
        for step, kept in zip(reversed(plan.steps), reversed(saved)):
            step.backward(kept, values, grads, arrays, with_inputs)
        return values, grads

    def _seeded(self, plan: Plan, n: int, seed: np.ndarray, with_inputs: bool,
                everything: bool = False) -> np.ndarray:
        """The gradients array, zeroed where steps add, with the seed on the outputs (a
        shared leaf's, batch-summed, in ``arrays.grad``)."""
        every_row = with_inputs or everything
        grads = self.buffer(n, 1, self.layout.rows if every_row else plan.rows[1])
        for rows in plan.zero[with_inputs]:
            grads[rows] = 0.0
        shared_grads = self.arrays.grad
        for positions in plan.shared_zero:
            shared_grads[positions] = 0.0
        if self.any_shared_output:  # an output that is a shared leaf: its seed, batch-summed
            shared = self.shared_outputs
            np.add.at(shared_grads, self.outputs[shared] - self.layout.first_shared,
                      seed[shared].sum(axis=1))
            seed = seed[~shared]
        add_at(grads, self.seed_rows, seed, self.unique_seed_rows)
        return grads

    def output_values(self, values: np.ndarray) -> np.ndarray:
        """The outputs' rows (outputs, n) of a run; outputs that are the same for every
        example (a parameter, a constant), read once, are repeated for each."""
        found = self.output_read(values, self.arrays.data)
        n = values.shape[1]
        return found if found.shape[1] == n else np.broadcast_to(found, (found.shape[0], n))

    def buffer(self, n: int, which: int, rows: int | None = None) -> np.ndarray:
        """The values (0) or gradients (1) array for a batch of n, with at least ``rows``
        rows (default: every row of the layout), reused run after run.

        The results handed out are copies, so reusing the two arrays is safe. Their
        rows are the interior nodes', the placeholders', then the runs set apart (see
        :mod:`autograd_scalar.tape.layout`); a run asks for those it uses (``Plan.rows``),
        and an array is made anew only for another batch size or more rows.
        """
        buffers = self._buffers
        first = buffers[0] if buffers[0] is not None else buffers[1]
        if first is not None and first.shape[1] != n:
            buffers[0] = buffers[1] = None  # the old pair is freed before a new one is made
        wanted = self.layout.rows if rows is None else rows
        found = buffers[which]
        if found is None or found.shape[0] < wanted:
            buffers[which] = None
            found = buffers[which] = np.empty((wanted, n), self.dtype)
        return found


def _joined(program: Program, grouped: Sequence[int], n: int) -> dict[int, tuple[int, ...]]:
    """Group -> the groups it runs with as one ragged step (:mod:`autograd_scalar.tape.
    ragged`): of the groups that run grouped, those of one level and one row that may
    join, two or more, where the cost model finds one padded stack on a batch of n
    cheaper than the groups apart (the pads' elements against the calls saved)."""
    together: dict[tuple[int, int], list[int]] = {}
    for g in grouped:
        group = program.groups[g]
        if joinable(group, program):
            together.setdefault((group.level, id(group.row)), []).append(g)
    found: dict[int, tuple[int, ...]] = {}
    for run in together.values():
        if len(run) > 1 and ragged_pays([program.groups[g] for g in run], n, costs(Runner)):
            found.update(dict.fromkeys(run, tuple(run)))
    return found


def order_matters(program: Program) -> np.ndarray:
    """For each index, whether a change by rounding in its value could change more than
    values by rounding further on: whether a row that is not ``smooth`` (relu, abs, log,
    division, a user's Function...) reads it, or a smooth row whose node is one of these.
    Only the indices a smooth path leads from to the outputs alone are False (a network's
    last layer, read by the loss's logsumexp, dot, sums and squares)."""
    matters = np.zeros(program.size, dtype=bool)
    for group in reversed(program.groups):  # every reader of an index after it
        children = group.children
        if group.row.smooth:
            read = matters[group.nodes]
            if read.any():
                matters[children[:, read]] = True
        else:
            matters[children] = True
    return matters


def _may_be_dense(row: Any, children: np.ndarray, program: Program) -> bool:
    """Whether a group could be a dense layer: a ``bilinear`` row, one half of whose
    operands (the ws or the xs) are all shared leaves (a cheap test before the real one)."""
    if not row.bilinear or children.shape[1] < 1:
        return False
    arity = children.shape[0]
    m = (arity - row.bias) // 2
    if m < 1:
        return False
    shared = (children >= program.first_shared) & (children < program.first_interior)
    return bool(shared[:m].all() or shared[m:2 * m].all())


def _activations(program: Program) -> dict[int, int]:
    """Group -> its activation group: the first one-input group (not invariant) that reads
    the group's first node, when it reads exactly the group's nodes, in order."""
    first_reader: dict[int, int] = {}
    for a, group in enumerate(program.groups):
        if group.row.arity == 1 and not group.invariant:
            first_reader.setdefault(int(group.children[0, 0]), a)
    found = {}
    for g, group in enumerate(program.groups):
        reader = first_reader.get(group.nodes.start)
        if reader is not None and program.groups[reader].size == group.size and np.array_equal(
                program.groups[reader].children[0],
                np.arange(group.nodes.start, group.nodes.stop)):
            found[g] = reader
    return found


def _relu_inputs(program: Program, reads: np.ndarray, dtype: np.dtype[Any]) -> list[slice]:
    """The dense layers whose relu runs in place (a dense step computes Z in H's rows):
    groups that may have a matrix form (:func:`_may_be_dense`, the cheap test: making
    the group here would cost the trace its memory twice) whose activation
    (:func:`_activations`, as :meth:`Runner.fixed` fuses it) is a relu and alone reads
    them, in a dtype where ``np.maximum`` is relu. Their rows are set apart, to be left
    out of the runs that do not write them (a group that passes the test without a
    matrix form, a rare one, only makes every run allocate them)."""
    if not maximum_is_relu(dtype):
        return []
    groups = program.groups
    return [groups[g].nodes for g, a in _activations(program).items()
            if groups[a].row is RELU and bool((reads[groups[g].nodes] == 1).all())
            and _may_be_dense(groups[g].row, groups[g].children, program)]


def _zeroed(layout: Layout, steps: Sequence[Any], with_inputs: bool) -> list[slice]:
    """The runs of per-example gradient rows to set to zero before a backward pass:
    the interior rows (and the placeholders' with ``with_inputs``), but for those a
    step assigns before anything reads them, or that no step reads (code keeps its
    own nodes' gradients in local variables)."""
    zero = np.zeros(layout.rows, dtype=bool)
    for rows in (slice(0, layout.rows),) if with_inputs else layout.interior_rows:
        zero[rows] = True
    for step in steps:
        for rows in step.owned_rows(with_inputs):
            zero[rows] = False
    edges = np.flatnonzero(np.diff(np.concatenate(([0], zero.view(np.int8), [0]))))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _shared_zeroed(count: int, steps: Sequence[Any]) -> list[slice]:
    """The runs of shared leaves whose batch-summed gradient must be set to zero before a
    backward pass: all but those a dense step assigns whole (a layer's weights and
    biases that no other group reads, written by ``matmul(..., out=)``)."""
    zero = np.ones(count, dtype=bool)
    for step in steps:
        if isinstance(step, Dense):
            matrix = step.matrix
            if step.weight_grad is not None:
                zero[matrix.weights.ravel()] = False
            if step.bias_grad is not None and matrix.biases is not None:
                zero[matrix.biases] = False
    edges = np.flatnonzero(np.diff(np.concatenate(([0], zero.view(np.int8), [0]))))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _read_from_batch(layout: Layout, steps: Sequence[Any], reads: np.ndarray
                     ) -> list[slice | None]:
    """For each argument, the rows of its placeholders to copy into the values array,
    or None.

    A dense step whose inputs are one argument's run of columns reads them straight
    from the batch, (n, d) as given (``Dense.external``); an argument nothing else
    reads (a network's input, usually) is not copied at all, and its rows are not
    allocated (see :mod:`autograd_scalar.tape.layout`).
    """
    bounds = []
    start = 0
    for width in layout.widths:
        bounds.append((start, start + width))
        start += width
    others = reads.copy()
    for step in steps:
        if not isinstance(step, Dense):
            continue
        sources = step.matrix.sources
        first, last = int(sources[0]), int(sources[-1])
        for argument, (a, b) in enumerate(bounds):
            if a <= first and last < b and np.array_equal(sources, np.arange(first, last + 1)):
                step.external = (argument, first - a, last + 1 - a)
                others[sources] -= step.matrix.width
    return [None if not others[a:b].any() else layout.argument_rows(argument)
            for argument, (a, b) in enumerate(bounds)]
