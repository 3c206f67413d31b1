"""Model files: every kind of model rebuilt by nn.load from the file alone, old versions,
unknown classes, and damaged or hostile files refused with parameters left byte-identical."""

from __future__ import annotations

import json
import math
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from nn import MLP, Layer, Module, Network, Neuron, Standardized
from nn.data import Standardizer
from nn.gpt import GPT
from tests.nn.test_cli import run


def skip_network(seed: int = 0) -> Network:
    """Rumelhart, Hinton and Williams' XOR net: a skip connection and a neuron without bias."""
    net = Network(weight_range=0.5, seed=seed)
    for name in ("x1", "x2"):
        net.add_input(name)
    net.add_neuron("h", "sigmoid")
    net.add_neuron("o", "tanh", bias=False)
    for source, target in (("x2", "h"), ("x1", "h"), ("h", "o"), ("x1", "o"), ("x2", "o")):
        net.connect(source, target)
    return net


class Pair(Module):
    """A user's module with no constructor arguments: loadable without config()."""

    def __init__(self) -> None:
        self.scale = nn.Neuron(2, activation="tanh", seed=4)
        self.rest = [Neuron(2, seed=5), Neuron(2, seed=6)]

    def forward(self, x: Any) -> Any:
        return self.scale(x) + sum(n(x) for n in self.rest)


class Scaled(Module):
    """A user's module with arguments: loadable because it defines config()."""

    def __init__(self, width: int, seed: int | None = None) -> None:
        self.width = width
        self.inner = MLP(2, [width, 1], init="he", seed=seed)

    def forward(self, x: Any) -> Any:
        return self.inner(x) * 2.0

    def config(self) -> dict[str, Any]:
        return {"width": self.width}


class Opaque(Module):
    """A user's module with arguments and no config(): nn.load cannot rebuild it."""

    def __init__(self, nin: int) -> None:
        self.inner = Neuron(nin, seed=0)

    def forward(self, x: Any) -> Any:
        return self.inner(x)


def standardized(model: Module, features: int) -> Standardized:
    X = np.random.default_rng(1).normal(5.0, 3.0, size=(50, features))
    return Standardized(model, Standardizer.fit(X))


MODELS: dict[str, Callable[[], Module]] = {
    "Neuron": lambda: Neuron(2, activation="sigmoid", init="glorot", seed=0, fan_out=3),
    "Layer": lambda: Layer(2, 3, activation="tanh", init="he", seed=0),
    "MLP": lambda: MLP(2, [4, 3, 1], activation="leaky_relu", output_activation="sigmoid",
                       seed=0),
    "Network": skip_network,
    "Standardized MLP": lambda: standardized(MLP(2, [3, 1], seed=0), 2),
    "Standardized Network": lambda: standardized(skip_network(), 2),
    "user module without arguments": Pair,
    "user module with config()": lambda: Scaled(3, seed=0),
}


def outputs(model: Module, x: list[float]) -> list[float]:
    out = model(x)
    return [v.data for v in out] if isinstance(out, list) else [out.data]


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_every_kind_of_model_round_trips_through_nn_load_alone(tmp_path: Path,
                                                               make: Callable[[], Module]
                                                               ) -> None:
    model = make()
    path = tmp_path / "model.json"
    model.save(path)
    loaded = nn.load(path)
    assert type(loaded) is type(model)
    assert loaded.architecture() == model.architecture()
    assert loaded.state_dict() == model.state_dict()  # exactly: floats round-trip in JSON
    for x in ([0.3, -1.2], [4.0, 7.5]):
        assert outputs(loaded, x) == outputs(model, x)
    assert type(model).load(path).state_dict() == model.state_dict()


