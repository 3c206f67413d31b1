"""``autograd-scalar gpt``: trains the GPT on the names, prints samples, saves and loads."""

from __future__ import annotations

import random
import re

import pytest

import nn
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
    assert re.search(r"trained 4 steps eagerly, one name each: first loss 3\.\d+, "
                     r".*done in [\d.]+ s", out)
    names = out.split("sampled at temperature 0.5:\n")[1].split()
    assert len(names) == 3 and all(re.fullmatch(r"[a-z]*", n) for n in names)
    assert main(["gpt", "--load", str(path), "--steps", "0", "--samples", "2",
                 "--prompt", "ka", "--quiet"]) == 0  # sizes from the file
    shown = capsys.readouterr().out
    assert "GPT with 1,264 parameters (n_embd 8, 2 heads" in shown and "trained" not in shown
    loaded = shown.split("sampled at temperature 0.5:\n")[1].split()
    assert len(loaded) == 2 and all(n.startswith("ka") for n in loaded)


def test_gpt_trains_compiled_in_batches(capsys) -> None:
    assert main(["gpt", "--steps", "3", "--samples", "2", "--compiled", "--batch-size", "4",
                 *SMALL]) == 0
    out = capsys.readouterr().out
    assert re.search(r"trained 3 steps compiled, 4 names each: first loss 3\.\d+", out)
    assert len(out.split("sampled at temperature 0.5:\n")[1].split()) == 2


