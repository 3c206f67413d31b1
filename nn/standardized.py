"""Standardized: a model behind the feature scaling it was trained with.

A model trained on standardised features, z = (x - mean) / std with the training
set's statistics, gives nonsense on raw features. ``Standardized(model, scaler)``
applies the scaling first, so it takes raw features, and it saves and loads the
scaling with the model: ``nn.load(path)`` gives back a model that scores as it
did when it was trained. The command line's ``train --standardize --save`` saves one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_scalar import Value, interrupts_deferred
from autograd_scalar.validate import is_real

from . import serialize
from .data.split import Standardizer
from .module import Module


class Standardized(Module):
    """``model`` applied to (x - mean) / std, per feature; ``scaler`` is a fitted
    :class:`nn.data.Standardizer`. Its parameters are the model's (``model.*``)."""

    repr_children = True

    def __init__(self, model: Module, scaler: Standardizer) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Standardized wraps a Module, got {type(model).__name__}")
        if not isinstance(scaler, Standardizer):
            raise TypeError(f"Standardized needs a fitted nn.data.Standardizer, got "
                            f"{type(scaler).__name__}")
        self.model = model
        self.scaler = Standardizer(scaler.mean, scaler.std)  # its own copies, checked again

    def forward(self, x: Any) -> Any:
        """``model((x - mean) / std)``: in floats for numbers, in graph nodes for Values."""
        mean, std = self.scaler.mean, self.scaler.std
        if isinstance(x, (list, tuple)) and any(isinstance(v, Value) for v in x):
            if len(x) != len(mean):
                raise ValueError(f"Standardized expects {len(mean)} inputs, got {len(x)}")
            return self.model([(v - m) / s for v, m, s in zip(x, mean.tolist(), std.tolist())])
        row = np.asarray(x, dtype=np.float64).reshape(-1)
        if row.shape != mean.shape:
            raise ValueError(f"Standardized expects {len(mean)} inputs, got {row.size}")
        return self.model((row - mean) / std)

    def config(self) -> dict[str, Any]:
        return {"model": serialize.describe(self.model), "mean": self.scaler.mean.tolist(),
                "std": self.scaler.std.tolist()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Standardized:
        return cls(serialize.build(config.get("model")), _scaler(config))

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """The wrapped model's count (the scaling has no parameters)."""
        return serialize.parameter_count(config.get("model"))

    def load_document(self, document: Any) -> None:
        """Load the model's parameters and the file's scaling (both checked first). A
        file of version 2 or later must record the scaling; version 1 files record none,
        and the model keeps its own."""
        description = document.get("model")
        config = description.get("config") if isinstance(description, dict) else None
        if not isinstance(config, dict) and document.get("version", 1) >= 2:
            raise ValueError("the file records no scaling for this Standardized (its "
                             "\"model\" has no \"config\" with \"mean\" and \"std\"); "
                             "nothing was loaded")
        scaler = _scaler(config) if isinstance(config, dict) else None
        if scaler is not None and scaler.mean.shape != self.scaler.mean.shape:
            raise ValueError(f"the file scales {len(scaler.mean)} features, this model "
                             f"{len(self.scaler.mean)}")
        with interrupts_deferred():  # never the file's parameters with the old scaling
            super().load_document(document)
            if scaler is not None:
                self.scaler = scaler

    def extra_repr(self) -> str:
        return f"{len(self.scaler.mean)} features"


def _scaler(config: dict[str, Any]) -> Standardizer:
    """The scaling recorded in a Standardized's config; ValueError if it is malformed."""
    if set(config) != {"model", "mean", "std"}:
        raise ValueError("a Standardized's config has \"model\", \"mean\" and \"std\"")
    arrays = []
    for key in ("mean", "std"):
        values = config[key]
        if not isinstance(values, list) or not all(
                is_real(v) for v in values):
            raise ValueError(f"\"{key}\" must be a list of numbers")
        arrays.append(np.array(values, dtype=np.float64))
    return Standardizer(*arrays)
