"""The GPT: microgpt's losses from microgpt's weights, gradients against central
differences, training, sampling, saving, and the pictures of its insides."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest
from matplotlib.colors import to_rgb

import nn
from autograd_scalar import draw_graph, explore, no_grad
from nn.gpt import GPT, CharTokenizer, inspection, sample, samples, train
from nn.gpt.inspection import attention_weights, plot_attention, position_loss
from reproductions.microgpt import MicrogptValue, Trainer, gpt_state

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper"]


def tiny(seed: int = 0) -> tuple[GPT, CharTokenizer]:
    tokenizer = CharTokenizer.from_documents(DOCS)
    return GPT(tokenizer.vocab_size, n_embd=8, n_head=2, block_size=8, seed=seed), tokenizer


def test_microgpt_sizes_give_4192_parameters_and_other_sizes_the_formula() -> None:
    assert len(GPT(27, seed=0).parameters()) == 4192
    v, d, layers, block = 11, 12, 2, 5
    model = GPT(v, n_embd=d, n_head=3, n_layer=layers, block_size=block, seed=0)
    assert len(model.parameters()) == 2 * v * d + block * d + layers * 12 * d * d
    assert nn.summary(model).total == len(model.parameters())


@pytest.mark.parametrize("sizes", [(27, 16, 4, 1, 16), (11, 12, 3, 2, 5), (9, 8, 1, 3, 4)])
def test_graph_ops_counts_the_op_nodes_of_a_documents_loss(sizes) -> None:
    """The count that sizes a step's memory, against the nodes of a real loss graph."""
    vocab, embd, heads, layers, block = sizes
    model = GPT(vocab, n_embd=embd, n_head=heads, n_layer=layers, block_size=block, seed=0)
    for positions in range(1, block + 1):
        tokens = [(3 * i) % vocab for i in range(positions + 1)]
        ops, seen, stack = 0, set(), [model.loss(tokens)]
        while stack:
            node = stack.pop()
            if id(node) not in seen:
                seen.add(id(node))
                ops += bool(node.children)
                stack.extend(node.children)
        assert model.graph_ops(positions) == ops
    with pytest.raises(ValueError, match="positions"):
        model.graph_ops(0)


def test_same_losses_as_microgpt_from_its_own_weights() -> None:
    """microgpt's 30-line Value and training step (reproductions/microgpt.py) are the reference."""
    reference = Trainer(MicrogptValue, nn.data.names())
    tokenizer = CharTokenizer.from_documents(reference.docs)
    model = GPT(tokenizer.vocab_size, seed=0)
    model.load_state_dict(gpt_state(reference))
    steps = 5
    expected = [reference.step(num_steps=steps) for _ in range(steps)]
    history = train(model, tokenizer, reference.docs, steps=steps, progress=False)
    assert history.loss == pytest.approx(expected, rel=0, abs=1e-12)
    theirs = gpt_state(reference)
    assert max(abs(p - theirs[name]) for name, p in model.state_dict().items()) < 1e-12


def test_loss_gradients_match_central_differences() -> None:
    model, tokenizer = tiny(1)
    tokens = tokenizer.encode("amelia")
    loss = model.loss(tokens)
    loss.backward()
    named = model.named_parameters()
    picks = random.Random(0).sample(range(len(named)), 25)
    picks += [i for i, (name, _) in enumerate(named) if name == "wte.weight[0][0]"]
    for i in picks:
        name, p = named[i]
        h = 1e-6
        saved = p.data
        with no_grad():
            p.data = saved + h
            up = model.loss(tokens).data
            p.data = saved - h
            down = model.loss(tokens).data
        p.data = saved
        numeric = (up - down) / (2 * h)
        assert p.grad == pytest.approx(numeric, rel=1e-4, abs=1e-8), name


def test_the_loss_of_a_uniform_model_is_log_vocab() -> None:
    model, tokenizer = tiny()
    for p in model.lm_head.parameters():
        p.data = 0.0  # every logit 0: p(next) = 1 / V at every position
    assert model.loss(tokenizer.encode("ava")).data == pytest.approx(
        math.log(tokenizer.vocab_size), rel=1e-14)


