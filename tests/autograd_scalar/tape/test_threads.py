"""The BLAS thread rule of compiled runs, checked on stand-in BLAS libraries.

The rule is decided from the setting and the run's largest product only: the same
inputs give the same limit whatever the machine's load. The count is changed only
inside runs, only downwards, and restored when the last run in progress ends, even
when runs in several threads overlap.
"""

from __future__ import annotations

import contextlib
import os
import threading

import pytest

from autograd_scalar.tape import threads
from autograd_scalar.tape.threads import SMALL_PRODUCT, blas_threads


class Library:
    """A stand-in for threadpoolctl's controller of one BLAS library."""

    def __init__(self, count: int | None) -> None:
        self.count, self.sets = count, []

    def get_num_threads(self) -> int | None:
        return self.count

    def set_num_threads(self, count: int) -> None:
        self.sets.append(count)
        self.count = count


@pytest.fixture
def blas(monkeypatch) -> Library:
    library = Library(2)
    monkeypatch.setattr(threads, "_libraries", [library])
    return library


def test_the_limit_is_decided_from_the_setting_and_the_size_only(monkeypatch) -> None:
    for load in (0.0, 50.0):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load),
                            raising=False)
        assert blas_threads(1, SMALL_PRODUCT).threads == 1
        assert blas_threads(3, 10**9).threads == 3
        assert isinstance(blas_threads(1, SMALL_PRODUCT - 1), contextlib.nullcontext)
        assert isinstance(blas_threads(None, 10**9), contextlib.nullcontext)


def test_the_default_is_one_thread() -> None:
    from autograd_scalar.tape import Tape

    assert Tape.threads == 1


def test_the_count_is_lowered_inside_the_run_only_and_restored(blas) -> None:
    with blas_threads(1, SMALL_PRODUCT):
        assert blas.count == 1
    assert blas.count == 2 and blas.sets == [1, 2]


def test_a_count_already_within_the_limit_is_never_written(blas) -> None:
    with blas_threads(2, SMALL_PRODUCT), blas_threads(5, SMALL_PRODUCT):
        pass
    blas.count = 1                                   # as with OPENBLAS_NUM_THREADS=1
    with blas_threads(1, SMALL_PRODUCT):
        pass
    assert blas.sets == []


def test_none_and_small_products_leave_the_users_setting_alone(blas) -> None:
    blas.count = 7
    with blas_threads(None, 10**9), blas_threads(1, SMALL_PRODUCT - 1):
        assert blas.count == 7
    assert blas.sets == []


def test_overlapping_runs_restore_the_count_when_the_last_one_ends(blas) -> None:
    """Run A starts, run B starts, A ends, B ends (as tapes in two threads may): the
    count stays lowered while either runs and comes back to 2, never left at 1."""
    a, b = blas_threads(1, SMALL_PRODUCT), blas_threads(1, SMALL_PRODUCT)
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    assert blas.count == 1
    b.__exit__(None, None, None)
    assert blas.count == 2 and threads._running == 0


def test_runs_in_many_threads_leave_the_count_as_it_was(blas) -> None:
    start = threading.Barrier(4)

    def runs() -> None:
        start.wait(timeout=30)
        for _ in range(500):
            with blas_threads(1, SMALL_PRODUCT):
                assert blas.count == 1

    workers = [threading.Thread(target=runs) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert blas.count == 2 and threads._running == 0 and not threads._restore


def test_the_count_is_restored_when_the_run_raises(blas) -> None:
    with pytest.raises(RuntimeError), blas_threads(1, SMALL_PRODUCT):
        raise RuntimeError("the run failed")
    assert blas.count == 2


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2", "auto", b"1"])
def test_blas_threads_refuses_a_setting_it_does_not_know(bad) -> None:
    with pytest.raises(ValueError, match="threads must be None or a positive int"):
        blas_threads(bad)


def test_two_threads_running_one_tape_each_get_their_own_numbers() -> None:
    """A run reuses the tape's buffers: without taking turns, one thread's forward read
    the other's batch (3 to 8 of 40 compiled predictions wrong per thread)."""
    import numpy as np

    import nn

    model = nn.MLP(8, [32, 32, 1], seed=0)
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8)) * 3]
    expected = [nn.predict(model, X, compiled=True) for X in batches]
    wrong = [0, 0]
    start = threading.Barrier(2)

    def predict(i: int) -> None:
        start.wait(timeout=30)
        for _ in range(40):
            wrong[i] += not np.array_equal(nn.predict(model, batches[i], compiled=True),
                                           expected[i])

    workers = [threading.Thread(target=predict, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert wrong == [0, 0]
