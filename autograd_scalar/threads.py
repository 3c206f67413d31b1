"""How many threads BLAS may use inside a compiled run.

The tape's matrix products are small (a layer times a batch of 64): split over
several threads they gain little, and on a machine whose cores are busy with
other work a multi-threaded BLAS waits for its threads at every product and can
run ten times slower than with one. So every run of a tape limits BLAS to
``Tape.threads`` threads (1 by default; None leaves BLAS as it is) for the
duration of the run; outside the run the previous setting is restored.

threadpoolctl finds the BLAS libraries once; a run then only asks each library
its thread count and sets it when it is above the limit (a few µs a run, where
``threadpoolctl.threadpool_limits`` rescans the libraries each time, about 10 µs).
A run whose largest matrix product is below ``SMALL_PRODUCT`` multiply-adds
(micrograd's 2-16-16-1 at batch 64: 16,384) is left alone: BLAS runs products that
small on the calling thread anyway (OpenBLAS below 4 x 65,536, its GEMM threshold).
"""

from __future__ import annotations

import contextlib
from typing import Any

SMALL_PRODUCT = 65_536
"""Multiply-adds (m x n x k) below which a product is not worth limiting threads for."""

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


def blas_threads(threads: int | None, work: int | None = None
                 ) -> contextlib.AbstractContextManager[Any]:
    """A context in which BLAS uses at most ``threads`` threads (no limit for None).

    ``work``: the multiply-adds of the largest product to run inside; below
    ``SMALL_PRODUCT`` nothing is changed.
    """
    if isinstance(threads, bool) or not (threads is None or isinstance(threads, int)) or (
            threads is not None and threads < 1):
        raise ValueError(f"threads must be None or a positive int, got {threads!r}")
    if threads is None or (work is not None and work < SMALL_PRODUCT):
        return contextlib.nullcontext()
    return _Limit(threads)
