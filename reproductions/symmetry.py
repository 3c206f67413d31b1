"""The mirror-symmetry network of Rumelhart, Hinton and Williams (Nature 323, 1986).

Six input units, two hidden units and one output unit, all logistic, learn to say
whether a 6-bit pattern is a mirror image of itself. The paper's settings: the
weights start uniform in [-0.3, 0.3], epsilon = 0.1, alpha = 0.9, one weight change
after each sweep through all 64 patterns; it reports 1,425 sweeps to solution and
weights with a telling shape: for each hidden unit, the weights of mirror-image
inputs are equal in magnitude and opposite in sign (so a symmetric pattern gives
a net input of exactly 0 from the inputs), and the magnitudes of the three pairs
are in the ratio 1:2:4 (so no two non-symmetric patterns cancel out either).

The paper does not state its stopping rule; ours is the usual one for 0/1
targets: solved when every one of the 64 outputs is within ``tolerance`` (0.1)
of its target. Sweeps are the weight changes made before that first holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nn import MLP, Module
from nn.data.rumelhart1986 import symmetry
from nn.optim import SGD

from .paper_training import PaperError, SweepGradient, check_count, uniform_weights

PAPER_SWEEPS = 1425
EPSILON, ALPHA, INITIAL_BOUND = 0.1, 0.9, 0.3


@dataclass
class SymmetryRun:
    """One training run: ``sweeps`` to solution (None if not solved), the weights."""

    seed: int
    sweeps: int | None
    hidden_weights: np.ndarray
    hidden_biases: np.ndarray
    output_weights: np.ndarray
    output_bias: float
    errors: list[float] = field(default_factory=list)

    @property
    def solved(self) -> bool:
        return self.sweeps is not None


def symmetry_network(seed: int) -> MLP:
    """A 6-2-1 logistic network with every weight and bias uniform in [-0.3, 0.3]."""
    model = MLP(6, [2, 1], activation="sigmoid", output_activation="sigmoid")
    uniform_weights(model, INITIAL_BOUND, seed)
    return model


def train_symmetry(seed: int, max_sweeps: int = 20000, tolerance: float = 0.1,
                   compiled: bool = False) -> SymmetryRun:
    """Train the paper's network from ``seed`` until solved or ``max_sweeps`` changes."""
    check_count("max_sweeps", max_sweeps, 0)
    if not (isinstance(tolerance, (int, float)) and 0 < tolerance < 0.5):
        raise ValueError(f"tolerance must be a number in (0, 0.5), got {tolerance!r}")
    X, y = symmetry(6)
    model = symmetry_network(seed)
    optimizer = SGD(model.parameters(), lr=EPSILON, momentum=ALPHA)
    gradient = SweepGradient(model, PaperError(), X, y.astype(float), compiled=compiled)
    errors: list[float] = []
    sweeps: int | None = None
    for sweep in range(max_sweeps + 1):
        error, out = gradient()
        assert out is not None
        if np.max(np.abs(out[:, 0] - y)) < tolerance:
            sweeps = sweep
            break
        if sweep == max_sweeps:
            break
        errors.append(error)
        optimizer.step()
    return SymmetryRun(seed, sweeps, *weights_of(model), errors=errors)


def weights_of(model: Module) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(hidden weights (2, 6), hidden biases (2,), output weights (2,), output bias)."""
    hidden, output = model.layers  # type: ignore[attr-defined]
    w = np.array([[v.data for v in n.w] for n in hidden.neurons])
    b = np.array([n.b.data for n in hidden.neurons])
    (out,) = output.neurons
    return w, b, np.array([v.data for v in out.w]), out.b.data


@dataclass
class MirrorPattern:
    """How closely one hidden unit's six weights follow the paper's pattern.

    ``antisymmetry`` is max_i |w_i + w_(5-i)| / max_i |w_i| (0 when every mirror
    pair is exactly equal and opposite); ``ratios`` are the magnitudes of the three
    pairs, sorted and divided by the smallest (the paper's 1:2:4 is (1, 2, 4)).
    """

    antisymmetry: float
    ratios: tuple[float, float, float]

    def matches(self, tolerance: float = 0.1) -> bool:
        """Pairs opposite to within ``tolerance`` and ratios within it of 1:2:4."""
        return (self.antisymmetry < tolerance and
                all(abs(r - t) <= tolerance * t for r, t in zip(self.ratios, (1, 2, 4))))


def mirror_pattern(weights: np.ndarray) -> MirrorPattern:
    """The :class:`MirrorPattern` of one hidden unit's weights (six numbers)."""
    w = np.asarray(weights, dtype=float)
    if w.shape != (6,):
        raise ValueError(f"mirror_pattern expects the 6 input weights of one hidden unit, "
                         f"got shape {w.shape}")
    scale = np.max(np.abs(w))
    if scale == 0:
        raise ValueError("mirror_pattern: all six weights are 0; there is no pattern to read")
    antisymmetry = float(np.max(np.abs(w + w[::-1])) / scale)
    pairs = np.sort((np.abs(w[:3]) + np.abs(w[::-1][:3])) / 2)
    low, mid, high = (pairs / pairs[0]).tolist()
    return MirrorPattern(antisymmetry, (low, mid, high))


@dataclass
class SymmetrySummary:
    """Runs from many seeds: how many solved, their median sweeps, the weight shapes."""

    runs: list[SymmetryRun]
    max_sweeps: int

    @property
    def solved(self) -> list[SymmetryRun]:
        return [r for r in self.runs if r.solved]

    @property
    def median_sweeps(self) -> float | None:
        """The median sweeps over the runs that solved it (None if none did)."""
        done = [r.sweeps for r in self.solved if r.sweeps is not None]
        return float(np.median(done)) if done else None

    @property
    def with_paper_pattern(self) -> list[SymmetryRun]:
        """Solved runs whose two hidden units both show the paper's weight pattern."""
        return [r for r in self.solved
                if all(mirror_pattern(w).matches() for w in r.hidden_weights)]


def reproduce_symmetry(seeds: range | list[int] = range(10), max_sweeps: int = 20000,
                       compiled: bool = False) -> SymmetrySummary:
    """Train from each seed with the paper's settings and summarise."""
    runs = [train_symmetry(s, max_sweeps, compiled=compiled) for s in seeds]
    return SymmetrySummary(runs, max_sweeps)