def test_later_tokens_do_not_change_earlier_logits() -> None:
    model, tokenizer = tiny(2)
    with no_grad():
        a = model(tokenizer.encode("em"))  # bos e m bos
        b = model(tokenizer.encode("ea"))  # bos e a bos
    for t in (0, 1):
        assert [v.data for v in a[t]] == [v.data for v in b[t]]
    assert [v.data for v in a[2]] != [v.data for v in b[2]]


def test_bad_model_arguments_and_calls_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"n_embd \(10\) must be a multiple of n_head \(4\)"):
        GPT(5, n_embd=10)
    model, tokenizer = tiny()
    with pytest.raises(ValueError, match="at most block_size = 8 tokens, got 9"):
        model(list(range(9)))
    with pytest.raises(ValueError, match="position must be an int from 0 to 7"):
        model.step(0, 8, model.new_caches())
    with pytest.raises(ValueError, match="holding the 0 position"):
        caches = model.new_caches()
        model.step(0, 0, caches)
        model.step(0, 0, caches)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        model.loss([tokenizer.bos])
    for std in ("x", None, -0.1, float("nan")):  # float(std) said "could not convert..."
        with pytest.raises(ValueError, match=r"^GPT: std must be a finite number >= 0"):
            GPT(5, std=std)


def test_training_lowers_the_loss_and_decays_the_rate_linearly() -> None:
    model, tokenizer = tiny(3)
    history = train(model, tokenizer, DOCS, steps=40, lr=0.02, progress=False)
    assert len(history.loss) == len(history.lr) == 40
    assert history.lr == pytest.approx([0.02 * (1 - s / 40) for s in range(40)], rel=1e-15)
    assert np.mean(history.loss[-8:]) < np.mean(history.loss[:8]) - 0.3


@pytest.mark.parametrize("compiled", [False, True])
def test_a_history_given_keeps_the_steps_done_when_training_stops(monkeypatch,
                                                                  compiled) -> None:
    """Ctrl-C at step 4: the history passed in holds the 3 steps done, a loss and a
    rate each."""
    from nn.gpt import training

    model, tokenizer = tiny(3)
    calls = []
    original = training.pad_batch if compiled else training._backpropagated
    name = "pad_batch" if compiled else "_backpropagated"

    def counted(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(training, name, counted)
    history = nn.History(metrics=("loss",))
    with pytest.raises(KeyboardInterrupt):
        train(model, tokenizer, DOCS, steps=10, progress=False, compiled=compiled,
              history=history)
    assert len(history.loss) == len(history.lr) == 3
    with pytest.raises(TypeError, match=r"history must be an nn\.History, got list"):
        train(model, tokenizer, DOCS, steps=1, progress=False, history=[])


@pytest.mark.parametrize("compiled", [False, True])
def test_a_ctrl_c_during_an_update_comes_after_the_step_is_recorded(monkeypatch, ctrl_c,
                                                                    compiled) -> None:
    """A Ctrl-C held through the optimizer's update was raised as the update ended,
    before the history took the step: it held one step fewer than the parameters."""
    import signal

    from nn.optim import Adam

    model, tokenizer = tiny(3)
    name = "step_arrays" if compiled else "step"
    original, calls = getattr(Adam, name), []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # arrives during the update
        return original(self, *args)

    monkeypatch.setattr(Adam, name, interrupted)
    history = nn.History(metrics=("loss",))
    with pytest.raises(KeyboardInterrupt):
        train(model, tokenizer, DOCS, steps=10, progress=False, compiled=compiled,
              history=history, decay=False)
    assert len(history.loss) == len(history.lr) == 3
    expected, _ = tiny(3)
    train(expected, tokenizer, DOCS, steps=3, progress=False, compiled=compiled, decay=False)
    assert [p.data for p in model.parameters()] == pytest.approx(
        [p.data for p in expected.parameters()], abs=1e-12)


def test_bad_training_input_changes_nothing() -> None:
    model, tokenizer = tiny()
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"document 1: encode: character 'Z'"):
        train(model, tokenizer, ["emma", "Zoe"], steps=3, progress=False)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        train(model, tokenizer, DOCS, steps=0, progress=False)
    with pytest.raises(ValueError, match="the tokenizer has 4 tokens but the model's vocab_size"):
        train(model, CharTokenizer("abc"), ["abc"], steps=1, progress=False)
    with pytest.raises(ValueError, match="docs must be a non-empty list"):
        train(model, tokenizer, [], steps=1, progress=False)
    with pytest.raises(ValueError, match=rf"batch_size must be at most the number of "
                                         rf"documents \({len(DOCS)}\), got {len(DOCS) + 1}"):
        train(model, tokenizer, DOCS, steps=1, batch_size=len(DOCS) + 1, progress=False)
    assert model.state_dict() == before