def test_the_file_records_format_version_class_and_config(tmp_path: Path) -> None:
    MLP(2, [16, 1], activation="tanh", seed=0).save(tmp_path / "model.json")
    document = json.loads((tmp_path / "model.json").read_text())
    assert document["format"] == "autograd-scalar/module" and document["version"] == 2
    assert document["model"] == {"class": "MLP", "config": {
        "nin": 2, "nouts": [16, 1], "activation": "tanh", "output_activation": "linear",
        "init": "fan_in"}}
    user = Scaled(2, seed=1)
    user.save(tmp_path / "user.json")
    described = json.loads((tmp_path / "user.json").read_text())["model"]
    assert described == {"class": f"{__name__}.Scaled", "config": {"width": 2}}


def test_class_load_returns_a_new_model_and_instance_load_returns_itself(tmp_path: Path
                                                                         ) -> None:
    source = MLP(2, [3, 1], seed=1)
    source.save(tmp_path / "model.json")
    loaded = MLP.load(tmp_path / "model.json")
    assert isinstance(loaded, MLP) and loaded is not source
    assert loaded.state_dict() == source.state_dict()
    target = MLP(2, [3, 1], seed=2)
    assert target.load(tmp_path / "model.json") is target
    assert target.state_dict() == source.state_dict()
    assert Module.load(tmp_path / "model.json").state_dict() == source.state_dict()


def test_class_load_of_another_class_is_a_clear_error(tmp_path: Path) -> None:
    MLP(2, [3, 1], seed=1).save(tmp_path / "model.json")
    with pytest.raises(ValueError, match=r"model.json: holds a MLP, not a Network; "
                                         r"nn.load\(path\) loads any model"):
        Network.load(tmp_path / "model.json")


def test_standardized_in_place_load_takes_the_files_scaling(tmp_path: Path) -> None:
    source = standardized(MLP(2, [3, 1], seed=0), 2)
    source.save(tmp_path / "model.json")
    target = Standardized(MLP(2, [3, 1], seed=1), Standardizer(np.zeros(2), np.ones(2)))
    target.load(tmp_path / "model.json")
    assert np.array_equal(target.scaler.mean, source.scaler.mean)
    assert np.array_equal(target.scaler.std, source.scaler.std)
    assert outputs(target, [1.0, 2.0]) == outputs(source, [1.0, 2.0])


def test_save_names_what_is_wrong_with_its_path_and_its_config(tmp_path: Path) -> None:
    """A missing folder was a bare "[Errno 2] No such file or directory", and a config()
    holding a NumPy int the json module's own "Object of type int64 is not JSON
    serializable"; render and the plots said which folder and who was given it."""
    with pytest.raises(FileNotFoundError, match=r"^save: cannot write .*m\.json': the "
                                                r"folder .*missing' does not exist"):
        MLP(2, [3, 1], seed=0).save(tmp_path / "missing" / "m.json")

    class Scaled(Module):
        def __init__(self, k: Any = 1) -> None:
            self.k = k

        def forward(self, x: Any) -> Any:
            return x[0] * self.k

        def config(self) -> dict[str, Any]:
            return {"k": self.k}

    with pytest.raises(TypeError, match=r"^save: Scaled\.config\(\) must give JSON numbers"):
        Scaled(np.int64(3)).save(tmp_path / "scaled.json")
    with pytest.raises(ValueError, match=r"^save: Scaled\.config\(\) holds a number that "
                                         r"is not finite"):
        Scaled(math.inf).save(tmp_path / "scaled.json")
    assert list(tmp_path.iterdir()) == []


