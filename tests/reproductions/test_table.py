"""The reproductions table: published figures beside measured ones, and the options."""

from __future__ import annotations

import numpy as np
import pytest

from nn.callbacks import History
from nn.data.rumelhart1986 import Fact
from reproductions.__main__ import main
from reproductions.family_trees import ADJUSTED, FamilyTreesNetwork, FamilyTreesRun
from reproductions.mnist import MnistRun
from reproductions.symmetry import SymmetryRun, SymmetrySummary
from reproductions.table import details, table

PAPER_WEIGHTS = np.array([[-2.5, 5.0, 10.0, -10.0, -5.0, 2.5], [2.5, -5.0, -10.0, 10.0, 5.0, -2.5]])


def symmetry_run(seed, sweeps):
    return SymmetryRun(seed, sweeps, PAPER_WEIGHTS, np.zeros(2), np.zeros(2), 0.0)


def family_run(seed, right):
    fact = Fact("Colin", "father", ("James",))
    return FamilyTreesRun(FamilyTreesNetwork(), seed, ADJUSTED, [fact] * 4, np.zeros((4, 24)),
                          right, 97, 100, [])


def test_the_table_puts_each_published_figure_beside_the_measured_one():
    symmetry = SymmetrySummary([symmetry_run(0, 1000), symmetry_run(1, 3000),
                                symmetry_run(2, None)], max_sweeps=20000)
    family = [[family_run(0, 4), family_run(1, 2), family_run(2, 3)]]
    history = History(metrics=("loss", "accuracy", "val_loss", "val_accuracy"), loss=[1.0] * 5)
    mnist = [MnistRun(None, accuracy, history, np.eye(10), 12.0, 4000, 1000)  # type: ignore[arg-type]
             for accuracy in (0.9012, 0.87, 0.885)]
    text = table(symmetry, family, mnist)
    lines = text.splitlines()
    assert lines[0] == "| Experiment | Published | Ours |" and len(lines) == 2 + 4
    assert "| 1,425 | median 2,000 sweeps over the 2 of 3 seeds that solved it within 20,000 |" \
        in text
    assert "2 of 2 solved runs show both" in text
    assert "4 of 4 (the paper), and 3 of 4 on a second run (Hinton 1986)" in text
    assert "first two runs 4 of 4, 2 of 4; over 3 runs mean 3.0 of 4, 1 with 4 of 4, 2 with " \
           "3 or more (median 97 of 100 training facts right)" in text
    assert "88.97%" in text and "seed 0 90.12%; over 3 seeds mean 88.54% (87.00-90.12)" in text


def test_the_per_seed_lines_name_each_hidden_unit():
    """The mirror-symmetry line wrote each hidden unit's shape with nothing to tell them
    apart ("antisymmetry 0.000, ratios 1.00:2.00:4.00" twice), as if a line repeated."""
    symmetry = SymmetrySummary([symmetry_run(0, 1000), symmetry_run(1, None)], max_sweeps=20000)
    history = History(metrics=("loss", "accuracy", "val_loss", "val_accuracy"), loss=[1.0],
                      val_accuracy=[0.9])
    mnist = [MnistRun(None, 0.9, history, np.eye(10), 1.0, 40, 10)]  # type: ignore[arg-type]
    lines = details(symmetry, [[family_run(0, 4)]], mnist).splitlines()
    assert lines[1] == ("  seed 0: 1000 sweeps; hidden unit 0: antisymmetry 0.000, ratios "
                        "1.00:2.00:4.00; hidden unit 1: antisymmetry 0.000, ratios "
                        "1.00:2.00:4.00")
    assert lines[2] == "  seed 1: not solved"


def test_one_seed_reads_as_one():
    symmetry = SymmetrySummary([symmetry_run(0, None)], max_sweeps=100)
    history = History(metrics=("loss",), loss=[1.0])
    text = table(symmetry, [[family_run(0, 0)]],
                 [MnistRun(None, 0.9, history, np.eye(10), 1.0, 40, 10)])  # type: ignore[arg-type]
    assert "0 of 1 seed solved it within 100 sweeps" in text
    assert "one run 0 of 4; over 1 run mean 0.0 of 4" in text
    assert "seed 0 90.00% (40 training" in text and "over 1 seed" not in text


@pytest.mark.parametrize("argv", [["--seeds", "0"], ["--max-sweeps", "-1"], ["--seeds", "x"]])
def test_the_command_rejects_bad_options(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert argv[0] in error
