"""compile: a per-example function traced once, then run on whole batches with NumPy.

The modules in the order a run meets them:

- :mod:`.program`: the trace, a function called once on placeholders, kept as an inert
  program of levels and groups of like nodes.
- :mod:`.layout`: where the numbers live: per-example rows, and the shared leaves
  (parameters) as two contiguous arrays.
- :mod:`.cost`: which strategy runs each group, from a measured cost model.
- :mod:`.groups`, :mod:`.matrix`, :mod:`.dense`, :mod:`.lookup`: grouped steps, dense
  layers (and one matrix over several input vectors) as matrix products fused with their
  activation, ``index`` rows as fancy indexing; :mod:`.ragged`: one level's nodes of a
  stacked row with different operand counts as one padded stack; :mod:`.batched`: dots
  over per-example operands (attention) as batched matrix products; :mod:`.products`: a zero
  partial passes nothing back; :mod:`.rules` and :mod:`.code`: straight-line code written
  from each row's own rule.
- :mod:`.run`: a plan per batch size, forward then backward.
- :mod:`.check`: rows checked on arrays at the trace, runs against the eager graph.
- :mod:`.threads`: BLAS's threads during a run.
- :mod:`.tape`: :class:`Tape` and :func:`compile`, the public face of all of it.
"""

from .check import EagerRun, TraceMismatchError
from .program import DataDependenceError, DataRead, TraceError, peek
from .tape import CHECK_RTOL, Tape, TapeGradients, compile, tape_dtype

__all__ = ["CHECK_RTOL", "DataDependenceError", "DataRead", "EagerRun", "Tape", "TapeGradients",
           "TraceError", "TraceMismatchError", "compile", "peek", "tape_dtype"]