@pytest.mark.parametrize("argv, message", [
    (["--n-embd", "10"], r"--n-embd \(10\) must be a multiple of --n-head \(4\)"),
    (["--steps", "-1"], "expected a whole number >= 0, got -1"),
    (["--steps", "0"], r"--steps 0 \(only sampling\) is for a model given by --load; a new "
                       r"model needs --steps 1 or more"),
    (["--batch-size", "0"], "--batch-size"),
    (["--temperature", "0"], "expected a finite number > 0, got 0"),
    (["--prompt", "A1"], "character 'A' at position 0"),
])
def test_bad_options_are_one_line_errors(capsys, argv, message) -> None:
    assert main(["gpt", *argv, "--quiet"]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_load_refuses_a_missing_file_and_a_model_that_is_not_a_gpt(capsys, tmp_path) -> None:
    assert main(["gpt", "--load", str(tmp_path / "missing.json"), "--quiet"]) == 1
    assert "No such file or directory" in capsys.readouterr().err
    path = tmp_path / "mlp.json"
    nn.MLP(2, [3, 1], seed=0).save(path)
    assert main(["gpt", "--load", str(path), "--steps", "0", "--quiet"]) == 2
    assert "expected a GPT over the names' 27 tokens, got MLP" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--n-embd", "10000000"], r"--n-embd 10000000 --n-layer 1 --block-size 16 make a GPT "
                               r"of 1,200,000,700,000,000 parameters; at most 1,000,000"),
    (["--n-layer", "1000000000"], "make a GPT of 3,072,000,001,120 parameters"),
    (["--block-size", "1000000000"], "make a GPT of 16,000,003,936 parameters"),
    (["--save", "{tmp}"], "--save .*: exists and is not a regular file"),
    (["--save", "/dev/null"], "--save /dev/null: exists and is not a regular file"),
    (["--prompt", "Zoe"], r"--prompt 'Zoe': encode: character 'Z' at position 0 of 'Zoe' is "
                          r"not in the vocabulary"),
    (["--prompt", "a" * 16], "--prompt 'a+': the prompt has 16 characters; at most 15 fit "
                             "in block_size 16"),
    (["--temperature", "5e-324"], "--temperature: temperature 5e-324 is too small"),
    (["--batch-size", "100000"], "--batch-size 100,000: a step takes at most the 32,033 "
                                 "names once each"),
])
def test_every_option_is_checked_before_the_first_step(capsys, monkeypatch, tmp_path, argv,
                                                       message) -> None:
    import nn.cli.gpt_command as command

    def never(*args, **kwargs):
        raise AssertionError("training started")
    monkeypatch.setattr(command, "train", never)
    argv = [word.replace("{tmp}", str(tmp_path)) for word in argv]
    assert main(["gpt", *argv, "--steps", "1000", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.search(message, captured.err), captured.err


def test_a_loaded_model_too_short_for_the_prompt_is_refused_before_training(
        capsys, monkeypatch, tmp_path) -> None:
    import nn.cli.gpt_command as command
    path = tmp_path / "gpt.json"
    assert main(["gpt", "--steps", "1", "--samples", "0", "--save", str(path),
                 "--block-size", "4", "--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(command, "train", None)
    assert main(["gpt", "--load", str(path), "--prompt", "emma", "--quiet"]) == 2
    assert "at most 3 fit in block_size 4" in capsys.readouterr().err


def test_an_empty_sampled_name_is_shown_as_quotes(capsys, monkeypatch, tmp_path) -> None:
    import nn.cli.gpt_command as command
    path = tmp_path / "gpt.json"
    assert main(["gpt", "--steps", "1", "--samples", "0", "--save", str(path), *SMALL]) == 0
    monkeypatch.setattr(command, "drawn", lambda *args, **kwargs: iter(["ava", ""]))
    assert main(["gpt", "--load", str(path), "--steps", "0", "--samples", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("2 names sampled at temperature 0.5:\n  ava\n  ''\n")


def test_running_out_of_memory_is_a_failure_not_a_bug(capsys, monkeypatch) -> None:
    import nn.cli.gpt_command as command

    def exhausted(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(command, "train", exhausted)
    assert main(["gpt", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "out of memory" in err and "bug" not in err


def test_a_run_whose_last_step_blew_the_model_up_saves_nothing(capsys, tmp_path) -> None:
    """Finite losses, but the last update made the logits NaN: exit 1 naming the cause,
    and no model written that could not sample."""
    target = tmp_path / "gpt.json"
    status = main(["gpt", "--steps", "3", "--lr", "1e200", "--save", str(target)])
    captured = capsys.readouterr()
    assert status == 1 and not target.exists()
    assert "trained" not in captured.out
    assert re.search(r"error: training diverged: after the last step the logits at "
                     r"position \d+ of '\w+' are nan; nothing was saved; lower --lr$",
                     captured.err.strip()), captured.err


def test_a_diverged_model_loaded_is_a_failure_that_says_so(capsys, tmp_path) -> None:
    """Options all valid, the model given diverged: exit 1 naming the cause, not a
    usage error with random.choices' words ("Total of weights must be finite")."""
    docs = nn.data.names()
    random.Random(0).shuffle(docs)  # as the command does for --seed 0
    tokenizer = nn.gpt.CharTokenizer.from_documents(docs)
    model = nn.gpt.GPT(tokenizer.vocab_size, seed=0)
    nn.gpt.train(model, tokenizer, docs, steps=3, lr=1e200, progress=False)
    model.save(tmp_path / "gpt.json")  # finite parameters, whose logits overflow
    assert main(["gpt", "--steps", "0", "--load", str(tmp_path / "gpt.json"),
                 "--samples", "1"]) == 1
    assert re.search(r"error: cannot sample: the model's logits at position \d+ are not "
                     r"finite \(nan\); its parameters have diverged", capsys.readouterr().err)


def test_a_refused_step_is_named_with_the_steps_applied_before_it(capsys) -> None:
    assert main(["gpt", "--steps", "30", "--lr", "1e100", "--quiet"]) == 1
    found = re.search(r"error: training diverged: at step (\d+) of 30 \((the one before it "
                      r"was|the (\d+) before it were) applied\): .*; lower --lr$",
                      capsys.readouterr().err.strip())
    assert found is not None and int(found.group(1)) >= 2


def test_a_loaded_model_whose_first_step_fails_is_blamed_not_the_rate(capsys,
                                                                      tmp_path) -> None:
    """Its first gradient is computed before any update: no --lr can help."""
    docs = nn.data.names()
    random.Random(0).shuffle(docs)
    tokenizer = nn.gpt.CharTokenizer.from_documents(docs)
    model = nn.gpt.GPT(tokenizer.vocab_size, seed=0)
    nn.gpt.train(model, tokenizer, docs, steps=3, lr=1e200, progress=False)
    model.save(tmp_path / "gpt.json")
    assert main(["gpt", "--steps", "5", "--load", str(tmp_path / "gpt.json"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert f"training diverged: at step 1, on the model as loaded from {tmp_path / 'gpt.json'}" \
        in err and "--lr" not in err


def test_no_samples_asked_prints_no_heading_for_them(capsys) -> None:
    assert main(["gpt", "--steps", "1", "--samples", "0", *SMALL]) == 0
    assert "sampled" not in capsys.readouterr().out


def test_a_save_path_through_a_file_says_so_before_training(capsys, tmp_path) -> None:
    (tmp_path / "notes").write_text("a file, not a folder")
    target = tmp_path / "notes" / "gpt.json"
    assert main(["gpt", "--steps", "1000", "--save", str(target), *SMALL]) == 1
    assert f"--save {target}: {tmp_path / 'notes'} is a file, not a folder" in \
        capsys.readouterr().err


def test_ctrl_c_while_training_saves_what_was_learned(capsys, monkeypatch, tmp_path) -> None:
    """A long run stopped with Ctrl-C writes --save with the steps it finished, then
    exits 130 as an interrupted command does."""
    from nn.cli import gpt_command

    def interrupted(model, *args, **kwargs):
        kwargs["steps"] = 2
        nn.gpt.train(model, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(gpt_command, "train", interrupted)
    path = tmp_path / "gpt.json"
    assert main(["gpt", "--steps", "1000", "--save", str(path), *SMALL]) == 130
    captured = capsys.readouterr()
    assert (f"interrupted after step 2 of 1,000: wrote {path}, the model after that step"
            in captured.out and "interrupted" in captured.err)
    assert main(["gpt", "--load", str(path), "--steps", "0", "--samples", "1",
                 "--quiet"]) == 0


def test_a_size_given_with_load_must_match_the_file(capsys, tmp_path) -> None:
    """With --load the sizes are the file's: one given that differs is refused before
    anything runs, one that matches (or none) is fine."""
    path = tmp_path / "gpt.json"
    assert main(["gpt", "--steps", "1", "--samples", "0", "--save", str(path), *SMALL]) == 0
    capsys.readouterr()
    assert main(["gpt", "--load", str(path), "--steps", "0", "--n-embd", "32",
                 "--quiet"]) == 2
    assert f"--n-embd 32: the model in {path} has n_embd 8" in capsys.readouterr().err
    assert main(["gpt", "--load", str(path), "--steps", "0", "--samples", "1",
                 "--n-embd", "8", "--quiet"]) == 0
