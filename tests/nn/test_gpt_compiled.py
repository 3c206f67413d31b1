"""Compiled GPT training: one traced program per length, against eager training step for step."""

from __future__ import annotations

import random

import numpy as np
import pytest

import nn
from nn.gpt import GPT, CharTokenizer, train
from nn.gpt.compiled import CompiledGPT
from nn.optim import SGD, Adam
from reproductions.microgpt import MicrogptValue, Trainer, gpt_state


def shuffled_names(n: int) -> list[str]:
    docs = nn.data.names()
    random.Random(42).shuffle(docs)
    return docs[:n]


def parameters(model: GPT) -> np.ndarray:
    return np.array([p.data for p in model.parameters()])


@pytest.mark.parametrize("batch_size", [1, 4])
def test_eager_and_compiled_training_give_the_same_losses_and_parameters(
        batch_size: int) -> None:
    # names of 5 to 7 letters: three programs, each reused by many steps as in training
    # (names of any length needed seven, and compiling them took most of the time)
    docs = [name for name in shuffled_names(400) if 5 <= len(name) <= 7]
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    eager, compiled = GPT(tokenizer.vocab_size, seed=3), GPT(tokenizer.vocab_size, seed=3)
    steps = 24 if batch_size == 1 else 12
    expected = train(eager, tokenizer, docs, steps=steps, batch_size=batch_size, progress=False)
    found = train(compiled, tokenizer, docs, steps=steps, batch_size=batch_size, compiled=True,
                  progress=False)
    assert found.loss == pytest.approx(expected.loss, rel=0, abs=1e-9)
    assert found.lr == expected.lr
    assert np.abs(parameters(compiled) - parameters(eager)).max() < 1e-9
    last_grads = [(p.grad, q.grad) for p, q in zip(eager.parameters(), compiled.parameters())]
    assert max(abs(a - b) for a, b in last_grads) < 1e-9  # the Values hold the last gradient
    assert expected.loss[-1] < expected.loss[0]  # it learns: not two identical no-ops


def test_compiled_training_matches_microgpts_own_value() -> None:
    """The independent reference: microgpt's 30-line Value and its Adam, one name per step."""
    reference = Trainer(MicrogptValue, nn.data.names())
    tokenizer = CharTokenizer.from_documents(reference.docs)
    model = GPT(tokenizer.vocab_size)
    model.load_state_dict(gpt_state(reference))
    steps = 8
    theirs = [reference.step(num_steps=steps) for _ in range(steps)]
    ours = train(model, tokenizer, reference.docs, steps=steps, compiled=True, progress=False)
    assert ours.loss == pytest.approx(theirs, rel=0, abs=1e-9)
    expected = gpt_state(reference)
    assert max(abs(x - expected[name]) for name, x in model.state_dict().items()) < 1e-9


def test_one_program_per_length_reused_across_documents_and_batches() -> None:
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    model = GPT(tokenizer.vocab_size, seed=0)
    runner = CompiledGPT(model, Adam(model, lr=0.01))
    emma, anna, mia = (tokenizer.encode(name) for name in ("emma", "anna", "mia"))
    runner.step([emma])
    program = runner.programs[5]
    runner.step([anna])  # same length: same program
    runner.step([mia, emma, anna])  # a batch padded to its longest: the same program again
    assert runner.programs == {5: program}
    runner.step([mia])
    assert sorted(runner.programs) == [4, 5]
    assert program.placeholders and len(program.placeholders) == 6 + 5  # tokens and weights


def test_a_padded_batch_is_the_mean_of_each_documents_own_loss() -> None:
    """Padding with bos and weight 0 changes nothing: causal attention, masked loss."""
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    model = GPT(tokenizer.vocab_size, seed=1)
    runner = CompiledGPT(model, Adam(model, lr=0.01))
    docs = [tokenizer.encode(name) for name in ("bo", "emma", "christopher")]
    tokens, weights = runner.batch(docs)
    assert tokens.shape == (3, 13) and weights.shape == (3, 12)
    assert weights[0].tolist() == [1 / 3] * 3 + [0.0] * 9
    assert tokens[0, 4:].tolist() == [tokenizer.bos] * 9
    found = runner.loss_and_gradient(docs)
    losses = [model.loss(doc) for doc in docs]
    assert found == pytest.approx(np.mean([loss.data for loss in losses]), rel=1e-12)
    model.zero_grad()
    for loss in losses:
        (loss / 3).backward()
    eager = np.array([p.grad for p in runner.params])
    assert np.abs(runner.grad - eager).max() < 1e-12


def test_documents_longer_than_the_block_are_cut_as_eagerly() -> None:
    docs = ["christopher", "alexandria", "bo", "maximilian"]
    tokenizer = CharTokenizer.from_documents(docs)
    eager = GPT(tokenizer.vocab_size, n_embd=8, n_head=2, block_size=5, seed=2)
    compiled = GPT(tokenizer.vocab_size, n_embd=8, n_head=2, block_size=5, seed=2)
    expected = train(eager, tokenizer, docs, steps=6, batch_size=2, progress=False)
    found = train(compiled, tokenizer, docs, steps=6, batch_size=2, compiled=True,
                  progress=False)
    assert found.loss == pytest.approx(expected.loss, rel=0, abs=1e-9)
    assert np.abs(parameters(compiled) - parameters(eager)).max() < 1e-9


def test_push_and_pull_keep_the_values_and_the_arrays_in_step() -> None:
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    model = GPT(tokenizer.vocab_size, seed=0)
    runner = CompiledGPT(model, SGD(model, lr=0.1))
    before = parameters(model)
    runner.step([tokenizer.encode("emma")])
    assert np.array_equal(parameters(model), before)  # the step touched the arrays only
    runner.push()
    assert np.array_equal(parameters(model), runner.data)
    assert not np.array_equal(runner.data, before)
    model.wte.weight[0][0].data = 5.0
    runner.pull()
    assert runner.data[0] == 5.0


def test_bad_inputs_are_clear_errors_that_change_nothing() -> None:
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    model = GPT(tokenizer.vocab_size, seed=0)
    other = GPT(tokenizer.vocab_size, seed=1)
    with pytest.raises(TypeError, match="CompiledGPT expects a GPT"):
        CompiledGPT(nn.MLP(2, [1]), Adam(model))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the optimizer must hold exactly the model's 4192"):
        CompiledGPT(model, Adam(other))
    runner = CompiledGPT(model, Adam(model, lr=0.01))
    before = runner.data.copy()
    with pytest.raises(ValueError, match="document 1: expected token ids from 0 to 26"):
        runner.step([tokenizer.encode("emma"), [26, 27, 26]])
    with pytest.raises(ValueError, match="at least 2 tokens"):
        runner.step([[26]])
    with pytest.raises(ValueError, match="at least one document"):
        runner.step([])
    assert np.array_equal(runner.data, before) and runner.optimizer.steps == 0
    with pytest.raises(TypeError, match="compiled must be True or False"):
        train(model, tokenizer, ["emma"], steps=1, compiled="yes", progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        train(model, tokenizer, ["emma"], steps=1, batch_size=0, progress=False)
    assert np.array_equal(parameters(model), before)
