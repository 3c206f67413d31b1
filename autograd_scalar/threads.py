"""How many threads BLAS may use inside a compiled run.

The tape's matrix products are small (a layer times a batch of 64): split over
several threads they gain little, and on a machine whose cores are busy with
other work a multi-threaded BLAS waits for its threads at every product and can
run ten times slower than with one. So every run of a tape limits BLAS to
``Tape.threads`` threads (1 by default; None leaves BLAS as it is) for the
duration of the run, with threadpoolctl, at a cost of about 10 µs a run; outside
the run the previous setting is restored.
"""

from __future__ import annotations

import contextlib
from typing import Any

_controller: Any = None


def blas_threads(threads: int | None) -> contextlib.AbstractContextManager[Any]:
    """A context in which BLAS uses at most ``threads`` threads (no limit for None)."""
    global _controller
    if threads is None:
        return contextlib.nullcontext()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be None or a positive int, got {threads!r}")
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=threads, user_api="blas")