def test_a_ctrl_c_while_loading_never_leaves_the_files_weights_with_the_old_scaling(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ctrl_c: None) -> None:
    """A Ctrl-C held through the parameters' writes was raised as they ended, before the
    file's scaling was set: a model that scored as neither. Both come, or neither."""
    import signal

    import nn.module

    source = standardized(MLP(2, [3, 1], seed=0), 2)
    source.save(tmp_path / "model.json")
    layers = source.model.layers  # a state_dict as PyTorch's MLP names it, as arrays
    state = {"mean": source.scaler.mean, "std": source.scaler.std}
    for i, layer in enumerate(layers):
        state[f"{2 * i}.weight"] = np.array([[w.data for w in n.w] for n in layer.neurons])
        state[f"{2 * i}.bias"] = np.array([n.b.data for n in layer.neurons])
    deferred = nn.module.interrupts_deferred

    class CtrlCDuringTheWrites(deferred):  # type: ignore[misc, valid-type]
        def __enter__(self) -> None:
            super().__enter__()
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(nn.module, "interrupts_deferred", CtrlCDuringTheWrites)
    for load in (lambda m: m.load(tmp_path / "model.json"),
                 lambda m: nn.load_torch_state_dict(m, state)):
        target = Standardized(MLP(2, [3, 1], seed=1), Standardizer(np.zeros(2), np.ones(2)))
        with pytest.raises(KeyboardInterrupt):
            load(target)
        assert np.array_equal(target.scaler.mean, source.scaler.mean)
        assert outputs(target, [1.0, 2.0]) == outputs(source, [1.0, 2.0])


@pytest.mark.parametrize("config", [None, "scaled", []])
def test_a_standardized_file_without_its_scaling_loads_nothing(tmp_path: Path,
                                                               config: Any) -> None:
    """A version-2 file whose Standardized records no scaling: loading it into a model
    would join the file's weights to the model's own, unrelated scaling."""
    path = tmp_path / "model.json"
    standardized(MLP(2, [3, 1], seed=0), 2).save(path)
    document = json.loads(path.read_text())
    document["model"]["config"] = config
    path.write_text(json.dumps(document))
    target = Standardized(MLP(2, [3, 1], seed=1), Standardizer(np.full(2, 5.0), np.full(2, 2.0)))
    before = (target.state_dict(), outputs(target, [1.0, 2.0]))
    with pytest.raises(ValueError, match=r"records no scaling for this Standardized"):
        target.load(path)
    assert (target.state_dict(), outputs(target, [1.0, 2.0])) == before
    assert target.scaler.mean.tolist() == [5.0, 5.0]


def test_a_subnormal_std_is_refused_in_a_file_and_in_the_constructor(tmp_path: Path) -> None:
    """std = 1e-320 is finite and > 0, but 1 / std is not: every scaled input would be
    infinite."""
    with pytest.raises(ValueError, match=r"1 / std finite"):
        Standardized(MLP(2, [1], seed=0), Standardizer(np.zeros(2), np.array([1e-320, 1.0])))
    path = tmp_path / "model.json"
    standardized(MLP(2, [3, 1], seed=0), 2).save(path)
    document = json.loads(path.read_text())
    document["model"]["config"]["std"] = [1e-320, 1.0]
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"1 / std finite"):
        nn.load(path)


