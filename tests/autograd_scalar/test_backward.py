"""backward(), grad() and the modes, against finite differences on random graphs."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given

import autograd_scalar as ag
from autograd_scalar import AnomalyError, Value, detect_anomaly, grad, no_grad
from tests.autograd_scalar.depth import no_recursion_depth
from tests.autograd_scalar.random_programs import as_float_function, programs, run
from tests.finite_differences import close, settled_partial


@given(programs())
def test_backward_on_random_graphs_matches_finite_differences(program) -> None:
    steps, point = program
    leaves = [Value(x) for x in point]
    out = run(steps, leaves)
    out.backward()
    f = as_float_function(steps)
    for i, leaf in enumerate(leaves):
        expected = settled_partial(f, point, i)  # None: no step resolves f there
        assert expected is None or close(leaf.grad, expected, rtol=1e-4, atol=1e-5), \
            (steps, point)


@given(programs())
def test_grad_equals_backward_and_leaves_grad_alone(program) -> None:
    steps, point = program
    leaves = [Value(x) for x in point]
    out = run(steps, leaves)
    found = grad(out, leaves)
    assert all(leaf.grad == 0.0 for leaf in leaves)
    out.backward()
    assert found == [leaf.grad for leaf in leaves]


@given(programs())
def test_second_backward_doubles_leaves_and_keeps_interior(program) -> None:
    steps, point = program
    leaves = [Value(x) for x in point]
    out = run(steps, leaves)
    out.backward()
    first_leaves = [leaf.grad for leaf in leaves]
    first_interior = {id(n): n.grad for n in ag.topological_order(out) if n.children}
    out.backward()
    for leaf, once in zip(leaves, first_leaves, strict=True):
        assert leaf.grad == pytest.approx(2 * once, rel=1e-12, abs=1e-300)
    for node in ag.topological_order(out):
        if node.children:
            assert node.grad == first_interior[id(node)]


@given(programs())
def test_topological_order_puts_every_node_after_its_children(program) -> None:
    steps, point = program
    out = run(steps, [Value(x) for x in point])
    order = ag.topological_order(out)
    position = {id(node): i for i, node in enumerate(order)}
    assert len(position) == len(order) and order[-1] is out
    for node in order:
        for child in node.children:
            assert position[id(child)] < position[id(node)]


def test_reused_nodes_accumulate() -> None:
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0
    c = Value(2.0)
    ag.sum([c, c, c]).backward()
    assert c.grad == 3.0


def test_diamond() -> None:
    x = Value(0.7)
    top = x.tanh()
    left, right = top * 2.0, top.sin()
    out = left * right
    out.backward()
    t = math.tanh(0.7)
    expected = (2 * math.sin(t) + 2 * t * math.cos(t)) * (1 - t * t)
    assert x.grad == pytest.approx(expected, rel=1e-12)
    assert top.grad == pytest.approx(2 * math.sin(t) + 2 * t * math.cos(t), rel=1e-12)


def test_backward_from_an_interior_node() -> None:
    x = Value(2.0)
    y = x * x
    z = y * 3.0
    y.backward()
    assert x.grad == 4.0 and z.grad == 0.0
    z.backward()
    assert x.grad == 4.0 + 12.0 and y.grad == 3.0


def test_backward_seed_scales_every_gradient() -> None:
    x = Value(1.5)
    (x * x).backward(grad=-2.0)
    assert x.grad == -6.0
    with pytest.raises(TypeError, match="backward"):
        (x * x).backward(grad="1")  # type: ignore[arg-type]


def test_a_million_node_chain_needs_no_recursion() -> None:
    n = no_recursion_depth(1_000_000)  # 50,000 when interpreted: see depth.py
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y + 1.0
    y.backward()
    assert y.data == n + 1.0 and x.grad == 1.0


def test_no_grad_builds_no_graph() -> None:
    w = Value(2.0)
    with no_grad():
        assert not ag.is_grad_enabled()
        y = (w * 3.0).tanh()
        with no_grad():
            pass
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert y.children == () and y.op == "" and y.data == pytest.approx(math.tanh(6.0))
    y.backward()
    assert w.grad == 0.0


def test_no_grad_restores_the_mode_after_an_error() -> None:
    with pytest.raises(ValueError), no_grad():
        Value(-1.0).log()
    assert ag.is_grad_enabled()


def test_detach_cuts_the_graph() -> None:
    x = Value(3.0, label="x")
    y = (x * x).detach()
    assert y.children == () and y.data == 9.0
    (y * x).backward()
    assert x.grad == 9.0


def test_anomaly_in_the_forward_names_the_op_and_operands() -> None:
    big = Value(float("inf"), label="big")
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        big * 0.0
    message = str(caught.value)
    assert "*" in message and "'big'" in message and "nan" in message
    assert isinstance(caught.value, FloatingPointError)
    assert (big * 0.0).data != (big * 0.0).data  # outside the block NaN just propagates


def test_anomaly_in_the_backward_leaves_every_gradient_unchanged() -> None:
    x = Value(0.0, label="x")
    w = Value(2.0, label="w")
    w.grad = 5.0
    out = w * x.sqrt()
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        out.backward()
    assert "'x'" in str(caught.value) and "inf" in str(caught.value)
    assert caught.value.node is x
    assert (x.grad, w.grad, out.grad) == (0.0, 5.0, 0.0)


def test_grad_with_create_graph_gives_third_derivatives() -> None:
    x = Value(0.3)
    y = x ** 4 + x.sin()
    (d1,) = grad(y, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    assert d1.data == pytest.approx(4 * 0.3 ** 3 + math.cos(0.3), rel=1e-12)
    assert d2.data == pytest.approx(12 * 0.3 ** 2 - math.sin(0.3), rel=1e-12)
    assert d3 == pytest.approx(24 * 0.3 - math.cos(0.3), rel=1e-12)
    assert x.grad == 0.0


def test_grad_of_an_unused_input_is_zero_and_bad_arguments_are_named() -> None:
    x, unused = Value(1.0), Value(2.0)
    assert grad(x * 2.0, [x, unused]) == [2.0, 0.0]
    assert grad(x * 2.0, x) == [2.0]
    with pytest.raises(TypeError, match="input 1"):
        grad(x * 2.0, [x, 3.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="output"):
        grad(3.0, [x])  # type: ignore[arg-type]
    with no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        grad(x * 2.0, [x], create_graph=True)


def test_micrograd_readme_example_gives_the_same_numbers() -> None:
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


@given(programs())
def test_micrograd_and_we_agree_on_what_micrograd_supports(program) -> None:
    from micrograd import engine
    ops = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
           lambda a, b: a / (b * b + 1), lambda a, b: (a * 0.5).relu() + b ** 3]
    steps, point = program

    def build(make):
        values = [make(x) for x in point]
        results = list(values)
        for k, (_, _, args) in enumerate(steps):
            first, second = results[args[0]], results[args[-1]]
            results.append(ops[k % len(ops)](first, second))
        results[-1].backward()
        return results[-1], values

    ours, our_leaves = build(Value)
    theirs, their_leaves = build(engine.Value)
    assert ours.data == pytest.approx(theirs.data, rel=1e-9, abs=1e-12)
    for mine, other in zip(our_leaves, their_leaves, strict=True):
        assert mine.grad == pytest.approx(other.grad, rel=1e-9, abs=1e-9)
    assert ours._op == ours.op and ours._prev == set(ours.children)


def test_the_derivatives_of_x_to_the_zero_and_one_are_defined_at_zero() -> None:
    x = Value(0.0)
    assert grad(x ** 0, [x]) == [0.0]
    (first,) = grad(x ** 1, [x], create_graph=True)
    assert first.data == 1.0 and grad(first, [x]) == [0.0]
    (d1,) = grad(x ** 2, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    assert (d1.data, d2.data, grad(d2, [x])) == (0.0, 2.0, [0.0])


def test_create_graph_at_a_singular_point_names_the_node_and_rule() -> None:
    x = Value(0.0)
    assert grad(x.sqrt(), [x]) == [math.inf]
    with pytest.raises(ZeroDivisionError) as caught:
        grad(x.sqrt(), [x], create_graph=True)
    message = str(caught.value)
    assert "sqrt" in message and "0.5/out" in message and "(0)" in message


class _Interrupt:
    """A local derivative that interrupts the pass when the chain rule reads it as a
    number (the compiled core) or multiplies by it (the interpreted one)."""

    def __float__(self) -> float:
        raise KeyboardInterrupt

    def __mul__(self, other: object) -> float:
        raise KeyboardInterrupt


@pytest.mark.parametrize("how", ["backward under detect_anomaly", "gradients", "grad"])
def test_an_interrupted_pass_changes_no_gradient_and_leaves_the_graph_reusable(how) -> None:
    """A pass stopped half way leaves no count or sum behind, and changes no gradient.
    (backward's plain pass, whose contributions are floats that cannot fail, stores each
    sum as it goes; a Ctrl-C is held to its end: the two tests below.)"""
    x, w = Value(0.5, label="x"), Value(-1.5, label="w")
    x.grad, w.grad = 10.0, 20.0
    product = x * w
    shared = ag.sum([product.tanh(), Value(0.0), Value(0.0)])  # three inputs: a stored tuple
    out = shared * shared + x
    shared.grad = product.grad = 7.0
    stored = shared._local
    shared._local = (_Interrupt(), 1.0, 1.0)  # reached after out's and the square's edges
    with pytest.raises(KeyboardInterrupt):
        if how == "gradients":
            ag.gradients(out)
        elif how == "grad":
            grad(out, [x, w])
        else:
            with detect_anomaly():
                out.backward()
    assert (x.grad, w.grad, shared.grad, product.grad) == (10.0, 20.0, 7.0, 7.0)
    nodes = ag.topological_order(out)
    assert all(node._users == 0 and node._pending is None for node in nodes)
    shared._local = stored
    x.grad = w.grad = 0.0
    out.backward()
    t = math.tanh(0.5 * -1.5)
    assert x.grad == pytest.approx(2 * t * (1 - t * t) * -1.5 + 1, rel=1e-12)
    assert w.grad == pytest.approx(2 * t * (1 - t * t) * 0.5, rel=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: ag.topological_order(None), "topological_order expects a Value, got NoneType"),
    (lambda: ag.gradients(None), "gradients expects a Value, got NoneType"),
    (lambda: ag.gradients(1.0), "gradients expects a Value, got float"),
    (lambda: ag.gradients(Value(1.0) * 2, seed="a"), "gradients(seed=...)"),
    (lambda: ag.gradients(Value(1.0) * 2, create_graph="no"),
     "gradients: create_graph must be True or False"),
    (lambda: grad(Value(1.0) * 2, [], create_graph="no"),
     "grad: create_graph must be True or False"),
])
def test_the_passes_name_a_wrong_argument(call, message) -> None:
    """The compiled core took None for a Value and crashed the process (SIGSEGV); a flag
    of "no" turned create_graph on."""
    with pytest.raises(TypeError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("code", [
    "v = ag.Value(1.0) * 2\ntry:\n    v.children = (None,)\nexcept AttributeError:\n"
    "    raise SystemExit(3)  # read-only, compiled\nv.backward()",
    "ag.mirror.write_data((None,), np.array([1.0]))",
])
def test_none_among_nodes_is_an_error_never_a_crash(code: str) -> None:
    """A None where a node belongs was read and written as one by the compiled core: a
    segmentation fault, or a number stored inside Python's None."""
    import subprocess
    import sys
    program = "import numpy as np\nimport autograd_scalar as ag\n" + code
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode in (1, 3), ran           # an exception (or refused), not a signal
    assert ran.returncode == 3 or "AttributeError" in ran.stderr, ran.stderr


