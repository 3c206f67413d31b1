"""How many threads BLAS may use inside a compiled run.

The tape's matrix products are small (a layer times a batch). On a machine whose
cores are busy with other work, a multi-threaded BLAS waits for its threads at
every product and runs many times slower than on one thread; on an idle machine
its threads gain little at these sizes (``python -m benchmarks.blas_threads``
measures both). So ``Tape.threads`` decides BLAS's threads for a run, from the
setting and the run's size only (never from the machine's load):

- ``1`` (the default): at most one thread;
- an int ``n``: at most ``n`` threads;
- ``None``: BLAS is left as it is: the user's own setting (``OPENBLAS_NUM_THREADS``,
  ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` or ``threadpoolctl``) holds.

A run whose largest product is below ``SMALL_PRODUCT`` multiply-adds (micrograd's
2-16-16-1 at batch 64: 16,384) is left alone whatever the setting: BLAS runs
products that small on the calling thread anyway (OpenBLAS below 4 x 65,536).
Nor is anything changed when BLAS already uses at most ``n`` threads (as with
``OPENBLAS_NUM_THREADS=1``).

Otherwise the limit is applied for the duration of the run and the previous count
restored after it; compiled training (``nn.compiled.CompiledTraining``) holds it for
its whole step (``Tape.blas_limit``), so that the optimizer's products, such as its
finiteness check over every parameter, do not run on every thread either: on a
machine with one core busy they had made a step many times slower. A BLAS library's
thread count is process-wide: while a tape runs, BLAS calls made by other threads of
the process are limited too. Runs of
tapes in several threads at once share one limit (the lowest asked for): it is
set when the first run starts and restored when the last one ends, so the
previous count always comes back. Set ``Tape.threads = None`` where another thread
must keep BLAS's threads during tape runs.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Union

from ..validate import integer

SMALL_PRODUCT = 65_536
"""Multiply-adds (m x n x k) below which a product is not worth limiting threads for."""

Threads = Union[int, None]
"""A thread setting: a positive int, or None (see the module docstring)."""

_lock = threading.Lock()
_running = 0                            # tape runs inside a limit, in all threads
_restore: dict[Any, int] = {}           # library -> its count before the first of them
_libraries: list[Any] | None = None


def _blas_libraries() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded (NumPy's), found once."""
    global _libraries
    if _libraries is None:
        import numpy  # noqa: F401 (its BLAS must be loaded to be found)
        from threadpoolctl import ThreadpoolController

        _libraries = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _libraries


class _Limit:
    """At most ``threads`` BLAS threads inside the ``with`` block (see the module
    docstring: shared by the runs in progress, restored when the last one ends)."""

    __slots__ = ("threads",)

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def __enter__(self) -> _Limit:
        global _running
        with _lock:
            for library in _blas_libraries():
                current = library.get_num_threads()
                if current is not None and current > self.threads:
                    library.set_num_threads(self.threads)
                    _restore.setdefault(library, current)
            _running += 1
        return self

    def __exit__(self, *exc: object) -> None:
        global _running
        with _lock:
            _running -= 1
            if _running == 0:
                for library, count in _restore.items():
                    library.set_num_threads(count)
                _restore.clear()


def check_threads(threads: object) -> None:
    """Raise ValueError unless ``threads`` is None or a positive int."""
    if threads is not None:
        integer("threads", threads, 1, what="None or a positive int")


def blas_threads(threads: Threads, work: int | None = None
                 ) -> contextlib.AbstractContextManager[Any]:
    """A context in which BLAS uses at most ``threads`` threads (None: left alone).

    ``work``: the multiply-adds of the largest product to run inside; below
    ``SMALL_PRODUCT`` nothing is changed.
    """
    check_threads(threads)
    if threads is None or (work is not None and work < SMALL_PRODUCT):
        return contextlib.nullcontext()
    return _Limit(threads)