def test_standardized_scales_values_and_numbers_alike() -> None:
    model = standardized(MLP(2, [3, 1], seed=0), 2)
    from autograd_scalar import Value

    x = [Value(1.5), Value(-2.0)]
    out = model(x)
    out.backward()
    assert out.data == outputs(model, [1.5, -2.0])[0]
    inner = model.model([(1.5 - model.scaler.mean[0]) / model.scaler.std[0],
                         (-2.0 - model.scaler.mean[1]) / model.scaler.std[1]])
    assert out.data == inner.data
    assert x[0].grad != 0.0  # the scaling is part of the graph
    with pytest.raises(ValueError, match="Standardized expects 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])


def version_1_file(tmp_path: Path) -> tuple[Path, MLP]:
    """A file as version 1 wrote it: no "model" field."""
    source = MLP(2, [3, 1], seed=1)
    path = tmp_path / "old.json"
    source.save(path)
    document = json.loads(path.read_text())
    del document["model"]
    document["version"] = 1
    path.write_text(json.dumps(document))
    return path, source


def test_version_1_files_load_into_a_built_model(tmp_path: Path) -> None:
    path, source = version_1_file(tmp_path)
    assert MLP(2, [3, 1], seed=5).load(path).state_dict() == source.state_dict()


def test_nn_load_refuses_version_1_naming_the_version_and_what_to_build(tmp_path: Path
                                                                        ) -> None:
    path, _ = version_1_file(tmp_path)
    with pytest.raises(ValueError, match=re.escape(
            "old.json: version 1 files do not record how to rebuild the model; build it "
            "(MLP(2 -> 3 -> 1, activation='relu', output_activation='linear')) and call its "
            "load(path)")):
        nn.load(path)


def test_a_class_not_defined_here_is_refused_and_nothing_is_imported(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    Neuron(2, seed=0).save(path)
    document = json.loads(path.read_text())
    document["model"]["class"] = "antigravity.Fly"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"model class 'antigravity.Fly' is not defined in "
                                         r"this process; import the module that defines it"):
        nn.load(path)
    assert "antigravity" not in sys.modules


def test_a_class_without_config_saves_but_nn_load_says_how_to_load_it(tmp_path: Path
                                                                       ) -> None:
    path = tmp_path / "model.json"
    Opaque(3).save(path)
    with pytest.raises(ValueError, match=r"Opaque does not record how it was made \(define "
                                         r"its config\(\).*build the model yourself and "
                                         r"call its load\(path\)"):
        nn.load(path)
    assert Opaque(3).load(path).state_dict() == Opaque(3).state_dict()


@pytest.mark.parametrize("config, message", [
    ({"nin": 2, "nouts": [3, 1], "activation": "swish", "output_activation": "linear",
      "init": "uniform"}, "unknown activation 'swish'"),
    ({"nin": 2}, "missing 1 required positional argument: 'nouts'"),
    ({"nin": -2, "nouts": [1]}, "nin must be a positive int"),
    ([2, [3, 1]], "the config of MLP must be a JSON object, got list"),
])
def test_a_bad_config_is_refused_naming_the_class(tmp_path: Path, config: Any,
                                                  message: str) -> None:
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    document = json.loads(path.read_text())
    document["model"]["config"] = config
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=message) as caught:
        nn.load(path)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["model"]["config"]["units"].append({"name": "x1", "activation": None,
                                                     "bias": True}),
     "there is already a unit named 'x1'"),
    (lambda d: (d["model"]["config"]["connections"].append(["o", "h"]),
                d["parameters"].update({"h.w[o]": 0.0})),
     "would make a cycle"),
    (lambda d: d["model"]["config"]["connections"].append("h"),
     r"a connection is a \[source, target\] pair"),
    (lambda d: d["model"]["config"].pop("units"), "a Network's config has"),
])
def test_a_damaged_network_config_is_refused(tmp_path: Path, edit: Callable[[Any], Any],
                                             message: str) -> None:
    path = tmp_path / "net.json"
    skip_network().save(path)
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=message):
        nn.load(path)


# -- hostile files: a ValueError naming the problem, parameters byte-identical ------

def raw_parameters(model: Module) -> bytes:
    return b"".join(struct.pack("<dd", p.data, p.grad) for p in model.parameters())


def with_parameter(text: str) -> Callable[[str], str]:
    """An edit that sets one parameter's value to ``text`` (raw JSON)."""
    return lambda saved: re.sub(r'("layers.1.neurons.0.b": )[^,\n}]+', lambda m: m[1] + text,
                                saved)


