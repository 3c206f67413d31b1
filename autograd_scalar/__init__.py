"""autograd_scalar: a scalar reverse-mode automatic-differentiation engine.

Every operation is one row of an op table (:mod:`autograd_scalar.ops`); a
:class:`Value` records each step of a computation as a node, and ``backward()``
runs the chain rule over the graph in reverse topological order.
"""

from .backward import grad, gradients, topological_order
from .functions import cos, dot, exp, log, logsumexp, relu, sigmoid, sin, softplus, sqrt, sum, tanh
from .mode import AnomalyError, detect_anomaly, is_grad_enabled, no_grad, scope
from .ops import Op
from .value import Value

__version__ = "0.1.0"

__all__ = [
    "AnomalyError", "Op", "Value", "__version__", "cos", "detect_anomaly", "dot", "exp",
    "grad", "gradients", "is_grad_enabled", "log", "logsumexp", "no_grad", "relu", "scope",
    "sigmoid", "sin", "softplus", "sqrt", "sum", "tanh", "topological_order",
]
