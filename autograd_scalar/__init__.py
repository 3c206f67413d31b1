"""autograd_scalar: a scalar reverse-mode automatic-differentiation engine.

Every operation is one row of an op table (:mod:`autograd_scalar.ops`); a
:class:`Value` records each step of a computation as a node, and ``backward()``
runs the chain rule over the graph in reverse topological order. Forward mode
(:mod:`autograd_scalar.forward`) reads the same stored local derivatives inputs-first.
"""
# ruff: noqa: E402 (the core is chosen, compiled or source, before it is imported)

from .purepython import compiled, prefer_source

prefer_source(__name__, __path__[0])

from . import mirror, ops, validate, value
from .backward import grad, gradients, topological_order
from .check.check_graph import GraphReport, NodeFailure, SkippedNode, check_graph
from .check.diff import Difference, DiffReport, diff
from .check.gradcheck import (
    CheckEntry,
    CheckReport,
    GradcheckError,
    gradcheck,
    gradcheck_report,
    gradgradcheck,
)
from .check.taylor import (
    TaylorError,
    TaylorReport,
    TaylorResult,
    TaylorRow,
    taylor_report,
    taylor_test,
    taylorcheck,
)
from .derivatives import hessian, jacobian
from .draw.animate import animate_backward
from .draw.graph import GraphDrawing, draw_graph
from .draw.layout import GraphvizNotFound, LayoutTimeout
from .draw.render import DRAWING_SUFFIXES, render
from .explorer import explore
from .explorer.notebook import register_value_display, set_display
from .files import output_file, write_atomically
from .forward import DualLevel, dual, forward_ad, hvp, jacfwd, jvp, tangent, tangents
from .free_functions import ELEMENTWISE, affine, dot, gather, linear, logsumexp
from .free_functions import sum as sum  # public, out of __all__ (BUILTIN_NAMES)
from .function import Function
from .mode import (
    AnomalyError,
    current_scope,
    detect_anomaly,
    interrupts_deferred,
    is_grad_enabled,
    joined_scope,
    no_grad,
    scope,
)
from .ops import Op
from .tape import (
    DataDependenceError,
    DataRead,
    EagerRun,
    Tape,
    TapeGradients,
    TraceError,
    TraceMismatchError,
    peek,
    tape_dtype,
)
from .tape import compile as compile  # public, out of __all__ (BUILTIN_NAMES)
from .value import Value

register_value_display()
if value.INTERPRETED:  # the rules written into the operators, now that the tape reads them
    from .tape.rules import scalar_rule

    value.write_out(scalar_rule)


def __getattr__(name: str) -> object:
    """``GraphView`` (the notebook widget) is imported on first use, with anywidget."""
    if name == "GraphView":
        from .explorer.widget import GraphView

        return GraphView
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
globals().update(ops.METHODS)  # exp, log, tanh, erf, gelu, ...: the table's rows as functions

__version__ = "0.1.0"

BUILTIN_NAMES = ("abs", "compile", "sum")
"""Public names that are also Python builtins: ``autograd_scalar.sum``, ``.abs`` and
``.compile`` are the engine's, but they stay out of ``__all__``, so that
``from autograd_scalar import *`` leaves Python's own ``sum``, ``abs`` and ``compile``
as they were (a ``sum`` of floats in the same notebook must stay a float)."""

__all__ = [
    "AnomalyError", "CheckEntry", "CheckReport", "DRAWING_SUFFIXES", "DataDependenceError",
    "DataRead", "DiffReport", "Difference", "DualLevel", "EagerRun", "Function", "NodeFailure",
    "SkippedNode", "TaylorReport", "TaylorResult", "TaylorRow",
    "GradcheckError", "GraphDrawing",
    "GraphReport", "GraphView", "GraphvizNotFound", "LayoutTimeout", "Op", "Tape",
    "TapeGradients", "TraceError", "TraceMismatchError", "Value", "__version__", "affine",
    "animate_backward", "check_graph", "compiled", "current_scope",
    "detect_anomaly", "diff", "dot", "draw_graph", "explore", "gather", "grad", "gradcheck",
    "gradcheck_report", "gradgradcheck", "gradients", "hessian", "is_grad_enabled", "jacobian",
    "joined_scope", "linear", "logsumexp", "mirror", "no_grad", "ops", "peek", "render", "scope",
    "set_display", "tape_dtype", "validate",
    "TaylorError", "dual", "forward_ad", "hvp", "jacfwd", "jvp", "tangent", "tangents",
    "taylor_report", "taylor_test", "taylorcheck",
    "interrupts_deferred", "output_file", "topological_order", "write_atomically",
    *(name for name in ELEMENTWISE if name not in BUILTIN_NAMES),
]