HOSTILE: dict[str, tuple[Callable[[str], str], str]] = {
    "deep nesting": (lambda saved: "[" * 100_000 + "]" * 100_000,
                     r"JSON nested deeper than Python's parser can follow; at most 64 "
                     r"levels"),
    "nesting within the recursion limit": (lambda saved: "[" * 200 + "]" * 200,
                                           "JSON nested 200 levels deep; at most 64"),
    "float beyond range": (with_parameter("1e400"),
                           r"the number 1e400 is beyond float range \(\|x\| <= 1.8e\+308\)"),
    "integer beyond range": (with_parameter("9" * 400), r"the integer 9999.*\(400 digits\) is "
                                                        r"beyond float range"),
    "integer just beyond range": (with_parameter("2" + "0" * 308),
                                  r"the integer 2000.* is beyond float range"),
    "NaN": (with_parameter("NaN"), "NaN is not allowed"),
    "-Infinity": (with_parameter("-Infinity"), "-Infinity is not allowed"),
    "duplicate key": (lambda saved: saved.replace('"version": 2,',
                                                  '"version": 2, "version": 1,'),
                      "duplicate key 'version' in one JSON object"),
    "duplicate parameter": (lambda saved: saved.replace(
        '"layers.1.neurons.0.b":', '"layers.1.neurons.0.b": 1.0, "layers.1.neurons.0.b":'),
        "duplicate key 'layers.1.neurons.0.b'"),
}


@pytest.mark.parametrize("loader", ["instance", "nn.load"])
@pytest.mark.parametrize("edit, message", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_json_is_a_value_error_and_changes_no_parameter(
        tmp_path: Path, edit: Callable[[str], str], message: str, loader: str) -> None:
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=9).save(path)
    damaged = edit(path.read_text())
    assert damaged != path.read_text()
    path.write_text(damaged)
    model = MLP(2, [3, 1], seed=0)
    model.parameters()[0].grad = 0.5
    before = raw_parameters(model)
    with pytest.raises(ValueError, match=message) as caught:
        model.load(path) if loader == "instance" else nn.load(path)
    assert str(caught.value).startswith(str(path))
    assert raw_parameters(model) == before


def bytes_read() -> int:
    """The bytes this process has read so far, through any file or device (Linux's count)."""
    with open("/proc/self/io", encoding="ascii") as counts:
        return next(int(line.split()[1]) for line in counts if line.startswith("rchar:"))


@pytest.mark.parametrize("loader", ["instance", "nn.load"])
def test_dev_zero_is_refused_at_once(loader: str) -> None:
    model = MLP(2, [3, 1], seed=0)
    before = raw_parameters(model)
    read = bytes_read()
    with pytest.raises(ValueError, match=r"^/dev/zero: not a regular file"):
        model.load("/dev/zero") if loader == "instance" else nn.load("/dev/zero")
    # refused before reading: reading first would take in the whole limit of 256 MiB
    assert bytes_read() - read < 2**20
    assert raw_parameters(model) == before


def test_a_fifo_or_a_directory_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")  # opening it for reading would wait for a writer
    for path in (tmp_path / "pipe", tmp_path):
        with pytest.raises(ValueError, match="not a regular file"):
            nn.load(path)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    model = MLP(2, [3, 1], seed=0)
    model.save(path)
    size = path.stat().st_size
    before = raw_parameters(model)
    with pytest.raises(ValueError, match=rf"{size:,} bytes, more than the limit of 100 bytes "
                                         r"\(pass max_bytes= to raise it\)"):
        model.load(path, max_bytes=100)
    with pytest.raises(ValueError, match="more than the limit of 100 bytes") as caught:
        nn.load(path, max_bytes=100)
    assert "no saved module can be read" not in str(caught.value)  # unread: it may be one
    assert raw_parameters(model) == before
    assert nn.load(path, max_bytes=size).state_dict() == model.state_dict()


@pytest.mark.parametrize("limit", ["abc", None, -1, 0, 1.5, True])
def test_a_bad_size_limit_is_named(tmp_path: Path, limit: Any) -> None:
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    with pytest.raises((TypeError, ValueError), match=r"max_bytes must be an int >= 1"):
        nn.load(path, max_bytes=limit)


# -- the command line's --standardize ------------------------------------------

