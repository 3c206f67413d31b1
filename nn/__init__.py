"""nn: neural networks on autograd_scalar's public API."""
