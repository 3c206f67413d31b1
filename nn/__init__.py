"""nn: neural networks on autograd_scalar's public API."""

from . import activations, callbacks, data, init, losses, metrics, optim, schedules
from .callbacks import EarlyStopping, History
from .draw import draw_network
from .layers import MLP, Layer, Neuron
from .liveplot import LivePlot
from .metrics import accuracy, confusion_matrix
from .module import Module
from .network import Network
from .serialize import load
from .standardized import Standardized
from .summary import summary
from .train import fit, predict

__all__ = [
    "MLP", "EarlyStopping", "History", "Layer", "LivePlot", "Module", "Network", "Neuron",
    "Standardized", "accuracy", "activations", "callbacks", "confusion_matrix", "data",
    "draw_network", "fit", "init", "load", "losses", "metrics", "optim", "predict", "schedules",
    "summary",
]