def test_a_standardized_command_line_model_scores_as_trained_after_nn_load(capsys,
                                                                          tmp_path: Path
                                                                          ) -> None:
    saved = tmp_path / "digits.json"
    status, out, err = run(capsys, "train", "--data", "digits", "--samples", "400",
                           "--hidden", "16", "--optimizer", "adam", "--lr", "0.01",
                           "--epochs", "8", "--batch-size", "32", "--standardize",
                           "--save", str(saved), "--quiet")
    assert status == 0, err
    printed = float(re.search(r"validation accuracy ([\d.]+)%", out)[1])  # type: ignore[index]
    loaded = nn.load(saved)
    assert isinstance(loaded, Standardized) and isinstance(loaded.model, MLP)
    X, y = nn.data.digits()
    keep = np.random.default_rng(0).permutation(len(X))[:400]  # as --samples 400 --seed 0
    (X_train, _), (X_val, y_val) = nn.data.split(X[keep], y[keep], fraction=0.2, seed=0,
                                                 stratify=True)
    assert np.array_equal(loaded.scaler.mean, Standardizer.fit(X_train).mean)
    scores = nn.predict(loaded, X_val)  # raw pixels in: the file brings the scaling
    assert round(100 * nn.accuracy(y_val, scores.argmax(axis=1)), 1) == printed
    assert printed > 80