def test_samples_are_reproducible_made_of_the_vocabulary_and_bounded() -> None:
    model, tokenizer = tiny(4)
    train(model, tokenizer, DOCS, steps=30, lr=0.02, progress=False)
    drawn = samples(model, tokenizer, 20, seed=7)
    assert drawn == samples(model, tokenizer, 20, seed=7)
    assert all(set(name) <= set(tokenizer.chars) and len(name) <= model.block_size
               for name in drawn)
    assert len(set(drawn)) > 1
    assert all(s.startswith("is") for s in samples(model, tokenizer, 5, prompt="is", seed=1))


def test_temperature_sharpens_sampling_towards_the_likeliest_token() -> None:
    model, tokenizer = tiny(5)
    with no_grad():
        logits = [v.data for v in model.step(tokenizer.bos, 0, model.new_caches())]
    likeliest = tokenizer.decode([int(np.argmax(logits))])
    first = [sample(model, tokenizer, temperature=0.01, rng=random.Random(i))[:1]
             for i in range(5)]
    assert first == [likeliest] * 5
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got 0"):
        sample(model, tokenizer, temperature=0)
    with pytest.raises(ValueError, match="at most 7 fit in block_size 8"):
        sample(model, tokenizer, prompt="isabella")


@pytest.mark.parametrize("temperature", [1e-300, 1e-308, 1e300])
def test_extreme_temperatures_sample_without_overflow(temperature) -> None:
    model = GPT(4, n_embd=8, n_head=2, block_size=8, std=1.0, seed=0)  # logits of size ~5
    tokenizer = CharTokenizer("abc")
    drawn = samples(model, tokenizer, 5, temperature=temperature, seed=0)
    assert all(set(name) <= set("abc") for name in drawn)


@pytest.mark.parametrize("temperature", [5e-324, 1e-309])
def test_a_temperature_whose_reciprocal_overflows_is_refused(temperature) -> None:
    model, tokenizer = tiny(5)
    with pytest.raises(ValueError, match=rf"temperature {temperature!r} is too small: "
                                         r"1 / temperature overflows; expected at least "
                                         r"1e-308"):
        sample(model, tokenizer, temperature=temperature)


def test_rng_may_be_a_numpy_generator_and_anything_else_is_refused_clearly() -> None:
    model, tokenizer = tiny(5)
    drawn = [sample(model, tokenizer, rng=np.random.default_rng(3)) for _ in range(2)]
    assert drawn[0] == drawn[1]  # the same Generator state gives the same document
    shared = np.random.default_rng(3)
    assert sample(model, tokenizer, rng=shared) == drawn[0]
    assert sample(model, tokenizer, rng=np.int64(4)) == sample(model, tokenizer, rng=4)
    for bad in (0.5, "seed", True):
        with pytest.raises(TypeError, match=r"rng must be a random.Random, an int seed, a "
                                            r"numpy.random.Generator or None, got"):
            sample(model, tokenizer, rng=bad)


