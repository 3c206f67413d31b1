"""The BLAS thread policy of compiled runs, decided from given figures.

``idle_limit`` is the ``"auto"`` rule: at most as many threads as idle cores, where
the cores other work occupies are the load average minus this process's own share.
``LoadSampler`` reads the figures through the callables it is given, so its
averaging and its once-a-second cache are checked on a fake clock.
"""

from __future__ import annotations

import contextlib
import math

import pytest

from autograd_scalar import threads
from autograd_scalar.threads import SMALL_PRODUCT, LoadSampler, blas_threads, idle_limit


@pytest.mark.parametrize("load, cores, own, expected", [
    (0.37, 2, 0.0, 2),     # a quiet machine: BLAS keeps both cores
    (1.0, 2, 1.0, 2),      # this process alone: its own load does not count against it
    (2.0, 2, 1.0, 1),      # another process occupies one of the two cores
    (0.6, 2, 0.0, 1),      # other work above half a core takes the core
    (0.49, 2, 0.0, 2),     # below half a core it is background noise
    (10.0, 64, 0.0, 54),   # a large machine keeps its idle cores
    (100.0, 8, 0.0, 1),    # overloaded: never below one thread
    (0.5, 2, 1.8, 2),      # own share above the load (averages lag): other work is 0
    (0.0, 1, 0.0, 1),
])
def test_idle_limit_counts_the_cores_other_work_leaves_idle(load, cores, own, expected
                                                            ) -> None:
    assert idle_limit(load, cores, own) == expected
    other = max(0.0, load - own)
    assert expected == max(1, math.floor(cores - other + 0.5))


@pytest.mark.parametrize("load, cores, own, wrong", [
    (1.0, 0, 0.0, "cores"), (1.0, True, 0.0, "cores"), (1.0, 2.0, 0.0, "cores"),
    (-1.0, 2, 0.0, "load"), (math.nan, 2, 0.0, "load"), (math.inf, 2, 0.0, "load"),
    ("1", 2, 0.0, "load"), (1.0, 2, -0.1, "own"),
])
def test_idle_limit_refuses_figures_that_are_not_counts(load, cores, own, wrong) -> None:
    with pytest.raises(ValueError, match=f"{wrong} must be"):
        idle_limit(load, cores, own)


class Machine:
    """Figures a sampler reads: a clock, this process's CPU seconds, the load average."""

    def __init__(self, load: float | None) -> None:
        self.now, self.cpu, self.load, self.loads_read = 0.0, 0.0, load, 0

    def read_load(self) -> float | None:
        self.loads_read += 1
        return self.load

    def sampler(self, cores: int = 2) -> LoadSampler:
        return LoadSampler(clock=lambda: self.now, cpu_time=lambda: self.cpu,
                           load=self.read_load, cores=lambda: cores)

    def run(self, seconds: float, cores_used: float) -> None:
        self.now += seconds
        self.cpu += seconds * cores_used


def test_sampler_averages_its_own_cpu_use_like_the_load_average() -> None:
    machine = Machine(load=2.0)
    sampler = machine.sampler()
    machine.run(1.0, cores_used=1.0)
    assert sampler.limit() == 1                     # 2 runnable, almost none of them ours yet
    assert sampler.own == pytest.approx(1 - math.exp(-1 / 60), rel=1e-12)
    machine.run(600.0, cores_used=1.0)              # ten minutes on one core
    assert sampler.own == pytest.approx(1 - math.exp(-1 / 60), rel=1e-12)  # cached
    machine.load = 1.0                              # the load is this process alone
    sampler._next = -math.inf                       # force a sample now
    assert sampler.limit() == 2
    assert sampler.own == pytest.approx(1 - math.exp(-601 / 60), rel=1e-9)
    machine.load = 2.0                              # and another process on the second core
    machine.run(1.0, cores_used=1.0)
    assert sampler.limit() == 1


def test_sampler_reads_the_load_at_most_once_a_second() -> None:
    machine = Machine(load=0.0)
    sampler = machine.sampler()
    assert sampler.limit() == 2 and machine.loads_read == 1
    machine.load = 5.0
    machine.run(0.5, cores_used=0.0)
    assert sampler.limit() == 2 and machine.loads_read == 1   # the cached limit
    machine.run(0.5, cores_used=0.0)
    assert sampler.limit() == 1 and machine.loads_read == 2   # a second later: sampled


def test_sampler_limits_to_one_thread_where_the_load_is_unknown() -> None:
    sampler = Machine(load=None).sampler(cores=8)
    assert sampler.limit() == 1


class FixedSampler:
    def __init__(self, limit: int) -> None:
        self.fixed = limit

    def limit(self) -> int:
        return self.fixed


@pytest.mark.parametrize("decided", [1, 3])
def test_auto_applies_the_samplers_limit_to_large_products_only(monkeypatch, decided) -> None:
    monkeypatch.setattr(threads, "_sampler", FixedSampler(decided))
    limit = blas_threads("auto", SMALL_PRODUCT)
    assert not isinstance(limit, contextlib.nullcontext) and limit.threads == decided
    assert isinstance(blas_threads("auto", SMALL_PRODUCT - 1), contextlib.nullcontext)


def test_explicit_settings_ignore_the_machines_load(monkeypatch) -> None:
    monkeypatch.setattr(threads, "_sampler", FixedSampler(1))
    assert blas_threads(4, SMALL_PRODUCT).threads == 4
    assert isinstance(blas_threads(None, SMALL_PRODUCT), contextlib.nullcontext)
    assert isinstance(blas_threads(1, SMALL_PRODUCT - 1), contextlib.nullcontext)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2", "Auto", b"auto"])
def test_blas_threads_refuses_a_setting_it_does_not_know(bad) -> None:
    with pytest.raises(ValueError, match="threads must be 'auto', None or a positive int"):
        blas_threads(bad)
