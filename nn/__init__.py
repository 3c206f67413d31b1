"""nn: neural networks on autograd_scalar's public API."""

from . import activations, data, init
from .draw import draw_network
from .layers import MLP, Layer, Neuron
from .module import Module
from .network import Network

__all__ = ["MLP", "Layer", "Module", "Network", "Neuron", "activations", "data", "draw_network",
           "init"]
