"""Reverse-mode backpropagation over a graph of Values.

The chain rule: for an output ``y`` and any node ``v``,

    dy/dv = sum over the nodes p that use v of  dy/dp * dp/dv,

where dp/dv is the local derivative stored on ``p``. Visiting nodes in reverse
topological order (every user of ``v`` before ``v``) makes each dy/dp final
before it is passed on. The order comes from Kahn's algorithm: count the edges
into each node, then release a node once all of its users are done. Both passes
use an explicit stack, so a chain of a million nodes needs no recursion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .mode import MODE, AnomalyError
from .value import Value, as_float, describe


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each after all the nodes it uses (root last)."""
    users = _count_users(root)
    order = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for child in node.children:
            left = users[child] - 1
            users[child] = left
            if left == 0:
                ready.append(child)
    order.reverse()
    return order


def _count_users(root: Value) -> dict[Value, int]:
    """For each node reachable from root, how many edges lead into it."""
    users = {root: 0}
    stack = [root]
    while stack:
        for child in stack.pop().children:
            if child in users:
                users[child] += 1
            else:
                users[child] = 1
                stack.append(child)
    return users


def gradients(root: Value, seed: Any = 1.0, create_graph: bool = False) -> dict[Value, Any]:
    """d root / d node for every node root depends on, as a dict; ``.grad`` is untouched.

    With ``create_graph`` the local derivatives are recomputed by each row's rule
    on Values, so the gradients are Values whose own graph can be differentiated.
    """
    users = _count_users(root)
    grads: dict[Value, Any] = {root: seed}
    ready = [root]
    anomaly = MODE.anomaly
    while ready:
        node = ready.pop()
        upstream = grads[node]
        rebuild = create_graph and node._row is not None
        local = _rule_on_values(node) if rebuild else node.local_grads
        for child, derivative in zip(node.children, local):
            contribution = derivative * upstream
            if anomaly:
                _check_finite_gradient(node, child, contribution)
            if child in grads:
                grads[child] = grads[child] + contribution
            else:
                grads[child] = contribution
            left = users[child] - 1
            users[child] = left
            if left == 0:
                ready.append(child)
    return grads


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
    number = contribution.data if isinstance(contribution, Value) else contribution
    if math.isfinite(number):
        return
    raise AnomalyError(
        f"detect_anomaly: the gradient reaching {describe(child)} from {user.op} node "
        f"({user.data:.6g}) is {number} (upstream gradient x local derivative)", child)


def backward(root: Value, grad: Any = 1.0) -> None:
    """Fill ``.grad``: accumulate into leaves, set interior nodes to this pass's value.

    All gradients of a pass are summed before they are added to a leaf's ``grad``,
    so a leaf gets old + (this pass's total), and an error or an interrupt leaves
    every leaf's gradient as it was (under ``detect_anomaly`` every interior
    gradient too, since nothing is written before the whole pass succeeds).
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward expects a Value, got {type(root).__name__}")
    seed = as_float(grad, "backward(grad=...)")
    if MODE.anomaly:
        if not math.isfinite(seed):
            raise AnomalyError(f"detect_anomaly: backward seeded with {seed}", root)
        for node, g in gradients(root, seed).items():
            if node.children:
                node.grad = g
            else:
                node.grad += g
        return
    if not root.children:
        root.grad += seed
        return
    leaves: list[Value] = []
    saved: list[float] = []
    try:
        _reset_and_count_users(root, leaves, saved)
        root.grad = seed
        _propagate(root)
    except BaseException:
        _clear_users(root)
        for leaf, old in zip(leaves, saved):
            leaf.grad = old
        raise
    for leaf, old in zip(leaves, saved):
        leaf.grad = old + leaf.grad
        leaf._users = 0


def _reset_and_count_users(root: Value, leaves: list[Value], saved: list[float]) -> None:
    """Count in each interior node's ``_users`` the edges into it, and zero its ``grad``.

    The leaves reached are listed with their old ``grad`` in ``saved`` (so that
    their sum for this pass can be added to it at the end) and marked seen with
    ``_users = 1`` until the pass ends.
    """
    stack = [root]
    while stack:
        for child in stack.pop().children:
            count = child._users
            if child.children:
                if count == 0:
                    stack.append(child)
                    child.grad = 0.0
                child._users = count + 1
            elif count == 0:
                child._users = 1
                leaves.append(child)
                saved.append(child.grad)
                child.grad = 0.0


def _propagate(root: Value) -> None:
    """The chain rule in Kahn's order, summing into ``grad`` in place.

    The same order and the same sums as :func:`gradients`, without its dicts:
    the counts live on the interior nodes (``_users``) and return to 0 as edges
    are used; leaves need no count.
    """
    ready = [root]
    while ready:
        node = ready.pop()
        upstream = node.grad
        local = node._local
        if type(local) is float:  # one child, its derivative stored bare (written out:
            child = node.children[0]  # no pairs to build for half the nodes of a net)
            child.grad += local * upstream
            if child.children:
                left = child._users - 1
                child._users = left
                if not left:
                    ready.append(child)
            continue
        for child, derivative in zip(node.children, local):
            child.grad += derivative * upstream
            if child.children:
                left = child._users - 1
                child._users = left
                if not left:
                    ready.append(child)


def _clear_users(root: Value) -> None:
    """Set every ``_users`` count under root back to 0 (after an interrupted pass)."""
    seen = {root}
    stack = [root]
    while stack:
        for child in stack.pop().children:
            child._users = 0
            if child not in seen:
                seen.add(child)
                stack.append(child)


def grad(output: Value, inputs: Value | Sequence[Value], create_graph: bool = False,
         grad_output: Any = 1.0) -> list[Any]:
    """d output / d input for each input, as a list; no ``.grad`` is changed.

    Like ``torch.autograd.grad``. With ``create_graph=True`` the results are Values
    that can be differentiated again (second, third, ... derivatives); an input
    the output does not depend on gets zero.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad expects a Value output, got {type(output).__name__}")
    targets = [inputs] if isinstance(inputs, Value) else list(inputs)
    for i, target in enumerate(targets):
        if not isinstance(target, Value):
            raise TypeError(f"grad: input {i} is a {type(target).__name__}, expected a Value")
    if isinstance(grad_output, Value):
        seed: Any = grad_output
    else:
        seed = as_float(grad_output, "grad(grad_output=...)")
        if create_graph:
            seed = Value(seed)
    if create_graph and not MODE.grad_enabled:
        raise RuntimeError("grad(create_graph=True) needs gradient tracking; "
                           "it was called inside no_grad()")
    found = gradients(output, seed, create_graph)
    zero: Any = Value(0.0) if create_graph else 0.0
    return [found.get(target, zero) for target in targets]

