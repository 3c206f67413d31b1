"""Module: the tree, modes, state dicts, JSON files and repr, including every error path."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd_scalar import Value
from nn import MLP, Layer, Module, Neuron


class Pair(Module):
    """A hand-made module: a shared Value, a single child and a list of children."""

    def __init__(self) -> None:
        self.scale = Value(2.0, "scale")
        self.first = Neuron(2, activation="linear", seed=0)
        self.rest = [Neuron(2, activation="tanh", seed=1), Neuron(2, seed=2)]
        self.alias = self.scale
        self.note = "not a parameter"

    def forward(self, x: object) -> Value:
        return self.scale * self.first(x) + self.rest[0](x) + self.rest[1](x)


def snapshot(model: Module) -> list[tuple[str, float, float]]:
    return [(n, p.data, p.grad) for n, p in model.named_parameters()]


def test_tree_names_cover_values_lists_and_children_once() -> None:
    model = Pair()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["scale", "first.w[0]", "first.w[1]", "first.b", "rest.0.w[0]",
                     "rest.0.w[1]", "rest.0.b", "rest.1.w[0]", "rest.1.w[1]", "rest.1.b"]
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert [n for n, _ in model.named_modules()] == ["", "first", "rest.0", "rest.1"]


def test_a_module_shared_twice_counts_once() -> None:
    class Twice(Module):
        def __init__(self) -> None:
            self.a = Neuron(2, seed=0)
            self.b = self.a

    assert len(Twice().parameters()) == 3


def test_call_scopes_children_and_forward_is_required() -> None:
    model = Pair()
    out = model([1.0, 2.0])
    assert out.scope == ""
    scopes = {c.scope for c in out.children[0].children}
    assert "rest.0" in scopes
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        Module()([1.0])


def test_zero_grad_clears_every_gradient() -> None:
    model = MLP(2, [4, 1], seed=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_train_and_eval_reach_every_submodule() -> None:
    model = MLP(2, [3, 1], seed=0)
    assert model.eval() is model
    assert [m.training for _, m in model.named_modules()] == [False] * 7
    assert model.train() is model
    assert all(m.training for _, m in model.named_modules())
    with pytest.raises(TypeError, match="mode must be True or False"):
        model.train(1)  # type: ignore[arg-type]


# -- state dicts -------------------------------------------------------------

@given(st.integers(0, 1000), st.integers(0, 1000))
def test_state_dict_round_trip_reproduces_outputs(a: int, b: int) -> None:
    source, target = MLP(3, [5, 2], seed=a), MLP(3, [5, 2], seed=b)
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    x = [0.1, -0.4, 2.0]
    assert [v.data for v in target(x)] == [v.data for v in source(x)]


def test_state_dict_is_plain_floats_by_name() -> None:
    model = Neuron(2, seed=0)
    state = model.state_dict()
    assert list(state) == ["w[0]", "w[1]", "b"]
    assert all(type(v) is float for v in state.values())


def test_load_state_dict_accepts_ints_and_numpy_numbers_and_keeps_grads() -> None:
    model = Neuron(2, seed=0)
    model.w[0].grad = 5.0
    model.load_state_dict({"w[0]": 1, "w[1]": np.float32(0.5), "b": np.int64(-2)})
    assert model.state_dict() == {"w[0]": 1.0, "w[1]": 0.5, "b": -2.0}
    assert model.w[0].grad == 5.0


FINITE = "must be a finite real number within float range, got"


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("b"), r"1 missing \('b'\).*model has 3 parameters, the state has 2"),
    (lambda s: s.update(c=1.0), r"1 unexpected \('c'\)"),
    (lambda s: s.update({"w[0]": math.nan}), r"'w\[0\]' " + FINITE + " nan"),
    (lambda s: s.update({"w[1]": math.inf}), r"'w\[1\]' " + FINITE + " inf"),
    (lambda s: s.update(b="1.0"), r"'b' " + FINITE + " '1.0'"),
    (lambda s: s.update(b=True), r"'b' " + FINITE + " True"),
    (lambda s: s.update(b=None), r"'b' " + FINITE + " None"),
    (lambda s: s.update(b=1 + 2j), r"'b' must be a finite real number"),
    (lambda s: s.update(b=10 ** 400),  # not OverflowError, nor 300 characters of digits
     r"'b' must be a finite real number within float range, got an int of about 401 digits$"),
])
def test_bad_state_dicts_raise_and_change_nothing(change: object, message: str) -> None:
    model = Neuron(2, seed=0)
    model([1.0, 2.0]).backward()
    before = snapshot(model)
    state = model.state_dict()
    state["w[0]"] = 123.0
    change(state)  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert snapshot(model) == before


def test_missing_and_unexpected_names_are_both_listed() -> None:
    model = MLP(2, [8, 1], seed=0)
    state = {k.replace("layers", "layer"): v for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"33 missing \('layers.0.neurons.0.w\[0\]'.*"
                                         r"\(28 more\)\) and 33 unexpected"):
        model.load_state_dict(state)


@pytest.mark.parametrize("written", [0, 1, 2])
def test_ctrl_c_while_a_state_is_set_lands_once_every_parameter_holds_it(
        monkeypatch: pytest.MonkeyPatch, written: int) -> None:
    """A SIGINT that came in the loop setting the parameters stopped it half way: a
    model of some new and some old numbers. It is held back to the loop's end now."""
    import builtins
    import signal

    import nn.module
    model = Neuron(2, seed=0)
    state = {name: 7.0 + i for i, name in enumerate(model.state_dict())}
    count = [0]

    def zip_that_interrupts(*iterables: object) -> object:
        for item in builtins.zip(*iterables):  # type: ignore[call-overload]
            if count[0] == written:
                signal.raise_signal(signal.SIGINT)
            count[0] += 1
            yield item
    monkeypatch.setattr(nn.module, "zip", zip_that_interrupts, raising=False)
    with pytest.raises(KeyboardInterrupt):
        model.load_state_dict(state)
    assert model.state_dict() == state


