"""nn: neural networks on autograd_scalar's public API.

The submodules not imported here (``nn.formula``, ``nn.cli``) load on first use, so
``import nn`` then ``nn.formula.parse_formula`` works as written.
"""

import importlib
import pkgutil
from typing import Any

from . import activations, callbacks, data, init, losses, metrics, optim, schedules
from .callbacks import EarlyStopping, History
from .draw import draw_network
from .layers import MLP, Layer, Neuron
from .liveplot import LivePlot
from .metrics import accuracy, confusion_matrix
from .module import Module
from .network import Network
from .playground import playground
from .serialize import load
from .standardized import Standardized
from .summary import ModuleSummary, SummaryRow, summary
from .torch_bridge import (
    TorchParity,
    from_torch,
    load_torch_state_dict,
    to_torch,
    torch_parity,
)
from .train import fit, predict

__all__ = [
    "MLP", "EarlyStopping", "History", "Layer", "LivePlot", "Module", "ModuleSummary", "Network",
    "Neuron", "Playground", "Standardized", "SummaryRow", "TorchParity", "accuracy",
    "activations", "callbacks", "confusion_matrix",
    "data", "draw_network", "fit", "from_torch", "init", "load", "load_torch_state_dict",
    "losses", "metrics", "optim", "playground", "predict", "schedules", "summary", "to_torch",
    "torch_parity",
]


_SUBMODULES = frozenset(info.name for info in pkgutil.iter_modules(__path__))


def __getattr__(name: str) -> Any:
    """A submodule of nn not yet imported (``nn.formula``, ``nn.cli``), imported now; and
    ``Playground``, the widget ``playground`` returns, imported with anywidget on first use."""
    if name == "Playground":
        from .playground.widget import Playground

        return Playground
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
