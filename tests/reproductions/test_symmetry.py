"""The mirror-symmetry reproduction: solution criterion, weight pattern, compiled = eager."""

from __future__ import annotations

import numpy as np
import pytest

from nn.data import symmetry
from reproductions.symmetry import (
    MirrorPattern,
    SymmetryRun,
    SymmetrySummary,
    mirror_pattern,
    train_symmetry,
)


def network_outputs(run: SymmetryRun, X: np.ndarray) -> np.ndarray:
    """The 6-2-1 logistic network's outputs, from the run's weights, in NumPy."""
    hidden = 1 / (1 + np.exp(-(X @ run.hidden_weights.T + run.hidden_biases)))
    return 1 / (1 + np.exp(-(hidden @ run.output_weights + run.output_bias)))


def test_a_solved_run_classifies_all_64_patterns_within_the_tolerance():
    X, y = symmetry()
    run = train_symmetry(seed=1, max_sweeps=3000, compiled=True)
    assert run.solved and run.sweeps is not None and 0 < run.sweeps <= 3000
    assert np.max(np.abs(network_outputs(run, X) - y)) < 0.1
    assert len(run.errors) == run.sweeps
    assert run.errors[-1] < run.errors[0]
    for weights in run.hidden_weights:
        assert mirror_pattern(weights).antisymmetry < 0.01


def test_a_run_stops_at_its_budget_and_reports_unsolved():
    run = train_symmetry(seed=1, max_sweeps=25, compiled=True)
    assert not run.solved and run.sweeps is None and len(run.errors) == 25
    assert np.max(np.abs(network_outputs(run, symmetry()[0]) - symmetry()[1])) >= 0.1


def test_compiled_and_eager_sweeps_take_the_same_steps():
    eager = train_symmetry(seed=3, max_sweeps=30, compiled=False)
    compiled = train_symmetry(seed=3, max_sweeps=30, compiled=True)
    np.testing.assert_allclose(compiled.errors, eager.errors, rtol=1e-9)
    np.testing.assert_allclose(compiled.hidden_weights, eager.hidden_weights, rtol=1e-9)


def test_the_papers_pattern_is_recognised_in_any_order_and_sign():
    paper_like = np.array([-4.0, 8.0, 2.0, -2.0, -8.0, 4.0])
    pattern = mirror_pattern(paper_like)
    assert pattern.antisymmetry == 0.0 and pattern.ratios == (1.0, 2.0, 4.0)
    assert pattern.matches()
    assert mirror_pattern(-1.05 * paper_like).matches()


@pytest.mark.parametrize("weights, why", [
    ([1.0, 2.0, 4.0, 4.0, 2.0, 1.0], "pairs equal, not opposite"),
    ([1.0, 2.0, 3.0, -3.0, -2.0, -1.0], "ratios 1:2:3"),
    ([1.0, 1.0, 1.0, -1.0, -1.0, -1.0], "all pairs alike"),
])
def test_other_shapes_do_not_match(weights, why):
    assert not mirror_pattern(np.array(weights)).matches(), why


def test_mirror_pattern_rejects_bad_weights():
    with pytest.raises(ValueError, match="6 input weights"):
        mirror_pattern(np.ones(5))
    with pytest.raises(ValueError, match="all six weights are 0"):
        mirror_pattern(np.zeros(6))


def test_summary_takes_the_median_over_solved_runs_only():
    def run(sweeps):
        w = np.array([[1.0, 2.0, 4.0, -4.0, -2.0, -1.0]] * 2)
        return SymmetryRun(0, sweeps, w, np.zeros(2), np.zeros(2), 0.0)

    summary = SymmetrySummary([run(100), run(None), run(300), run(2000)], max_sweeps=5000)
    assert len(summary.solved) == 3 and summary.median_sweeps == 300
    assert len(summary.with_paper_pattern) == 3
    assert SymmetrySummary([run(None)], 10).median_sweeps is None
    assert isinstance(mirror_pattern(run(1).hidden_weights[0]), MirrorPattern)


@pytest.mark.parametrize("kwargs, match", [
    ({"max_sweeps": -1}, "max_sweeps must be an int >= 0"),
    ({"max_sweeps": 2.5}, "max_sweeps must be an int >= 0"),
    ({"tolerance": 0.0}, r"tolerance must be a number in \(0, 0.5\)"),
    ({"tolerance": "0.1"}, "tolerance must be a number"),
])
def test_train_symmetry_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_symmetry(seed=0, **kwargs)