def test_load_state_dict_needs_a_mapping() -> None:
    with pytest.raises(TypeError, match=r"expects a mapping.*got list"):
        Neuron(2, seed=0).load_state_dict([1.0, 2.0, 3.0])  # type: ignore[arg-type]


# -- files -------------------------------------------------------------------

def test_save_then_load_restores_every_parameter_exactly(tmp_path: Path) -> None:
    source = MLP(2, [16, 16, 1], seed=1)
    source.save(tmp_path / "model.json")
    target = MLP(2, [16, 16, 1], seed=2)
    target.load(str(tmp_path / "model.json"))
    assert target.state_dict() == source.state_dict()
    document = json.loads((tmp_path / "model.json").read_text())
    assert document["module"] == "MLP"
    assert len(document["parameters"]) == 337
    assert [f for f in os.listdir(tmp_path)] == ["model.json"]


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("old")
    model = Neuron(3, seed=0)
    model.save(path)
    assert json.loads(path.read_text())["parameters"] == model.state_dict()
    assert sorted(os.listdir(tmp_path)) == ["model.json"]


def test_save_refuses_non_finite_parameters_and_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("old")
    model = Neuron(2, seed=0)
    model.b.data = math.nan
    with pytest.raises(ValueError, match="parameter 'b' is nan; only finite values"):
        model.save(path)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    path = tmp_path / "model.json"
    path.write_text("old")

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        Neuron(2, seed=0).save(path)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.json"]


def saved(tmp_path: Path, edit: object) -> Path:
    """A valid file for ``MLP(2, [3, 1])`` passed through ``edit(document)``."""
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=9).save(path)
    document = json.loads(path.read_text())
    edit(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format=None), "not a saved module"),
    (lambda d: d.pop("format"), "not a saved module"),
    (lambda d: d.update(format="keras"), "not a saved module"),
    (lambda d: d.update(version=3), "unsupported version 3; this autograd-scalar reads "
                                    "versions 1 to 2"),
    (lambda d: d.update(version="2"), "unsupported version '2'"),
    (lambda d: d.update(module="Layer"), "saved from a 'Layer', but this model is a 'MLP'"),
    (lambda d: d["architecture"].pop(),
     "different architecture: the file describes 6 modules, this model has 7"),
    (lambda d: d.update(architecture="MLP"), "architecture is str"),
    (lambda d: d["parameters"].pop("layers.1.neurons.0.b"), "1 missing"),
    (lambda d: d.update(parameters=[1.0]), "\"parameters\" must be a JSON object"),
    (lambda d: d["parameters"].update({"layers.0.neurons.0.b": "x"}), "finite real number"),
])
def test_foreign_or_damaged_documents_raise_and_change_nothing(
        tmp_path: Path, edit: object, message: str) -> None:
    path = saved(tmp_path, edit)
    model = MLP(2, [3, 1], seed=0)
    before = snapshot(model)
    with pytest.raises(ValueError, match=message) as caught:
        model.load(path)
    assert str(path) in str(caught.value)
    assert snapshot(model) == before