def test_ctrl_c_at_any_moment_of_backward_leaves_all_or_none_of_its_gradients() -> None:
    """Ctrl-C while the interpreted core wrote the gradients stopped it half way (1,559
    of 50,000 leaves changed) and left scratch sums that every later pass added in."""
    import random
    import signal
    import time

    leaves = [Value(1.0) for _ in range(5_000)]
    out = ag.sum([leaf * 1.0 for leaf in leaves])
    started = time.perf_counter()
    out.backward()
    took = time.perf_counter() - started
    previous = signal.signal(signal.SIGALRM, lambda *_: signal.raise_signal(signal.SIGINT))
    outside = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C's own here
    try:
        rng = random.Random(0)
        for _ in range(30):
            before = [leaf.grad for leaf in leaves]
            signal.setitimer(signal.ITIMER_REAL, rng.uniform(0.0, took * 1.5))
            try:
                out.backward()
                signal.setitimer(signal.ITIMER_REAL, 0.0)
                time.sleep(took)                     # a late alarm lands here, not below
            except KeyboardInterrupt:
                pass
            changed = sum(leaf.grad != old for leaf, old in zip(leaves, before))
            assert changed in (0, len(leaves))
            assert all(node._pending is None for node in ag.topological_order(out))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
        signal.signal(signal.SIGINT, outside)