def test_samples_takes_the_seeds_sample_takes_and_checks_everything_first() -> None:
    model, tokenizer = tiny(5)
    assert samples(model, tokenizer, 3, seed=np.int64(4)) == samples(model, tokenizer, 3,
                                                                     seed=4)
    assert samples(model, tokenizer, 2, seed=random.Random(4)) == samples(model, tokenizer,
                                                                          2, seed=4)
    for bad in (1.5, "abc", True):
        with pytest.raises(TypeError, match=r"seed must be a random.Random, an int seed"):
            samples(model, tokenizer, 2, seed=bad)
    with pytest.raises(ValueError, match="temperature must be"):
        samples(model, tokenizer, 0, temperature=-1)
    with pytest.raises(ValueError, match="character 'z' at position 0 of 'zzz' is not in"):
        samples(model, tokenizer, 0, prompt="zzz")
    with pytest.raises(TypeError, match=r"model must be an nn\.gpt\.GPT, got str"):
        samples("not a model", tokenizer, 0)
    with pytest.raises(ValueError, match="seed: a seed must be >= 0, got -3"):
        samples(model, tokenizer, 2, seed=-3)  # Python's Random(-3) is Random(3)
    with pytest.raises(TypeError, match=r"prompt must be a str \(\'\' for none\), got NoneType"):
        samples(model, tokenizer, 1, prompt=None)


def test_a_diverged_model_is_named_when_sampling() -> None:
    """Logits that are not finite (training at lr 1e300) were Python's "Total of weights
    must be finite" from deep inside random.choices."""
    model, tokenizer = tiny(5)
    for p in model.parameters():
        p.data = math.nan
    from nn.gpt.sampling import DivergedModelError

    with pytest.raises(DivergedModelError, match=r"cannot sample: the model's logits at position 0 "
                                         r"are not finite \(nan\); its parameters have "
                                         r"diverged"):
        sample(model, tokenizer, rng=0)
    # the caller's generators were advanced by the draws of a name that never came
    shared, numpy_rng = random.Random(3), np.random.default_rng(3)
    states = shared.getstate(), numpy_rng.bit_generator.state
    for rng in (shared, numpy_rng):
        with pytest.raises(DivergedModelError):
            sample(model, tokenizer, rng=rng)
    assert (shared.getstate(), numpy_rng.bit_generator.state) == states


def test_positions_may_be_numpy_integers() -> None:
    model, tokenizer = tiny(5)
    tokens = tokenizer.encode("emma")
    assert position_loss(model, tokens, np.int64(2)).data == position_loss(model, tokens, 2).data
    with pytest.raises(ValueError, match=r"position_loss: a document needs at least 2 "
                                         r"tokens \(one to read, one to predict\), got 1"):
        position_loss(model, tokens[:1], 0)


def test_save_and_load_give_the_same_model(tmp_path) -> None:
    model, tokenizer = tiny(6)
    train(model, tokenizer, DOCS, steps=5, progress=False)
    path = tmp_path / "gpt.json"
    model.save(path)
    loaded, _ = tiny(99)
    loaded.load(path)
    tokens = tokenizer.encode("sophia")
    assert loaded.loss(tokens).data == model.loss(tokens).data
    other = GPT(tokenizer.vocab_size, n_embd=8, n_head=4, block_size=8, seed=0)
    with pytest.raises(ValueError, match="saved from a different architecture"):
        other.load(path)
    rebuilt = nn.load(path)  # from the file alone: class, sizes and parameters
    assert isinstance(rebuilt, GPT) and rebuilt.config() == model.config()
    assert rebuilt.loss(tokens).data == model.loss(tokens).data


