"""``autograd-scalar gpt``: trains the GPT on the names, prints samples, saves and loads."""

from __future__ import annotations

import re

import pytest

from nn.cli import main

SMALL = ["--n-embd", "8", "--n-head", "2", "--block-size", "8", "--quiet"]


def test_help_lists_the_sizes_as_options(capsys) -> None:
    assert main(["gpt", "--help"]) == 0
    shown = capsys.readouterr().out
    for option in ("--n-embd", "--n-head", "--n-layer", "--block-size", "--steps",
                   "--temperature", "--samples", "--save", "--load"):
        assert option in shown


def test_gpt_trains_prints_samples_and_saves(capsys, tmp_path) -> None:
    path = tmp_path / "gpt.json"
    assert main(["gpt", "--steps", "4", "--samples", "3", "--save", str(path), *SMALL]) == 0
    out = capsys.readouterr().out
    assert "GPT with 1,264 parameters" in out  # 2*27*8 + 8*8 + 12*8*8
    assert re.search(r"trained 4 steps, one name each: first loss 3\.\d+, .*done in [\d.]+ s",
                     out)
    names = out.split("sampled at temperature 0.5:\n")[1].split()
    assert len(names) == 3 and all(re.fullmatch(r"[a-z]*", n) for n in names)
    assert main(["gpt", "--load", str(path), "--steps", "0", "--samples", "2",
                 "--prompt", "ka", *SMALL]) == 0
    loaded = capsys.readouterr().out.split("sampled at temperature 0.5:\n")[1].split()
    assert "trained" not in loaded and all(n.startswith("ka") for n in loaded)


@pytest.mark.parametrize("argv, message", [
    (["--n-embd", "10"], r"n_embd \(10\) must be a multiple of n_head \(4\)"),
    (["--steps", "-1"], "expected a whole number >= 0, got -1"),
    (["--temperature", "0"], "expected a finite number > 0, got 0"),
    (["--save", "no/such/folder/gpt.json"], "does not exist"),
    (["--prompt", "A1", "--steps", "0"], "character 'A' at position 0"),
])
def test_bad_options_are_one_line_errors(capsys, argv, message) -> None:
    assert main(["gpt", *argv, "--quiet"]) == 2
    assert re.search(message, capsys.readouterr().err)
