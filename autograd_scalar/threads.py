"""How many threads BLAS may use inside a compiled run.

The tape's matrix products are small (a layer times a batch of 64). On an idle
machine BLAS's own threads still help a little (784-128-128-10 at batch 64 runs
faster on 2 threads than on 1), but on a machine whose cores are busy with other
work a multi-threaded BLAS waits for its threads at every product and can run
ten times slower than with one. So every run of a tape sets BLAS's threads by
``Tape.threads`` for the duration of the run, restoring the previous counts after:

- ``"auto"`` (the default): BLAS keeps at most as many threads as there are idle
  cores, and at least 1. The cores other work occupies are estimated as

      other = max(0, L - own),        idle = cores - other,
      limit = max(1, floor(idle + 1/2))

  where ``L`` is the 1-minute load average (``os.getloadavg()[0]``, runnable
  threads of the whole machine), ``own`` this process's CPU use in cores averaged
  the same way (the CPU time it used since the last sample over the wall time,
  folded into an exponential average of time constant 60 s, as the kernel folds
  the run queue into ``L``), and ``cores`` the cores this process may run on. The
  half core of margin lets background noise pass: on 2 cores, BLAS keeps its 2
  threads while other work stays under half a core, and runs on 1 thread once it
  exceeds that. The figures are sampled at most once a second (``SAMPLE_EVERY``)
  and the limit is cached in between, so a run pays one clock read. Where the
  load average is unknown (``os.getloadavg`` is missing, as on Windows) the
  limit is 1, the safe choice. A load average follows changes over tens of
  seconds: a run started just as other work starts may still use all cores, and
  one started just after other heavy work ended may use 1 thread for up to a
  minute.
- an int ``n``: at most ``n`` threads in every run;
- ``None``: BLAS is left as it is.

threadpoolctl finds the BLAS libraries once; a run then only asks each library
its thread count and sets it when it is above the limit (a few µs a run, where
``threadpoolctl.threadpool_limits`` rescans the libraries each time, about 10 µs).
A run whose largest matrix product is below ``SMALL_PRODUCT`` multiply-adds
(micrograd's 2-16-16-1 at batch 64: 16,384) is left alone whatever the setting:
BLAS runs products that small on the calling thread anyway (OpenBLAS below
4 x 65,536, its GEMM threshold), so threads neither help nor hurt there.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable
from typing import Any, Literal, Union

SMALL_PRODUCT = 65_536
"""Multiply-adds (m x n x k) below which a product is not worth limiting threads for."""

SAMPLE_EVERY = 1.0
"""Seconds between two samples of the machine's load for the ``"auto"`` policy."""

LOAD_TIME_CONSTANT = 60.0
"""Seconds: the time constant of the 1-minute load average, used for ``own`` too."""

Threads = Union[int, None, Literal["auto"]]
"""A thread setting: ``"auto"``, a positive int, or None (see the module docstring)."""

_libraries: list[Any] | None = None


def _blas_libraries() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded (NumPy's), found once."""
    global _libraries
    if _libraries is None:
        import numpy  # noqa: F401 (its BLAS must be loaded to be found)
        from threadpoolctl import ThreadpoolController

        _libraries = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _libraries


def idle_limit(load: float, cores: int, own: float) -> int:
    """The ``"auto"`` policy's thread limit: ``max(1, floor(cores - other + 1/2))`` with
    ``other = max(0, load - own)``, the cores occupied by work other than this process.

    ``load``: the machine's load average; ``cores``: the cores this process may use;
    ``own``: this process's own share of ``load``, in cores.
    """
    if not (isinstance(cores, int) and not isinstance(cores, bool) and cores >= 1):
        raise ValueError(f"cores must be a positive int, got {cores!r}")
    for name, figure in (("load", load), ("own", own)):
        if not (isinstance(figure, (int, float)) and math.isfinite(figure) and figure >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {figure!r}")
    other = max(0.0, load - own)
    return max(1, math.floor(cores - other + 0.5))


def _cores() -> int:
    """The cores this process may run on (its affinity where the system says)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _load() -> float | None:
    """The machine's 1-minute load average, None where the system has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


class LoadSampler:
    """The ``"auto"`` limit, recomputed at most once every ``every`` seconds.

    ``clock`` (wall seconds), ``cpu_time`` (this process's CPU seconds, all threads),
    ``load`` (the load average, or None when unknown) and ``cores`` are read through
    the callables given, so the policy can be checked on given figures.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 cpu_time: Callable[[], float] = time.process_time,
                 load: Callable[[], float | None] = _load,
                 cores: Callable[[], int] = _cores,
                 every: float = SAMPLE_EVERY,
                 time_constant: float = LOAD_TIME_CONSTANT) -> None:
        self.clock, self.cpu_time, self.load, self.cores = clock, cpu_time, load, cores
        self.every, self.time_constant = every, time_constant
        self.own = 0.0                 # this process's CPU use in cores, averaged
        self._since = (clock(), cpu_time())
        self._next = -math.inf         # clock time of the next sample
        self._limit = 1

    def limit(self) -> int:
        """The thread limit for a run starting now (cached between samples)."""
        now = self.clock()
        if now < self._next:
            return self._limit
        then, cpu_then = self._since
        cpu_now = self.cpu_time()
        elapsed = now - then
        if elapsed > 0:
            rate = max(0.0, cpu_now - cpu_then) / elapsed
            keep = math.exp(-elapsed / self.time_constant)
            self.own = keep * self.own + (1.0 - keep) * rate
        self._since = (now, cpu_now)
        load = self.load()
        self._limit = 1 if load is None else idle_limit(load, self.cores(), self.own)
        self._next = now + self.every
        return self._limit


_sampler = LoadSampler()


class _Limit:
    """At most ``threads`` BLAS threads inside the ``with`` block; previous counts after."""

    __slots__ = ("threads", "restore")

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.restore: list[tuple[Any, int]] = []

    def __enter__(self) -> _Limit:
        restore = []
        for library in _blas_libraries():
            current = library.get_num_threads()
            if current is not None and current > self.threads:
                library.set_num_threads(self.threads)
                restore.append((library, current))
        self.restore = restore
        return self

    def __exit__(self, *exc: object) -> None:
        for library, count in self.restore:
            library.set_num_threads(count)
        self.restore = []


def check_threads(threads: object) -> None:
    """Raise ValueError unless ``threads`` is ``"auto"``, None or a positive int."""
    if threads is None or (isinstance(threads, str) and threads == "auto"):
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be 'auto', None or a positive int, got {threads!r}")


def blas_threads(threads: Threads, work: int | None = None
                 ) -> contextlib.AbstractContextManager[Any]:
    """A context in which BLAS uses at most ``threads`` threads (see the module docstring:
    ``"auto"`` limits it to the idle cores, None leaves it alone).

    ``work``: the multiply-adds of the largest product to run inside; below
    ``SMALL_PRODUCT`` nothing is changed.
    """
    check_threads(threads)
    if threads is None or (work is not None and work < SMALL_PRODUCT):
        return contextlib.nullcontext()
    return _Limit(_sampler.limit() if threads == "auto" else int(threads))
