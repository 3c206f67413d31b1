"""The engine's mode is per thread, and passes over shared graphs take turns.

``no_grad``, ``detect_anomaly`` and ``scope`` live in a context variable: a block in
one thread changes nothing in another, and a new thread starts with the defaults.
Backward passes keep scratch counts and sums on the nodes, so passes from several
threads over graphs that share nodes are serialized and give the serial result.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import autograd_scalar as ag
from autograd_scalar import Value


def _in_thread(work: Callable[[], object]) -> object:
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(work()))
    thread.start()
    thread.join(timeout=30)
    assert found, "the thread did not finish"
    return found[0]


def test_no_grad_in_one_thread_leaves_another_threads_graph_alone() -> None:
    entered, built = threading.Event(), threading.Event()

    def inference() -> None:
        with ag.no_grad():
            entered.set()
            built.wait(timeout=30)

    other = threading.Thread(target=inference)
    other.start()
    assert entered.wait(timeout=30)
    try:
        x = Value(2.0)
        y = x * x
        assert ag.is_grad_enabled() and y.children == (x, x)
    finally:
        built.set()
        other.join(timeout=30)


def test_a_new_thread_starts_with_the_defaults_whatever_the_caller_is_in() -> None:
    with ag.no_grad(), ag.detect_anomaly(), ag.scope("outer"):
        seen = _in_thread(lambda: (ag.is_grad_enabled(), ag.current_scope(),
                                   (Value(1.0) * 2.0).children != ()))
        assert not ag.is_grad_enabled() and ag.current_scope() == "outer"
    assert seen == (True, "", True)


def test_scopes_tag_only_their_own_threads_nodes() -> None:
    def tagged(name: str) -> list[str]:
        with ag.scope(name):
            return [(Value(float(i)) * 2.0).scope for i in range(200)]

    results: dict[str, list[str]] = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, tagged(n)))
               for n in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert set(results["left"]) == {"left"} and set(results["right"]) == {"right"}


def _loss(ws: list[Value], shift: float) -> Value:
    out = Value(0.0)
    for i, w in enumerate(ws):
        out = out + (w * (i + shift)).tanh() * w
    return out


def test_concurrent_backward_over_shared_parameters_gives_the_serial_gradients() -> None:
    ws = [Value(0.01 * i - 0.3) for i in range(60)]
    losses = [_loss(ws, shift) for shift in range(8)]
    expected = [ag.grad(loss, ws) for loss in losses]
    start = threading.Barrier(len(losses))
    found: dict[int, list[list[float]]] = {}

    def work(k: int) -> None:
        start.wait(timeout=30)
        found[k] = [ag.grad(losses[k], ws) for _ in range(25)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(losses))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for k, runs in found.items():
        assert all(run == expected[k] for run in runs), k
    assert len(found) == len(losses)


def test_concurrent_backward_calls_accumulate_every_pass_into_shared_leaves() -> None:
    ws = [Value(0.5 + 0.01 * i) for i in range(40)]
    passes, threads_count = 20, 4
    per_pass = ag.grad(_loss(ws, 1.0), ws)

    def work() -> None:
        for _ in range(passes):
            _loss(ws, 1.0).backward()

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    total = passes * threads_count
    for w, g in zip(ws, per_pass):
        assert math.isclose(w.grad, total * g, rel_tol=1e-12), (w.grad, total * g)
