"""The family-trees reproduction: the paper's architecture, its test, compiled = eager."""

from __future__ import annotations

import numpy as np
import pytest

from nn.data import family_trees
from reproductions.family_trees import (
    ADJUSTED,
    PAPER,
    FamilyTreesNetwork,
    answered_correctly,
    train_family_trees,
)


def test_the_network_has_the_papers_layers():
    model = FamilyTreesNetwork()
    sizes = [(n, layer.nin, layer.nout) for n, layer in model.named_children()]
    assert sizes == [("person", 24, 6), ("relationship", 12, 6), ("central", 12, 12),
                     ("answer_code", 12, 6), ("answer", 6, 24)]
    assert len(model.parameters()) == 25 * 6 + 13 * 6 + 13 * 12 + 13 * 6 + 7 * 24
    out = model(np.eye(36)[0] + np.eye(36)[30])
    assert len(out) == 24 and all(0 < v.data < 1 for v in out)


def test_the_network_refuses_inputs_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"expects 36 inputs .* got 35"):
        FamilyTreesNetwork()(np.zeros(35))


def test_an_answer_is_right_only_when_every_unit_is_on_the_right_side_of_one_half():
    target = np.zeros(24)
    target[[3, 7]] = 1
    output = np.full(24, 0.1)
    output[[3, 7]] = 0.9
    assert answered_correctly(output, target)
    output[7] = 0.4
    assert not answered_correctly(output, target)
    output[7], output[0] = 0.9, 0.6
    assert not answered_correctly(output, target)


def test_compiled_and_eager_training_take_the_same_steps():
    eager = train_family_trees(seed=2, settings=ADJUSTED, compiled=False, sweeps=3)
    compiled = train_family_trees(seed=2, settings=ADJUSTED, compiled=True, sweeps=3)
    np.testing.assert_allclose(compiled.errors, eager.errors, rtol=1e-9)
    np.testing.assert_allclose(compiled.test_outputs, eager.test_outputs, rtol=1e-9)
    assert len(eager.test) == 4 and eager.n_train == 100


def test_a_run_holds_out_four_facts_and_scores_them_by_the_papers_test():
    run = train_family_trees(seed=5, settings=PAPER, compiled=True, sweeps=40)
    trees = family_trees()
    _, T = trees.encode(run.test)
    assert run.test_right == sum(answered_correctly(y, t) for y, t in zip(run.test_outputs, T))
    assert run.settings is PAPER and len(run.errors) == 40
    assert run.errors[-1] < run.errors[0]


@pytest.mark.parametrize("sweeps", [0, -3, 1.5, True])
def test_train_family_trees_rejects_a_bad_number_of_sweeps(sweeps):
    with pytest.raises(ValueError, match="sweeps must be an int >= 1"):
        train_family_trees(seed=0, sweeps=sweeps)


def test_the_papers_schedule_changes_epsilon_after_20_sweeps_in_its_own_units():
    """Fig. 4: epsilon 0.005 and alpha 0.5 for 20 sweeps, then 0.01 and 0.9, each change
    dw(t) = -epsilon dE/dw + alpha dw(t-1) (the last change kept as it was made)."""
    from autograd_scalar import Value
    from nn.optim import SGD
    from reproductions.family_trees import _change_epsilon

    assert (PAPER.epsilon_early, PAPER.epsilon, ADJUSTED.epsilon_early) == (0.005, 0.01, 0.02)
    assert "epsilon 0.005 then 0.01 after 20 sweeps" in PAPER.describe()
    assert "epsilon 0.02," in ADJUSTED.describe()
    p = Value(1.0)
    optimizer = SGD([p], lr=0.005, momentum=0.5)
    changes, gradients = [], [0.3, -0.7, 1.1]
    for k, g in enumerate(gradients):
        if k == 2:
            optimizer.momentum = 0.9
            _change_epsilon(optimizer, 0.01)
        before, p.grad = p.data, g
        optimizer.step()
        changes.append(p.data - before)
    assert changes[1] == pytest.approx(-0.005 * -0.7 + 0.5 * changes[0], rel=1e-12)
    assert changes[2] == pytest.approx(-0.01 * 1.1 + 0.9 * changes[1], rel=1e-12)
