"""Compiled GPT training: one traced program per length, against eager training step for step."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

import nn
from nn.gpt import GPT, CharTokenizer, train, train_step
from nn.gpt.compiled import gpt_training, pad_batch
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


def padded(model: GPT, documents: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    return pad_batch(documents, model.vocab_size, model.block_size)


def test_one_program_per_length_reused_across_documents_and_batches() -> None:
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    model = GPT(tokenizer.vocab_size, seed=0)
    runner = gpt_training(model, Adam(model, lr=0.01))
    emma, anna, mia = (tokenizer.encode(name) for name in ("emma", "anna", "mia"))
    runner.step(*padded(model, [emma]))
    program = runner.tapes[(6, 5)]
    runner.step(*padded(model, [anna]))  # same length: same program
    runner.step(*padded(model, [mia, emma, anna]))  # padded to its longest: the same again
    assert runner.tapes == {(6, 5): program}
    runner.step(*padded(model, [mia]))
    assert sorted(runner.tapes) == [(5, 4), (6, 5)]
    assert program.placeholders and len(program.placeholders) == 6 + 5  # tokens and weights


def test_switching_lengths_carries_the_parameters_over() -> None:
    """Two programs, one set of numbers: steps alternating between lengths match eager
    training on the same batches."""
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    compiled, eager = GPT(tokenizer.vocab_size, seed=4), GPT(tokenizer.vocab_size, seed=4)
    runner = gpt_training(compiled, SGD(compiled, lr=0.1))
    eager_opt = SGD(eager, lr=0.1)
    batches = [[tokenizer.encode(n)] for n in ("mia", "emma", "mia", "christopher", "emma")]
    for batch in batches:
        found, _ = runner.step(*padded(compiled, batch))
        assert found == pytest.approx(train_step(eager, eager_opt, batch), abs=1e-12)
    runner.push()
    assert np.abs(parameters(compiled) - parameters(eager)).max() < 1e-12


def test_the_programs_of_other_lengths_keep_no_batch_arrays() -> None:
    """Each length's program kept the arrays of its last batch: a run meeting four
    lengths held four batches' worth (674 MB against 322 MB for one, 1,024 names a
    step). Only the current program's are kept now."""
    import tracemalloc

    tokenizer = CharTokenizer.from_documents(nn.data.names())
    model = GPT(tokenizer.vocab_size, n_embd=8, n_head=2, block_size=8, seed=0)
    runner = gpt_training(model, SGD(model, lr=0.01))
    by_length = {len(name): name for name in shuffled_names(2000) if 4 <= len(name) <= 7}
    batches = {n: [tokenizer.encode(by_length[n])] * 200 for n in sorted(by_length)}
    tracemalloc.start()
    try:
        runner.step(*padded(model, batches[7]))
        one = tracemalloc.get_traced_memory()[0]
        for n in (4, 5, 6, 7, 4, 5, 6):
            runner.step(*padded(model, batches[n]))
        every = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(runner.tapes) == 4
    assert one > 2_000_000  # the batch's arrays are most of it
    assert every < 1.3 * one


def test_a_padded_batch_is_the_mean_of_each_documents_own_loss() -> None:
    """Padding with bos and weight 0 changes nothing: causal attention, masked loss."""
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    model = GPT(tokenizer.vocab_size, seed=1)
    runner = gpt_training(model, Adam(model, lr=0.01))
    docs = [tokenizer.encode(name) for name in ("bo", "emma", "christopher")]
    tokens, weights = padded(model, docs)
    assert tokens.shape == (3, 13) and weights.shape == (3, 12)
    assert weights[0].tolist() == [1 / 3] * 3 + [0.0] * 9
    assert tokens[0, 4:].tolist() == [tokenizer.bos] * 9
    tape = runner.trace(tokens, weights)
    # attention's scores and weighted sums, per layer, as batched matrix products
    assert tape.program(3).count(" batched ") == 2 * model.n_layer
    found, _ = tape.backward_arrays(tokens, weights, reduction="mean")
    losses = [model.loss(doc) for doc in docs]
    assert found == pytest.approx(np.mean([loss.data for loss in losses]), rel=1e-12)
    model.zero_grad()
    for loss in losses:
        (loss / 3).backward()
    eager = np.array([p.grad for p in runner.optimizer.params])
    assert np.abs(tape.arrays.grad[:len(eager)] - eager).max() < 1e-12


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
    runner = gpt_training(model, SGD(model, lr=0.1))
    before = parameters(model)
    runner.step(*padded(model, [tokenizer.encode("emma")]))
    assert runner.tape is not None
    data = runner.tape.arrays.data[:len(before)]
    assert np.array_equal(parameters(model), before)  # the step touched the arrays only
    runner.push()
    assert np.array_equal(parameters(model), data)
    assert not np.array_equal(data, before)
    model.wte.weight[0][0].data = 5.0
    runner.pull()
    assert runner.tape.arrays.data[0] == 5.0