def test_saving_a_model_over_dev_null_or_a_directory_is_refused(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    import autograd_scalar.files

    def no_temporary(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a temporary file was about to be made")

    monkeypatch.setattr(autograd_scalar.files, "new_private_file", no_temporary)
    with pytest.raises(ValueError, match=r"^/dev/null is a character device, not a regular"):
        MLP(2, [3, 1], seed=0).save("/dev/null")
    with pytest.raises(IsADirectoryError, match=r"^save: .* is a folder; expected a file name"):
        MLP(2, [3, 1], seed=0).save(tmp_path)


@pytest.mark.parametrize("target", ["folder", "/dev/null"])
def test_the_command_line_refuses_to_save_over_a_non_file_before_training(
        capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    import nn.train

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("training started")

    monkeypatch.setattr(nn.train, "fit", never)
    (tmp_path / "folder").mkdir()
    path = target if target.startswith("/") else str(tmp_path / target)
    status, out, err = run(capsys, "train", "--save", path)
    assert (status, out) == (2, "")
    assert "exists and is not a regular file" in err


# -- memory bombs: the size a config implies is checked against the file first -----------

SIZES: dict[str, Callable[[], Module]] = {
    **{kind: make for kind, make in MODELS.items() if not kind.startswith("user")},
    "GPT": lambda: GPT(5, n_embd=8, n_head=2, n_layer=2, block_size=3, seed=0),
    "MLP with one layer": lambda: MLP(3, [2], seed=0),
    "Network with an unconnected neuron": lambda: (lambda net: (net.add_input("x"),
                                                                net.add_neuron("n"),
                                                                net)[-1])(Network()),
}


@pytest.mark.parametrize("make", SIZES.values(), ids=SIZES.keys())
def test_every_rebuildable_model_counts_its_parameters_from_its_config(
        make: Callable[[], Module]) -> None:
    model = make()
    description = nn.serialize.describe(model)
    assert nn.serialize.parameter_count(description) == len(model.parameters())


def test_a_user_module_or_a_subclass_built_differently_has_no_count() -> None:
    class Wide(MLP):
        def __init__(self, width: int) -> None:
            super().__init__(2, [width, width, 1], seed=0)

        def config(self) -> dict[str, Any]:
            return {"width": self.nouts[0]}

    class Relabelled(MLP):
        """Made as MLP is, so MLP's count holds."""

    for model in (Pair(), Scaled(3, seed=0), Wide(4)):
        assert nn.serialize.parameter_count(nn.serialize.describe(model)) is None
    relabelled = Relabelled(2, [3, 1], seed=0)
    assert nn.serialize.parameter_count(nn.serialize.describe(relabelled)) == 13


BOMBS: dict[str, tuple[str, dict[str, Any], str]] = {
    "MLP": ("MLP", {"nin": 10**7, "nouts": [10**7]}, "100,000,010,000,000"),
    "Layer": ("Layer", {"nin": 10**7, "nout": 10**7}, "100,000,010,000,000"),
    "Neuron": ("Neuron", {"nin": 10**9}, "1,000,000,001"),
    "GPT width": ("GPT", {"vocab_size": 27, "n_embd": 10**6}, "12,000,070,000,000"),
    "GPT depth": ("GPT", {"vocab_size": 27, "n_layer": 10**9}, "3,072,000,001,120"),
    "GPT context": ("GPT", {"vocab_size": 27, "block_size": 10**9}, "16,000,003,936"),
    "Standardized": ("Standardized", {"model": {"class": "MLP", "config": {
        "nin": 2, "nouts": [10**9]}}, "mean": [0.0, 0.0], "std": [1.0, 1.0]},
        "3,000,000,000"),
    "Network": ("Network", {"weight_range": 1.0, "units": [
        {"name": "x", "activation": None, "bias": False},
        {"name": "y", "activation": "tanh", "bias": True}],
        "connections": [["x", "y"]]}, "2"),
}


@pytest.mark.parametrize("kind, config, count", BOMBS.values(), ids=BOMBS.keys())
def test_a_small_file_asking_for_a_huge_model_is_refused_before_building(
        tmp_path: Path, kind: str, config: dict[str, Any], count: str) -> None:
    import tracemalloc
    path = tmp_path / "bomb.json"
    path.write_text(json.dumps({"format": "autograd-scalar/module", "version": 2,
                                "model": {"class": kind, "config": config}, "module": kind,
                                "architecture": [], "parameters": {"w": 0.5}}))
    assert path.stat().st_size < 400
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"bomb.json: the config of {kind} makes "
                                             rf"{count} parameters but the file holds 1;"):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # nothing of the model was allocated


@pytest.mark.parametrize("config, message", [
    ({"nin": 10**7, "nouts": [0]}, r"nouts\[0\] must be a positive int, got 0"),
    ({"nin": 2.5, "nouts": [10**9]}, "nin must be a positive int, got 2.5"),
    ({"nin": 2, "nouts": "big"}, "nouts must be a non-empty list of layer sizes"),
])
def test_a_config_with_bad_sizes_is_refused_while_counting(tmp_path: Path,
                                                           config: dict[str, Any],
                                                           message: str) -> None:
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    document = json.loads(path.read_text())
    document["model"]["config"] = config
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=f"cannot rebuild MLP from its config: {message}"):
        nn.load(path)


def test_parameters_that_are_not_an_object_are_refused_before_building(tmp_path: Path
                                                                       ) -> None:
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    document = json.loads(path.read_text())
    document["parameters"] = [0.5] * 13
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="\"parameters\" must be a JSON object"):
        nn.load(path)


def test_a_gpt_file_loads_after_import_nn_alone(tmp_path: Path) -> None:
    """nn.gpt is nn's own: a GPT file loads in a process that imported only nn."""
    path = tmp_path / "gpt.json"
    GPT(5, seed=0, n_embd=4, n_head=2, n_layer=1, block_size=4).save(path)
    script = ("import sys, nn\nassert 'nn.gpt' not in sys.modules\n"
              f"model = nn.load({str(path)!r})\nprint(type(model).__name__, "
              "len(model.parameters()))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["GPT", str(len(GPT(5, seed=0, n_embd=4, n_head=2, n_layer=1,
                                                      block_size=4).parameters()))]


def test_nn_s_own_lazy_classes_are_listed_where_load_finds_them() -> None:
    import nn.gpt  # noqa: F401  (registers its classes)
    from nn.serialize import OWN_SUBPACKAGES, _classes

    for package, names in OWN_SUBPACKAGES.items():
        defined = sorted(n for n, cls in _classes.items() if cls.__module__.startswith(package))
        assert sorted(names) == defined