def test_attention_weights_are_causal_rows_of_a_softmax(tmp_path) -> None:
    model, tokenizer = tiny(7)
    weights = attention_weights(model, tokenizer.encode("mia"))
    assert weights.shape == (1, 2, 5, 5)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.all(np.triu(weights[0, 0], k=1) == 0.0)
    figure = plot_attention(model, tokenizer, "mia", path=tmp_path / "attention.png")
    assert len(figure.axes) == 3 and (tmp_path / "attention.png").stat().st_size > 1000
    # the positions after t (masked) are grey, not the white of a weight of 0
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255.0
    ax = figure.axes[0]
    for (t, s), expected in [((0, 3), to_rgb(inspection.MASKED)), ((3, 0), None)]:
        column, row = ax.transData.transform((s, t))
        seen = image[image.shape[0] - round(float(row)), round(float(column))]
        if expected is None:  # a weight: the colour map's, never the masked grey
            assert not np.allclose(seen, to_rgb(inspection.MASKED), atol=0.02)
        else:
            assert np.allclose(seen, expected, atol=0.02), (t, s, seen)
    with pytest.raises(ValueError, match="layer must be an int from 0 to 0"):
        plot_attention(model, tokenizer, "mia", layer=1)
    assert figure.get_suptitle() == "attention of block 0 reading 'mia'"
    long = plot_attention(model, tokenizer, "isabellamia")  # block_size 8: [bos] and 7
    assert len(long.axes[0].get_xticklabels()) == 8
    assert long.get_suptitle().replace("\n", " ") == (
        "attention of block 0 reading 'isabell' (the first 7 of its 11 characters fill the "
        "block)")
    long.canvas.draw()  # wrapped to the figure: with two heads it was wider, cut at both ends
    title = long._suptitle.get_window_extent(long.canvas.get_renderer())
    assert title.x0 >= 0 and title.x1 <= long.bbox.width


def test_the_graph_of_one_position_is_its_loss_and_is_summarised_by_module() -> None:
    model, tokenizer = tiny(8)
    tokens = tokenizer.encode("ava")
    caches = model.new_caches()
    with no_grad():
        logits = [model.step(tokens[t], t, caches) for t in range(3)]
    last = logits[2]
    top = max(v.data for v in last)
    expected = top + math.log(sum(math.exp(v.data - top) for v in last)) - last[tokens[3]].data
    loss = position_loss(model, tokens, 2)
    assert loss.data == pytest.approx(expected, rel=1e-13)
    source = draw_graph(loss, names=model, max_nodes=60).source
    boxes = set(re.findall(r"module ([\w.]+): [\d,]+ nodes", source))
    assert {"wte", "wpe", "blocks.0.attn.head0", "blocks.0.attn.head1", "blocks.0.mlp.fc1",
            "lm_head"} <= boxes
    with pytest.raises(ValueError, match="position must be an int from 0 to 3"):
        position_loss(model, tokens, 4)


def test_the_graph_of_one_position_opens_in_the_interactive_view(tmp_path) -> None:
    model, tokenizer = tiny(9)
    loss = position_loss(model, tokenizer.encode("mia"), 1)
    loss.backward()
    page = tmp_path / "position.html"
    explore(loss, names=model).save(page)
    text = page.read_text(encoding="utf-8")
    for module in ("blocks.0.attn.head0", "blocks.0.attn.head1", "blocks.0.mlp.fc1", "wte"):
        assert module in text


def test_summary_lists_every_module_with_its_parameters() -> None:
    text = str(nn.summary(GPT(27, seed=0)))
    assert re.search(r"^  wte\s+Embedding\(27, 16\)\s+432\s+432$", text, re.M)
    assert re.search(r"^      fc1\s+Linear\(16 -> 64, bias=False\)\s+1,024\s+1,024$", text, re.M)
    assert text.endswith("4,192 parameters")
    assert len(nn.summary(GPT(27, seed=0), depth=1).rows) == 6
    with pytest.raises(TypeError, match="summary expects an nn Module"):
        nn.summary("model")  # type: ignore[arg-type]


def test_the_attention_plots_title_stands_apart_from_the_heads_titles() -> None:
    """The figure's title touched the titles of the middle heads (four heads, as the docs'
    picture has)."""
    model = GPT(vocab_size=27, n_embd=16, n_head=4, n_layer=1, block_size=8, seed=0)
    tokenizer = CharTokenizer.from_documents(["emma", "olivia", "ava"])
    figure = plot_attention(model, tokenizer, "emma")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    title = figure._suptitle.get_window_extent(renderer)
    for ax in figure.axes[:4]:
        head = ax.title.get_window_extent(renderer)
        assert title.y0 - head.y1 >= 4, (ax.title.get_text(), title, head)  # pixels between