def test_bad_inputs_are_clear_errors_that_change_nothing() -> None:
    tokenizer = CharTokenizer.from_documents(nn.data.names())
    model = GPT(tokenizer.vocab_size, seed=0)
    other = GPT(tokenizer.vocab_size, seed=1)
    with pytest.raises(TypeError, match="gpt_training expects a GPT"):
        gpt_training(nn.MLP(2, [1]), Adam(model))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the optimizer must hold exactly the model's 4192"):
        gpt_training(model, Adam(other))
    runner = gpt_training(model, Adam(model, lr=0.01))
    before = parameters(model)
    with pytest.raises(ValueError, match="document 1: expected token ids from 0 to 26"):
        padded(model, [tokenizer.encode("emma"), [26, 27, 26]])
    for i, bad in enumerate(([3, 1.5], [3, -1], [3, float("nan")], [27, *[1, 2, 3] * 9])):
        documents = [*[[1, 2, 3], [4, 5]][:i % 2 + 1], bad, [6, 7]]
        with pytest.raises(ValueError, match=f"document {i % 2 + 1}: expected token ids"):
            padded(model, documents)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        padded(model, [[26]])
    with pytest.raises(ValueError, match="at least one document"):
        padded(model, [])
    with pytest.raises(ValueError, match="at least one document"):
        train_step(model, runner.optimizer, [])
    with pytest.raises(TypeError, match="a list of encoded documents"):
        train_step(model, runner.optimizer, tokenizer.encode("emma"))  # type: ignore[arg-type]
    assert np.array_equal(parameters(model), before) and runner.optimizer.steps == 0
    with pytest.raises(TypeError, match="compiled must be True or False"):
        train(model, tokenizer, ["emma"], steps=1, compiled="yes", progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        train(model, tokenizer, ["emma"], steps=1, batch_size=0, progress=False)
    assert np.array_equal(parameters(model), before)


@pytest.mark.parametrize("vocab_size, block_size, message", [
    (27, 0, "pad_batch: block_size must be a positive int, got 0"),
    (27, 2.0, "pad_batch: block_size must be a positive int, got 2.0"),
    (0, 4, "pad_batch: vocab_size must be a positive int, got 0"),
])
def test_pad_batch_refuses_sizes_it_cannot_pad_to(vocab_size, block_size, message) -> None:
    """A block of 0 divided by zero into an empty batch."""
    with pytest.raises(ValueError, match=re.escape(message)):
        pad_batch([[26, 1, 26]], vocab_size, block_size)


@pytest.mark.parametrize("token, shown", [(True, "bool True"), ("a", "str 'a'"),
                                          (None, "NoneType None")])
def test_pad_batch_refuses_tokens_that_are_not_numbers(token, shown) -> None:
    """True was read as token 1, as eager training refuses it; text failed inside NumPy
    with no document named."""
    with pytest.raises(TypeError, match=re.escape(f"document 1: token 2 is {shown}, "
                                                  "expected int token ids from 0 to 26")):
        pad_batch([[26, 1, 26], [26, 3, token, 26]], 27, 8)
