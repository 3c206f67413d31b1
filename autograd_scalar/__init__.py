"""autograd_scalar: a scalar reverse-mode automatic-differentiation engine.

Every operation is one row of an op table (:mod:`autograd_scalar.ops`); a
:class:`Value` records each step of a computation as a node, and ``backward()``
runs the chain rule over the graph in reverse topological order.
"""

from .animate import animate_backward
from .backward import grad, gradients, topological_order
from .functions import cos, dot, exp, log, logsumexp, relu, sigmoid, sin, softplus, sqrt, sum, tanh
from .graph import GraphDrawing, draw_graph
from .mode import AnomalyError, detect_anomaly, is_grad_enabled, no_grad, scope
from .ops import Op
from .render import GraphvizNotFound, render
from .value import Value

__version__ = "0.1.0"

__all__ = [
    "AnomalyError", "GraphDrawing", "GraphvizNotFound", "Op", "Value", "__version__",
    "animate_backward", "cos", "detect_anomaly", "dot", "draw_graph", "exp", "grad",
    "gradients", "is_grad_enabled", "log", "logsumexp", "no_grad", "relu", "render", "scope",
    "sigmoid", "sin", "softplus", "sqrt", "sum", "tanh", "topological_order",
]