def test_a_json_value_that_is_not_an_object_is_not_a_saved_module(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1.0, 2.0, 3.0]")
    model = Neuron(2, seed=0)
    before = snapshot(model)
    with pytest.raises(ValueError, match="not a saved module"):
        model.load(path)
    assert snapshot(model) == before


def test_nan_in_a_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    Neuron(2, init="uniform", seed=0).save(path)
    path.write_text(path.read_text().replace('"b": 0.0', '"b": NaN'))
    model = Neuron(2, seed=1)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"model\.json: NaN is not allowed") as caught:
        model.load(path)
    assert snapshot(model) == before
    assert "not a saved module" not in str(caught.value)  # it is one, damaged


@pytest.mark.parametrize("call", [lambda m: m.save(3), lambda m: m.load(None),
                                  lambda m: nn.load(b"model.json"[0])])
def test_a_path_of_another_type_names_save_or_load(call: object) -> None:
    """Python's own "expected str, bytes or os.PathLike object" named neither."""
    with pytest.raises(TypeError, match=r"(save|load): the path must be a str or a "
                                        r"pathlib\.Path, got"):
        call(Neuron(2, seed=0))  # type: ignore[operator]


@pytest.mark.parametrize("other", [
    lambda: MLP(2, [4, 1], seed=0),
    lambda: MLP(2, [3, 1], activation="tanh", seed=0),
    lambda: MLP(2, [3, 1], output_activation="sigmoid", seed=0),
    lambda: MLP(3, [3, 1], seed=0),
])
def test_a_file_for_another_architecture_is_rejected(tmp_path: Path, other: object) -> None:
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    model = other()  # type: ignore[operator]
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"different architecture: line .* in the file but"):
        model.load(path)
    assert snapshot(model) == before


@pytest.mark.parametrize("cut", [0, 1, 50, -2])
def test_truncated_or_binary_files_are_value_errors(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "model.json"
    Neuron(2, seed=0).save(path)
    path.write_bytes(path.read_bytes()[:cut])
    model = Neuron(2, seed=1)
    before = snapshot(model)
    with pytest.raises(ValueError, match="no saved module can be read from it"):
        model.load(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not UTF-8 text"):
        model.load(path)
    assert snapshot(model) == before


def test_loading_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Neuron(2).load(tmp_path / "nothing.json")


# -- repr --------------------------------------------------------------------

def test_repr_nests_children_and_counts_parameters() -> None:
    text = repr(MLP(2, [16, 16, 1], seed=0))
    lines = text.splitlines()
    assert lines[0] == ("MLP(2 -> 16 -> 16 -> 1, activation='relu', output_activation='linear', "
                        "337 parameters) {")
    assert lines[1] == "  (layers.0): Layer(2 -> 16, activation='relu', 48 parameters)"
    assert lines[3] == "  (layers.2): Layer(16 -> 1, activation='linear', 17 parameters)"
    assert lines[4] == "}"
    assert repr(Neuron(1, seed=0)) == "Neuron(1, activation='relu', 2 parameters)"
    assert repr(Layer(3, 2, seed=0)) == "Layer(3 -> 2, activation='relu', 8 parameters)"
    assert repr(Module()) == "Module(0 parameters)"
    nested = repr(Pair()).splitlines()
    assert nested[0] == "Pair(10 parameters) {"
    assert nested[2] == "  (rest.0): Neuron(2, activation='tanh', 3 parameters)"


def test_a_summary_shows_as_its_table_in_plain_text_too() -> None:
    from IPython.lib.pretty import pretty

    table = nn.summary(nn.MLP(2, [3, 1]))
    assert pretty(table) == str(table) and pretty(table).endswith("13 parameters")
