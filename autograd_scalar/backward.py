"""Reverse-mode backpropagation over a graph of Values: one chain-rule loop.

The chain rule: for an output ``y`` and any node ``v``,

    dy/dv = sum over the nodes p that use v of  dy/dp * dp/dv,

where dp/dv is the local derivative stored on ``p``. Visiting nodes users-first
(every user of ``v`` before ``v``) makes each dy/dp final before it is passed on.
The order comes from Kahn's algorithm: count the edges into each node, then
release a node once all of its users are done; an explicit stack, no recursion.

:func:`chain_rule` is the one loop. It sums each node's dy/dv into the node's
scratch field ``_pending`` and writes nothing else, so that ``backward`` (which
then writes ``.grad``), ``grad`` and ``gradients`` (which read the sums), the
higher-order pass (``create_graph``: local derivatives rebuilt as Values by each
row's rule) and ``detect_anomaly`` (every contribution checked) all share it, and
an error anywhere in a pass changes no gradient at all (a Ctrl-C is held to the end
of the pass: see :func:`_whole_pass`).

A zero local derivative contributes exactly zero, even when the upstream gradient
is infinite or NaN: IEEE arithmetic gives 0 * inf = NaN, but dp/dv = 0 means v
does not move p at all (a relu at x <= 0, an operand ``gather`` did not select),
so nothing flows back to v. This is PyTorch's convention (``relu`` and ``gather``
pass no gradient, not NaN, to what they ignore); the compiled tape keeps it too.
An infinite local derivative times a zero upstream gradient stays NaN (as there).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from .mode import AnomalyError, current_mode, interrupts_deferred
from .validate import flag
from .value import BACKWARD, Value, as_float, data_of, describe

try:
    import cython

    COMPILED = bool(cython.compiled)
    """Whether this module runs as compiled C (then no Ctrl-C can stop a pass half way:
    a signal is handled at the next Python bytecode, and its loops have none)."""
except ImportError:  # no Cython installed: this module runs as plain Python
    COMPILED = False

UNORDERED = (AbstractSet, Mapping)
"""Collections whose order is not the caller's (sets, dicts and their views): refused
where each item must meet an argument or an answer in the same place."""

PASS_LOCK = threading.RLock()
"""Held by every pass over a graph: passes keep scratch counts and sums on the nodes, so
two threads walking graphs that share nodes (a model's parameters) take turns."""


def _whole_pass() -> contextlib.AbstractContextManager[Any]:
    """Where a pass that leaves sums on the nodes runs, from its first sum to its last
    store: interpreted, under :func:`interrupts_deferred`, since a Ctrl-C between the
    summing and the stores (or while the sums are cleared) would leave sums that every
    later pass adds in; compiled, as it is, its loops being C, which no signal cuts (a
    signal is handled at the next Python bytecode, and they run none). In both a Ctrl-C
    is raised once the pass is done, as the compiled core always did. Clearing the sums
    (:func:`release`, and after an error :func:`_reset`) runs the same way.
    It is entered before ``PASS_LOCK`` and left after it: a KeyboardInterrupt at the
    moment a with-statement ends skips its ``__exit__``, which for the lock would
    leave it held, and every other thread's pass waiting for good."""
    return contextlib.nullcontext() if COMPILED else interrupts_deferred()


def a_value(root: Any, who: str) -> Value:
    """``root`` if it is a Value; TypeError naming ``who`` otherwise."""
    if not isinstance(root, Value):
        raise TypeError(f"{who} expects a Value, got {type(root).__name__}")
    return root


def users_first(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each before all the nodes it uses (root first).

    Kahn's algorithm with the edge counts kept on the nodes (``_users``, counted by
    :func:`_count_users`); the counts are back to 0 when it returns.
    """
    a_value(root, "users_first")
    with _whole_pass(), PASS_LOCK:
        order: list[Value] = []
        try:
            _count_users(root)
            ready = [root]
            while ready:
                node = ready.pop()
                order.append(node)
                for child in node.children:
                    left = child._users - 1
                    child._users = left
                    if left == 0:
                        ready.append(child)
        except BaseException:  # an interrupt: leave no count behind
            _reset(root)
            raise
        return order


def _count_users(root: Value) -> None:
    """Set each node's ``_users`` to the number of edges into it from nodes under ``root``
    (every count must be 0 before)."""
    stack = [root]
    while stack:
        for child in stack.pop().children:
            users = child._users  # read once: the interpreted core pays per read
            if users == 0:
                stack.append(child)
            child._users = users + 1


def _reset(root: Value) -> None:
    """Clear the scratch fields (``_users``, ``_pending``) of every node under ``root``
    (all of them, whatever Ctrl-C does meanwhile)."""
    with _whole_pass():
        _clear_from(root)


def _clear_from(root: Value) -> None:
    root._pending = None
    seen = {root}
    stack = [root]
    while stack:
        for child in stack.pop().children:
            child._users = 0
            child._pending = None
            if child not in seen:
                seen.add(child)
                stack.append(child)


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each after all the nodes it uses (root last)."""
    order = users_first(a_value(root, "topological_order"))
    order.reverse()
    return order


def chain_rule(root: Value, seed: Any, create_graph: bool = False, store: bool = False
               ) -> list[Value]:
    """Sum d root / d v into ``v._pending`` for every node v under root; return them all.

    The nodes come back users-first (root first), in the order :func:`users_first`
    gives, which this pass makes as it goes: a node is released once all of its users
    have passed their share to it (one walk over the edges fewer than ordering first,
    and the child is touched once per edge, not twice). The caller reads the sums and
    must give each ``_pending`` back (:func:`release`). With ``create_graph`` the
    local derivatives are the rows' rules run on Values, so the sums are Values
    whose own graph can be differentiated. Under ``detect_anomaly`` a non-finite
    contribution raises :class:`AnomalyError` naming the two nodes.

    Inside a function being traced, numbers summed from a traced root (not Values:
    ``create_graph`` False) are a read of its data, as ``.data`` is, and the trace is
    told (``tracing.numbers_from``): the tape would replay them frozen.

    With ``store`` (``backward``'s pass, neither ``create_graph`` nor under
    ``detect_anomaly``, where no contribution can fail) each sum is stored as
    :func:`_store_gradients` would, as soon as its node is released: the sums are
    floats and no error can come between the first store and the last, so the pass
    is stored whole as a separate walk would store it, one walk over the nodes fewer.
    """
    a_value(root, "chain_rule")
    if not create_graph:
        reads = current_mode().tracing
        if reads is not None:
            reads.numbers_from(root)
    with PASS_LOCK:
        return _chain_rule(root, seed, create_graph, store)


def _chain_rule(root: Value, seed: Any, create_graph: bool, store: bool = False
                ) -> list[Value]:
    anomaly = current_mode().anomaly
    plain = not (anomaly or create_graph)
    store = store and plain
    order: list[Value] = []
    try:
        _count_users(root)
        root._pending = seed
        ready = [root]
        while ready:
            node = ready.pop()
            order.append(node)
            children = node.children
            count = len(children)
            upstream = node._pending
            if store:  # every user has passed its share: the sum is whole
                node._pending = None
                if count == 0:
                    node.grad += upstream
                    continue
                node.grad = upstream
            elif count == 0:
                continue
            if count <= 2 and plain and type(upstream) is float:
                # Nearly every node: _accumulate(node, child, _times(d, upstream), False)
                # and _release for each child, written out (an interpreted call costs
                # more than the arithmetic; compiled, the same C either way).
                scalar = upstream  # typed double in backward.pxd
                d0 = node._d0
                product = d0 * scalar
                if product != product and d0 == 0.0:
                    product = 0.0
                child = children[0]
                pending = child._pending
                child._pending = product if pending is None else pending + product
                left = child._users - 1
                child._users = left
                if left == 0:
                    ready.append(child)
                if count == 2:
                    d1 = node._d1
                    product = d1 * scalar
                    if product != product and d1 == 0.0:
                        product = 0.0
                    child = children[1]
                    pending = child._pending
                    child._pending = product if pending is None else pending + product
                    left = child._users - 1
                    child._users = left
                    if left == 0:
                        ready.append(child)
                continue
            if count <= 2 and not create_graph:  # local derivatives stored unboxed
                _accumulate(node, children[0], _times(node._d0, upstream), anomaly)
                if count == 2:
                    _accumulate(node, children[1], _times(node._d1, upstream), anomaly)
            elif create_graph:
                local = _rule_on_values(node)
                for i in range(count):
                    _accumulate(node, children[i], _scaled(local[i], upstream), anomaly)
            else:
                local = node._local or ()
                for i in range(count):
                    _accumulate(node, children[i], _times(local[i], upstream), anomaly)
            for child in children:
                left = child._users - 1
                child._users = left
                if left == 0:
                    ready.append(child)
    except BaseException:  # an error or an interrupt: no count and no sum left behind
        _reset(root)
        raise
    return order


def _times(local: float, upstream: Any) -> Any:
    """local * upstream, multiplied unboxed when the upstream gradient is a float; exactly
    0.0 when the local derivative is 0 and the upstream gradient is inf or NaN.

    The test costs one comparison of the product with itself: only a NaN product can
    come from 0 * inf or 0 * NaN.
    """
    if type(upstream) is float:
        scalar = upstream
        product = local * scalar
        if product != product and local == 0.0:
            return 0.0
        return product
    return _scaled(local, upstream)


def _scaled(local: Any, upstream: Any) -> Any:
    """local * upstream for any operands (Values under create_graph); a local derivative
    that is 0 against a non-finite upstream gradient gives a constant zero, not NaN.
    The numbers are read as the engine's own (``data_of``): a trace does not count them
    as the traced function's reads of its data."""
    product = local * upstream
    number = data_of(product) if isinstance(product, Value) else product
    if number == number:
        return product
    if (data_of(local) if isinstance(local, Value) else local) != 0.0:
        return product
    return Value(0.0) if isinstance(product, Value) else 0.0


def _accumulate(user: Value, child: Value, contribution: Any, anomaly: bool) -> None:
    """Add one edge's share, dy/d user * d user/d child, to the child's running sum."""
    if anomaly:
        _check_finite_gradient(user, child, contribution)
    pending = child._pending
    if pending is None:
        child._pending = contribution
        return
    total = pending + contribution
    if anomaly:
        _check_finite_sum(child, total, None)
    child._pending = total


def release(nodes: list[Value]) -> None:
    """Clear the scratch sums a :func:`chain_rule` pass left on ``nodes`` (all of them,
    whatever Ctrl-C does meanwhile)."""
    with _whole_pass():
        _clear(nodes)


def _clear(nodes: list[Value]) -> None:
    for node in nodes:
        node._pending = None


def _store_gradients(nodes: list[Value]) -> None:
    """Each node's summed gradient into ``.grad`` (added to a leaf's), the sums cleared."""
    for node in nodes:
        total = node._pending
        node._pending = None
        if node.children:
            node.grad = total
        else:
            node.grad += total


def _rule_on_values(node: Value) -> tuple[Any, ...]:
    """The node's local derivatives as Values, from its row's rule (for create_graph).

    At a singular point (sqrt at 0, 1/x at 0) the derivative has no finite value to
    build a graph on, and a rule written with ``math`` functions cannot take Values;
    either way the error says which rule.
    """
    row = node._row
    assert row is not None
    try:
        return row.derivatives(*node.children, node)
    except TypeError as error:
        raise TypeError(
            f"grad(create_graph=True): the derivative rule of {row.name} cannot run on "
            f"Values ({error}); write it with arithmetic and the op table's functions "
            "(autograd_scalar.cos, exp, ...), not math's") from error
    except (ArithmeticError, ValueError) as error:
        inputs = ", ".join(f"{child.data:.6g}" for child in node.children)
        raise type(error)(
            f"grad(create_graph=True): the derivative of {row.name} at ({inputs}) has no "
            f"finite value to differentiate further ({row.formula}); {error}") from error


def _check_finite_gradient(user: Value, child: Value, contribution: Any) -> None:
    # the engine's reads (data_of): under a trace they are not the traced function's
    number = data_of(contribution) if isinstance(contribution, Value) else contribution
    if math.isfinite(number):
        return
    raise AnomalyError(
        f"detect_anomaly: the gradient reaching {describe(child)} from {user.op} node "
        f"({data_of(user):.6g}) is {number} (upstream gradient x local derivative)", child)


def _check_finite_sum(node: Value, total: Any, leaf: Any) -> None:
    """AnomalyError unless ``total``, numbers added up into ``node``'s gradient, is finite
    (1e308 + 1e308: each share finite, the sum inf): its users' shares, or, given the
    ``leaf`` (whose scratch sum holds the pass's), its gradient before and the pass's."""
    number = data_of(total) if isinstance(total, Value) else total
    if math.isfinite(number):
        return
    what = ("its users' shares, each finite" if leaf is None else
            f"its gradient before ({leaf.grad:g}) and this pass's ({leaf._pending:g})")
    raise AnomalyError(f"detect_anomaly: the gradient of {describe(node)} is {number}, "
                       f"the sum of {what}", node)


def backward(root: Value, grad: Any = 1.0) -> None:
    """Fill ``.grad``: accumulate into leaves, set interior nodes to this pass's value.

    A leaf gets old + (this pass's total); an interior node this pass's total. Under
    ``detect_anomaly`` the whole pass is summed before anything is written, so an
    anomaly leaves every gradient, leaf and interior, as it was; otherwise every
    contribution is a product of floats, which cannot fail, and each node's sum is
    stored as soon as it is whole (:func:`chain_rule` with ``store``). A Ctrl-C is held
    until the pass is done and raised after it: the pass is stored whole, never in part.
    """
    a_value(root, "backward")
    seed = as_float(grad, "backward(grad=...)")
    if current_mode().anomaly and not math.isfinite(seed):
        raise AnomalyError(f"detect_anomaly: backward seeded with {seed}", root)
    with _whole_pass(), PASS_LOCK:
        if not current_mode().anomaly:
            chain_rule(root, seed, store=True)  # stored as the pass goes
            return
        order = chain_rule(root, seed)
        try:  # a leaf's old + new gradient, past float range
            for node in order:
                if not node.children:
                    _check_finite_sum(node, node.grad + node._pending, node)
            _store_gradients(order)
        except BaseException:  # an anomaly: no store made, the sums cleared
            release(order)
            raise


def gradients(root: Value, seed: Any = 1.0, create_graph: bool = False) -> dict[Value, Any]:
    """d root / d node for every node root depends on, as a dict; ``.grad`` is untouched.

    With ``create_graph`` the gradients are Values whose own graph can be
    differentiated (see ``chain_rule``).
    """
    a_value(root, "gradients")
    flag("create_graph", create_graph, who="gradients")
    if isinstance(seed, Value):  # as grad takes grad_output: without create_graph, its number
        seed = seed if create_graph else data_of(seed)
    else:
        seed = as_float(seed, "gradients(seed=...)")
    with _whole_pass(), PASS_LOCK:
        order = chain_rule(root, seed, create_graph)
        try:
            return {node: node._pending for node in order}
        finally:
            release(order)


def value_list(items: Any, who: str, name: str, item: str, *,
               expected: str = "a Value or a list or tuple of Values",
               empty: bool = True) -> list[Value]:
    """``items`` (the argument ``name`` of ``who``) as a list of Values: a Value alone is a
    list of one, else an ordered collection of Values (none at all only if ``empty``).
    TypeError otherwise, saying what was ``expected`` and naming a wrong item as ``item``
    formatted with its position; text, sets and dicts are refused, the last two since
    their order is not the caller's and each answer must meet its item."""
    if isinstance(items, Value):
        return [items]
    if isinstance(items, UNORDERED):
        raise TypeError(f"{who}: {name} must be {expected}, got a {type(items).__name__}, "
                        "which has no order")
    if isinstance(items, (str, bytes)):
        raise TypeError(f"{who}: {name} must be {expected}, got {type(items).__name__}")
    try:
        found = list(items)
    except TypeError:
        raise TypeError(f"{who}: {name} must be {expected}, got "
                        f"{type(items).__name__}") from None
    if not found and not empty:
        raise ValueError(f"{who}: {name} is an empty list; expected at least one Value")
    for i, value in enumerate(found):
        if not isinstance(value, Value):
            raise TypeError(f"{who}: {item.format(i)} is a {type(value).__name__}, expected "
                            "a Value")
    return found


def grad(output: Value, inputs: Value | Sequence[Value], create_graph: bool = False,
         grad_output: Any = 1.0) -> list[Any]:
    """d output / d input for each input, as a list; no ``.grad`` is changed.

    Like ``torch.autograd.grad``: the list has one entry per input, in order, each a
    float (a Value with ``create_graph=True``, which can be differentiated again
    for second, third, ... derivatives). An input the output does not depend on
    gets zero. ``grad_output`` (the seed) may be a Value: with ``create_graph`` the
    answer then depends on it in the graph, else only its number is used.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad expects a Value output, got {type(output).__name__}")
    flag("create_graph", create_graph, who="grad")
    targets = value_list(inputs, "grad", "inputs", "input {}")
    if isinstance(grad_output, Value):
        # without create_graph the answer is numbers (a Value seed would make Values
        # whose graph holds only the seed, differentiating to 0 in x): its number
        seed: Any = grad_output if create_graph else grad_output.data
    else:
        seed = as_float(grad_output, "grad(grad_output=...)")
        if create_graph:
            seed = Value(seed)
    if create_graph and not current_mode().grad_enabled:
        raise RuntimeError("grad(create_graph=True) needs gradient tracking; "
                           "it was called inside no_grad()")
    with _whole_pass(), PASS_LOCK:
        order = chain_rule(output, seed, create_graph)
        try:
            zero: Any = Value(0.0) if create_graph else 0.0
            return [zero if target._pending is None else target._pending for target in targets]
        finally:
            release(order)


BACKWARD.append(backward)
