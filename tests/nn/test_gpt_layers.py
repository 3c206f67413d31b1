"""The GPT's parts against closed forms and central differences: tokenizer, Embedding,
Linear, RMSNorm, softmax and causal self-attention."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_scalar import Value, gradcheck, no_grad
from nn.gpt import CausalSelfAttention, CharTokenizer, Embedding, KVCache, Linear, RMSNorm
from nn.gpt import softmax as gpt_softmax
from tests.finite_differences import close, partial

real = st.floats(-3, 3, allow_nan=False)


# -- tokenizer ---------------------------------------------------------------------------

def test_the_tokenizer_numbers_sorted_characters_and_puts_bos_last() -> None:
    tokenizer = CharTokenizer.from_documents(["emma", "ava", "bob"])
    assert tokenizer.chars == "abemov"
    assert (tokenizer.bos, tokenizer.vocab_size) == (6, 7)
    assert tokenizer.encode("emma") == [6, 2, 3, 3, 0, 6]
    assert tokenizer.encode("ab", boundaries=False) == [0, 1]
    assert tokenizer.decode(tokenizer.encode("mova")) == "mova"
    assert tokenizer.decode(np.array([3, 4, 5, 0])) == "mova"  # NumPy integers too
    assert tokenizer.decode([np.int64(1), np.uint8(0)]) == "ba"
    assert tokenizer == CharTokenizer("vomeba") and repr(tokenizer).startswith("CharTokenizer(")


def test_tokenizer_errors_name_the_character_or_token() -> None:
    tokenizer = CharTokenizer("abc")
    with pytest.raises(ValueError, match=r"character 'z' at position 1 of 'az' is not in the "
                                         r"vocabulary 'abc'"):
        tokenizer.encode("az")
    with pytest.raises(ValueError, match="expected token ids from 0 to 3, got 4"):
        tokenizer.decode([0, 4])
    for bad in (np.int64(4), 1.0, True, "a"):
        with pytest.raises(ValueError, match=r"expected token ids from 0 to 3, got .* "
                                             r"\(token ids are ints"):
            tokenizer.decode([bad])
    with pytest.raises(ValueError, match="one-character str, got 'ab'"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="at least one character"):
        CharTokenizer("")
    with pytest.raises(TypeError, match="document 1 is a int"):
        CharTokenizer.from_documents(["a", 3])  # type: ignore[list-item]


# -- Embedding, Linear, RMSNorm --------------------------------------------------------------

def test_an_embedding_reads_one_row_and_sends_gradient_to_it_alone() -> None:
    table = Embedding(5, 3, std=1.0, seed=0)
    rows = [[w.data for w in row] for row in table.weight]
    out = table(Value(2.0))
    assert [v.data for v in out] == rows[2]
    assert {v.op for v in out} == {"gather"}
    sum(v * (j + 1) for j, v in enumerate(out)).backward()
    grads = [[w.grad for w in row] for row in table.weight]
    assert grads == [[float(j + 1) if i == 2 else 0.0 for j in range(3)] for i in range(5)]
    assert len(table.parameters()) == 15
    assert table.named_parameters()[4][0] == "weight[1][1]"


@pytest.mark.parametrize("index", [5, -1, 1.5, "a", True])
def test_an_embedding_refuses_an_index_outside_its_table(index) -> None:
    with pytest.raises(ValueError, match=r"Embedding: expected an index from 0 to 4 \(a row of "
                                         r"its 5 x 3 table\)"):
        Embedding(5, 3, seed=0)(index)


def test_linear_is_w_times_x_and_its_gradient_matches_differences() -> None:
    layer = Linear(3, 2, std=1.0, seed=1)
    W = np.array([[w.data for w in row] for row in layer.weight])
    x = [0.5, -1.0, 2.0]
    assert [v.data for v in layer(x)] == pytest.approx((W @ x).tolist(), rel=1e-15)
    assert gradcheck(lambda *xs: sum(layer(list(xs))), [Value(v) for v in x])
    with pytest.raises(ValueError, match="Linear expects 3 inputs, got 2"):
        layer([1.0, 2.0])


@given(xs=st.lists(real, min_size=1, max_size=6))
def test_rmsnorm_is_x_over_its_root_mean_square(xs: list[float]) -> None:
    norm = RMSNorm()
    out = [v.data for v in norm([Value(x) for x in xs])]
    scale = 1.0 / math.sqrt(sum(x * x for x in xs) / len(xs) + 1e-5)
    assert out == pytest.approx([x * scale for x in xs], rel=1e-12, abs=1e-12)

    def f(*point: float) -> float:
        s = 1.0 / math.sqrt(sum(p * p for p in point) / len(point) + 1e-5)
        return sum((k + 1) * p * s for k, p in enumerate(point))

    leaves = [Value(x) for x in xs]
    sum((k + 1) * v for k, v in enumerate(norm(leaves))).backward()
    for i, leaf in enumerate(leaves):
        assert close(leaf.grad, partial(f, xs, i), rtol=1e-4, atol=1e-5)


def test_rmsnorm_errors() -> None:
    with pytest.raises(ValueError, match="eps must be a finite number > 0, got 0"):
        RMSNorm(eps=0)
    with pytest.raises(ValueError, match="at least one input"):
        RMSNorm()([])


# -- softmax and attention ---------------------------------------------------------------

@given(xs=st.lists(st.floats(-1000, 1000), min_size=1, max_size=6))
def test_softmax_is_stable_and_matches_the_closed_form(xs: list[float]) -> None:
    probs = [p.data for p in gpt_softmax([Value(x) for x in xs])]
    top = max(xs)
    exps = [math.exp(x - top) for x in xs]
    assert probs == pytest.approx([e / sum(exps) for e in exps], rel=1e-9, abs=1e-300)
    assert sum(probs) == pytest.approx(1.0, rel=1e-12)


def test_one_position_attends_to_itself_alone() -> None:
    attention = CausalSelfAttention(4, 2, std=1.0, seed=2)
    x = [0.3, -0.2, 0.5, 1.0]
    Wv = np.array([[w.data for w in row] for row in attention.wv.weight])
    Wo = np.array([[w.data for w in row] for row in attention.wo.weight])
    out = attention(x)  # weight 1 on its own value: out = Wo Wv x
    assert [v.data for v in out] == pytest.approx((Wo @ Wv @ x).tolist(), rel=1e-12)


def test_attention_matches_a_numpy_closed_form_and_is_causal() -> None:
    rng = np.random.default_rng(3)
    attention = CausalSelfAttention(6, 3, std=0.5, seed=4)
    W = {name: np.array([[w.data for w in row] for row in getattr(attention, name).weight])
         for name in ("wq", "wk", "wv", "wo")}
    xs = rng.normal(size=(4, 6))
    cache = KVCache()
    with no_grad():
        ours = [[v.data for v in attention.attend(x.tolist(), cache)] for x in xs]
    Q, K, V = xs @ W["wq"].T, xs @ W["wk"].T, xs @ W["wv"].T
    for t in range(4):
        heads = []
        for h in range(3):
            s = slice(2 * h, 2 * h + 2)
            logits = K[:t + 1, s] @ Q[t, s] / math.sqrt(2)
            w = np.exp(logits - logits.max())
            w /= w.sum()
            heads.append(w @ V[:t + 1, s])
            assert cache.weights[t][h] == pytest.approx(w.tolist(), rel=1e-12)
        assert ours[t] == pytest.approx((W["wo"] @ np.concatenate(heads)).tolist(), rel=1e-10)
    assert len(cache) == 4


def test_attention_gradients_match_central_differences() -> None:
    attention = CausalSelfAttention(4, 2, std=0.7, seed=5)
    point = [0.2, -0.4, 0.9, 0.1, -0.3, 0.5, 0.7, -0.8]  # two positions of four numbers

    def run(*xs: Value) -> Value:
        cache = KVCache()
        attention.attend(list(xs[:4]), cache)
        return sum(v * (k + 1) for k, v in enumerate(attention.attend(list(xs[4:]), cache)))

    assert gradcheck(run, [Value(x) for x in point])


def test_attention_needs_heads_that_divide_the_width() -> None:
    with pytest.raises(ValueError, match=r"n_embd \(6\) must be a multiple of n_head \(4\)"):
        CausalSelfAttention(6, 4)


def test_a_block_is_attention_then_mlp_each_added_to_its_input() -> None:
    from nn.gpt import Block

    block = Block(4, 2, std=0.6, seed=6)
    x = [0.4, -1.2, 0.3, 0.8]

    def matrix(layer: Linear) -> np.ndarray:
        return np.array([[w.data for w in row] for row in layer.weight])

    def rms(v: np.ndarray) -> np.ndarray:
        return v / np.sqrt(np.mean(v * v) + 1e-5)

    attn = block.attn
    h = np.array(x) + matrix(attn.wo) @ matrix(attn.wv) @ rms(np.array(x))  # one position
    mlp = matrix(block.mlp.fc2) @ np.maximum(matrix(block.mlp.fc1) @ rms(h), 0.0)
    assert [v.data for v in block(x)] == pytest.approx((h + mlp).tolist(), rel=1e-12)