def test_interrupts_deferred_holds_ctrl_c_to_the_end_and_restores_the_handler():
    import signal
    outside = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C's own here
    try:
        done = []
        with pytest.raises(KeyboardInterrupt), ag.interrupts_deferred():
            signal.raise_signal(signal.SIGINT)
            done.append("the rest of the block")
        assert done == ["the rest of the block"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with ag.interrupts_deferred():  # nothing held: nothing raised
            done.append("again")
    finally:
        signal.signal(signal.SIGINT, outside)


def test_anomaly_finds_a_gradient_that_finite_shares_sum_past_float_range() -> None:
    """a*x + a*x with a = 1e308: each share of x's gradient finite, their sum inf; and a
    leaf's old gradient plus this pass's. Nothing raised, x.grad was inf."""
    a, x = Value(1e308, label="a"), Value(1e-10, label="x")
    y = a * x + a * x
    with detect_anomaly(), pytest.raises(AnomalyError, match=re.escape(
            "the gradient of 'x' (1e-10) is inf, the sum of its users' shares")):
        y.backward()
    assert x.grad == 0.0 and all(n._pending is None for n in ag.topological_order(y))
    x.grad = 1e308
    z = a * x
    with detect_anomaly(), pytest.raises(AnomalyError, match=re.escape(
            "the sum of its gradient before (1e+308) and this pass's (1e+308)")):
        z.backward()
    assert x.grad == 1e308


@pytest.mark.parametrize("name", ["backward", "grad", "gradients"])
def test_a_sigint_at_each_bytecode_of_a_pass_leaves_no_sum_and_all_or_no_gradients(name):
    """Holding Ctrl-C only around the stores left two windows in the interpreted core:
    after the summing, and on the way into the clearing; a Ctrl-C there left sums
    that the next pass added in (6.0 per leaf for 2.0). A SIGINT is raised here at each
    bytecode of the core's own frames in turn. (Compiled, the pass runs no bytecode:
    nothing is traced, and the pass is whole by construction.)"""
    import signal
    import sys

    core = ("autograd_scalar/backward.py", "autograd_scalar/mode.py")

    def interrupted_at(k: int, call) -> int:
        count = [0]

        def tracer(frame, event, arg):
            if not frame.f_code.co_filename.endswith(core):
                return None
            frame.f_trace_opcodes = True
            if event == "opcode":
                count[0] += 1
                if count[0] == k:
                    signal.raise_signal(signal.SIGINT)
            return tracer
        sys.settrace(tracer)
        try:
            call()
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        return count[0]

    outside = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        k = 1
        while True:
            leaves = [Value(1.0) for _ in range(3)]
            out = ag.sum([leaf * 2.0 for leaf in leaves])
            nodes = ag.topological_order(out)
            call = {"backward": out.backward,
                    "grad": lambda out=out, leaves=leaves: grad(out, leaves),
                    "gradients": lambda out=out: ag.gradients(out)}[name]
            ran = interrupted_at(k, call)
            assert all(node._pending is None for node in nodes), k
            assert len({leaf.grad for leaf in leaves}) == 1, k
            if ran < k:
                break
            k += 1
    finally:
        signal.signal(signal.SIGINT, outside)


def test_an_interrupts_deferred_block_opens_once_at_a_time():
    import signal
    outside = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        block = ag.interrupts_deferred()
        with block, pytest.raises(RuntimeError, match="already open"), block:
            pass
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with pytest.raises(KeyboardInterrupt), block:   # reused: holds its own Ctrl-C
            signal.raise_signal(signal.SIGINT)
        with block:                                     # and none left from before
            pass
    finally:
        signal.signal(signal.SIGINT, outside)
