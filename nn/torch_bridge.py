"""PyTorch both ways: export a model, import weights, and check that both compute the same.

PyTorch is an optional dependency; without it every function here raises an
ImportError that says how to install it, and ``import nn`` never imports it. What
each function accepts and promises is in its docstring and in docs/howto/pytorch.md.

One table, :func:`layout`, says where each parameter of an nn model lives in the
PyTorch module (state_dict key, shape, the Values in row-major order); export,
import and the parity check all read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_scalar import Value, interrupts_deferred, no_grad
from autograd_scalar import sum as value_sum
from autograd_scalar.validate import all_finite, is_integer, is_real, real_array

from .data.split import Standardizer
from .layers import MLP
from .module import Module
from .network import Network
from .standardized import Standardized

INSTALL = 'pip install torch (the "torch" extra)'
KINDS = "nn.MLP, nn.Network, nn.gpt.GPT, or nn.Standardized around an MLP or a Network"


def require_torch(who: str) -> Any:
    """The torch module; ImportError naming ``who`` and how to install it if missing."""
    try:
        import torch
    except ImportError:
        raise ImportError(f"{who} needs PyTorch, an optional dependency of autograd-scalar: "
                          f"{INSTALL}") from None
    return torch


@dataclass(frozen=True)
class Entry:
    """One tensor of the PyTorch module: its state_dict ``key``, its ``shape``, and the
    nn parameters it holds in row-major order (``names`` their dotted nn names)."""

    key: str
    shape: tuple[int, ...]
    values: tuple[Value, ...]
    names: tuple[str, ...]


def layout(model: Module) -> list[Entry]:
    """Where every parameter of ``model`` lives in the module :func:`to_torch` makes.

    TypeError for a model of another kind; ValueError if the model has parameters the
    table does not place (a subclass with parameters of its own).
    """
    named = {id(value): name for name, value in model.named_parameters()}
    entries = [Entry(key, shape, tuple(values), tuple(named.get(id(v), "?") for v in values))
               for key, shape, values in _places(model)]
    placed = {id(v) for entry in entries for v in entry.values}
    missing = [name for name, value in model.named_parameters() if id(value) not in placed]
    if missing:
        raise ValueError(f"{type(model).__name__} has parameters a PyTorch module of its "
                         f"kind has no place for: {', '.join(missing[:5])}")
    return entries


Place = tuple[str, tuple[int, ...], list[Value]]


def _places(model: Module) -> list[Place]:
    if isinstance(model, Standardized):
        return [(f"model.{key}", shape, values) for key, shape, values in _places(model.model)]
    places: list[Place] = []
    if isinstance(model, MLP):
        index = 0
        for layer in model.layers:
            neurons = layer.neurons
            places.append((f"{index}.weight", (layer.nout, layer.nin),
                           [w for neuron in neurons for w in neuron.w]))
            places.append((f"{index}.bias", (layer.nout,), [neuron.b for neuron in neurons]))
            index += 1 if layer.activation == "linear" else 2
        return places
    if isinstance(model, Network):
        for k, (name, sources, bias, _) in enumerate(_network_neurons(model)):
            places.append((f"units.{k}.weight", (len(sources),),
                           [model.weight(source, name) for source in sources]))
            if bias:
                places.append((f"units.{k}.bias", (), [model.bias(name)]))
        return places
    if _is_gpt(model):
        from .gpt.layers import MatrixModule

        return [(f"{path}.weight", (len(module.weight), len(module.weight[0])),
                 [w for row in module.weight for w in row])
                for path, module in model.named_modules() if isinstance(module, MatrixModule)]
    raise TypeError(f"PyTorch export and import support {KINDS}; got {type(model).__name__}")


def _is_gpt(model: Module) -> bool:
    """Whether ``model`` is an nn.gpt.GPT (nn.gpt is imported only where it is used)."""
    from .gpt.model import GPT

    return isinstance(model, GPT)


def _network_neurons(model: Network) -> list[tuple[str, list[str], bool, str]]:
    """Each neuron in topological order, the same for a network rebuilt from its config
    (see ``Network._kahn``): (name, its sources in weight order, whether it has a bias,
    its activation)."""
    units = {unit["name"]: unit for unit in model.config()["units"]}
    sources: dict[str, list[str]] = {name: [] for name in model.neurons}
    for source, target, _ in model.connections:
        sources[target].append(source)
    return [(name, sources[name], units[name]["bias"], units[name]["activation"])
            for name in model.topological_order() if name in sources]


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def to_torch(model: Module) -> Any:
    """``model`` as an equivalent ``torch.nn.Module`` in float64, parameters copied.

    An MLP becomes a ``torch.nn.Sequential``; a Network, GPT or Standardized one of
    the modules of ``nn.torch_modules``. ``module.state_dict()`` holds the weights;
    :func:`from_torch` makes the nn model back from the module.
    """
    torch = require_torch("nn.to_torch")
    entries = layout(model)
    module = _empty_module(model)
    with torch.no_grad():
        for entry in entries:
            data = [v.data for v in entry.values]
            module.get_parameter(entry.key).copy_(
                torch.tensor(data, dtype=torch.float64).reshape(entry.shape))
    return module


def _empty_module(model: Module) -> Any:
    """The PyTorch module of ``model``'s architecture (parameters not yet copied)."""
    from . import torch_modules as tm

    if isinstance(model, Standardized):
        if not isinstance(model.model, (MLP, Network)):  # a GPT reads tokens, not scaled rows
            raise TypeError(f"nn.to_torch exports a Standardized around an MLP or a Network; "
                            f"got one around {type(model.model).__name__}")
        return tm.StandardizedModule(_empty_module(model.model), model.scaler.mean.tolist(),
                                     model.scaler.std.tolist())
    if isinstance(model, MLP):
        return tm.mlp_module([model.nin, *model.nouts],
                             [layer.activation for layer in model.layers])
    if isinstance(model, Network):
        return tm.NetworkModule(model.config(), model.inputs, _network_neurons(model),
                                model.outputs)
    if _is_gpt(model):
        gpt: Any = model
        return tm.GPTModule(gpt.config(), [norm.eps for norm in _gpt_norms(gpt)])
    raise TypeError(f"nn.to_torch supports {KINDS}; got {type(model).__name__}")


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------

def from_torch(module: Any) -> Module:
    """A new nn model computing what ``module`` computes, its parameters copied.

    ``module`` is one that :func:`to_torch` made, or a ``torch.nn.Sequential`` of
    ``Linear`` layers (with biases), each followed by at most one activation nn has
    (ReLU, Tanh, Sigmoid, LeakyReLU(0.01), Softplus, Identity; the hidden layers' all
    the same): that is an :class:`nn.MLP`. For a module of another shape (a class of
    your own with ``fc1``, ``fc2`` and ``F.relu``), build the matching ``nn.MLP`` and
    call :func:`load_torch_state_dict` with its ``state_dict()``.
    """
    torch = require_torch("nn.from_torch")
    from . import torch_modules as tm

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"nn.from_torch expects a torch.nn.Module, got {type(module).__name__}")
    if isinstance(module, tm.StandardizedModule):
        inner = from_torch(module.model)
        scaler = Standardizer(module.mean.detach().cpu().double().numpy(),
                              module.std.detach().cpu().double().numpy())
        model: Module = Standardized(inner, scaler)
    elif isinstance(module, tm.NetworkModule):
        model = Network.from_config(module.config)
    elif isinstance(module, tm.GPTModule):
        from .gpt.model import GPT

        model = GPT(**module.config, seed=0)
        for norm, eps in zip(_gpt_norms(model), module.eps):
            norm.eps = float(eps)
    elif isinstance(module, torch.nn.Sequential):
        model = MLP(**_mlp_arguments(module), seed=0)
    else:
        raise ValueError(f"nn.from_torch reads modules made by nn.to_torch and "
                         f"torch.nn.Sequential MLPs, not a {type(module).__name__}; build the "
                         "matching nn.MLP and call nn.load_torch_state_dict(model, "
                         "module.state_dict())")
    load_torch_state_dict(model, module.state_dict())
    return model


def _gpt_norms(model: Any) -> list[Any]:
    """A GPT's RMSNorms in the order GPTModule takes their epsilons: the top one, then
    each block's two."""
    return [model.norm, *(norm for block in model.blocks for norm in (block.norm1, block.norm2))]


def _mlp_arguments(module: Any) -> dict[str, Any]:
    """MLP(nin, nouts, activation, output_activation) read from a Sequential."""
    from . import torch_modules as tm

    torch = require_torch("nn.from_torch")
    sizes: list[int] = []
    activations: list[str] = []
    for index, part in enumerate(module):
        if isinstance(part, torch.nn.Linear):
            if part.bias is None:
                raise ValueError(f"nn.from_torch: Linear layer {index} has no bias; an nn.MLP's "
                                 "neurons all have one")
            if sizes and part.in_features != sizes[-1]:
                raise ValueError(f"nn.from_torch: Linear layer {index} takes "
                                 f"{part.in_features} inputs after a layer of {sizes[-1]}")
            sizes += [part.in_features] if not sizes else []
            sizes.append(part.out_features)
            activations.append("linear")
            continue
        name = tm.activation_name(part)
        if name is None or not activations or activations[-1] != "linear":
            what = ("an activation nn does not have" if name is None
                    else "an activation not right after a Linear layer")
            if name is None and isinstance(part, torch.nn.Softplus):
                what = (f"Softplus(beta={part.beta:g}, threshold={part.threshold:g}), not "
                        "nn's log(1 + e^x): only beta=1 with the default threshold 20 is")
            raise ValueError(f"nn.from_torch: module {index} ({type(part).__name__}) is {what};"
                             " expected Linear layers, each followed by at most one of ReLU, "
                             "Tanh, Sigmoid, LeakyReLU(0.01), Softplus, Identity")
        activations[-1] = name
    if not sizes:
        raise ValueError("nn.from_torch: the Sequential has no Linear layer")
    hidden = set(activations[:-1])
    if len(hidden) > 1:
        raise ValueError(f"nn.from_torch: an nn.MLP has one activation for all hidden layers; "
                         f"this Sequential has {sorted(hidden)}")
    return {"nin": sizes[0], "nouts": sizes[1:],
            "activation": activations[0] if len(activations) > 1 else "relu",
            "output_activation": activations[-1]}


def load_torch_state_dict(model: Module, state_dict: Mapping[str, Any]) -> Module:
    """Set ``model``'s parameters from a PyTorch state_dict; returns ``model``.

    The keys are those of ``to_torch(model).state_dict()``. For an MLP (also inside a
    Standardized) the keys may be any: the entries must then be its layers' weights
    and biases in order, a (nout, nin) weight and a (nout,) bias per layer, as the
    state_dict of any MLP of ``torch.nn.Linear`` layers has them. For a Standardized
    the ``mean`` and ``std`` entries set its scaling. Tensors (any float dtype, any
    device) and NumPy arrays are read as float64. Everything is checked first: on an
    error (ValueError naming the entry, its shape and the one expected) nothing changes.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"nn.load_torch_state_dict expects a state_dict (a mapping of names "
                        f"to tensors), got {type(state_dict).__name__}")
    entries = layout(model)
    for key in state_dict:
        if not isinstance(key, str):
            raise TypeError(f"nn.load_torch_state_dict: the state_dict's keys are names (str), "
                            f"got {type(key).__name__} {key!r}"[:200])
    arrays = {key: _real_numbers(value, f"nn.load_torch_state_dict: {key!r}")
              for key, value in state_dict.items()}
    scaler = None
    given = {key: key for key in arrays}  # each entry's key as the caller wrote it
    if isinstance(model, Standardized):
        scaler = _scaling(model, arrays)
        given = _inner_keys(list(arrays))
        arrays = {inner: arrays[key] for inner, key in given.items()}
        entries = [Entry(e.key[len("model."):], e.shape, e.values, e.names) for e in entries]
    expected = {e.key for e in entries}
    if not set(arrays) <= expected and isinstance(
            model.model if isinstance(model, Standardized) else model, MLP):
        given = dict(zip((e.key for e in entries), given.values()))
        arrays = _by_order(entries, arrays)
    _check_keys([e.key for e in entries], list(arrays))
    state: dict[str, float] = {}
    for entry in entries:
        array = arrays[entry.key]
        if array.shape != entry.shape:
            raise ValueError(f"nn.load_torch_state_dict: {given.get(entry.key, entry.key)!r} "
                             f"has shape {tuple(array.shape)}, expected {entry.shape}")
        _check_finite(given.get(entry.key, entry.key), array)
        state.update(zip(entry.names, array.reshape(-1).tolist()))
    with interrupts_deferred():  # never the new parameters with the old scaling
        model.load_state_dict(state)
        if scaler is not None:
            assert isinstance(model, Standardized)
            model.scaler = scaler
    return model


def _real_numbers(value: Any, what: str) -> np.ndarray:
    """``value`` (a tensor on any device that holds numbers, with or without grad, or
    anything NumPy reads) as a float64 array of its real numbers.

    ValueError naming ``what`` for what would otherwise lose information on the way (a
    complex or bool tensor or array: its imaginary part dropped, True read as 1.0), a
    sparse tensor, a tensor on the meta device (it has a shape but no numbers), or
    anything else that is not real numbers."""
    if hasattr(value, "detach") and hasattr(value, "layout"):  # a torch tensor
        import torch
        if value.layout != torch.strided:
            raise ValueError(f"{what} is a sparse tensor ({value.layout}); expected a dense "
                             "one (tensor.to_dense())")
        if value.device.type == "meta":
            raise ValueError(f"{what} is a tensor on the meta device, which has a shape but "
                             "no numbers; expected one holding its values")
        if value.is_complex() or value.dtype == torch.bool:
            raise ValueError(f"{what} has dtype {value.dtype}; expected real numbers (a "
                             "floating-point or integer tensor)")
        value = value.detach().cpu().double().numpy()
    else:
        try:
            kind: str = np.asarray(value).dtype.kind
        except (TypeError, ValueError):  # ragged or not numbers: real_array says which
            kind = ""
        if kind == "b":
            raise ValueError(f"{what} holds booleans; expected real numbers")
    try:
        return real_array(value, what)
    except TypeError as error:  # complex numbers, text: wrong values, as the rest here
        raise ValueError(str(error)) from None


def _inner_keys(keys: list[str]) -> dict[str, str]:
    """The inner model's key of each of a Standardized's entries (``model.0.weight`` or
    ``0.weight`` alike: ``0.weight``), mapped to the key as written; ValueError if two
    keys name one entry, where one would silently replace the other."""
    inner: dict[str, str] = {}
    for key in keys:
        name = key[len("model."):] if key.startswith("model.") else key
        if name in inner:
            raise ValueError(f"nn.load_torch_state_dict: {inner[name]!r} and {key!r} both name "
                             f"the inner model's {name!r}; expected each entry once")
        inner[name] = key
    return inner


def _check_finite(key: str, array: np.ndarray) -> None:
    """ValueError naming the state_dict's ``key`` and the index of the first entry of its
    ``array`` that is not finite (if one is not)."""
    if not np.isfinite(array).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"nn.load_torch_state_dict: {key!r}{list(bad)} is {array[bad]}; "
                         "expected finite numbers")


def _scaling(model: Standardized, arrays: dict[str, np.ndarray]) -> Any:
    features = model.scaler.mean.shape
    found = []
    for key in ("mean", "std"):
        array = arrays.pop(key, None)
        if array is None:
            raise ValueError(f"nn.load_torch_state_dict: a Standardized needs {key!r} in the "
                             "state_dict (its scaling)")
        if array.shape != features:
            raise ValueError(f"nn.load_torch_state_dict: {key!r} has shape {array.shape}, "
                             f"expected {features} (one number per feature)")
        _check_finite(key, array)
        found.append(array)
    try:
        return Standardizer(found[0], found[1])
    except ValueError as error:
        raise ValueError(f"nn.load_torch_state_dict: {error}") from None


def _by_order(entries: list[Entry], arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """An MLP state_dict with keys of its own: its entries taken in order as the layers'
    weight and bias, renamed to the keys ``entries`` expects."""
    if len(arrays) != len(entries):
        raise ValueError(f"nn.load_torch_state_dict: the state_dict has {len(arrays)} entries, "
                         f"this MLP's {len(entries) // 2} layers need {len(entries)} (a weight "
                         f"and a bias each): {', '.join(map(repr, list(arrays)[:8]))}")
    renamed = {}
    for entry, (key, array) in zip(entries, arrays.items()):
        role = entry.key.rsplit(".", 1)[1]
        if not key.endswith(role):
            raise ValueError(f"nn.load_torch_state_dict: entry {key!r} stands where this MLP "
                             f"expects a {role} (of shape {entry.shape}); expected its layers' "
                             "weight and bias in order")
        renamed[entry.key] = array
    return renamed


def _check_keys(expected: list[str], given: list[str]) -> None:
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    if missing or unexpected:
        parts = ([f"missing {', '.join(map(repr, missing[:5]))}"] if missing else []) + (
            [f"unexpected {', '.join(map(repr, unexpected[:5]))}"] if unexpected else [])
        raise ValueError(f"nn.load_torch_state_dict: the keys do not match this model's "
                         f"({'; '.join(parts)})")


# ---------------------------------------------------------------------------
# Parity
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TorchParity:
    """How closely an nn model and its PyTorch export agree on the same inputs.

    ``outputs``, ``input_grads`` and ``param_grads`` are the largest absolute
    differences of the outputs, of d loss / d input (None for a GPT, whose inputs are
    token ids) and of d loss / d parameter; ``loss`` that of the loss itself;
    ``worst_parameter`` the nn name of the parameter whose gradients differ most.
    ``ok`` when every difference is within atol + rtol * |PyTorch's number|.
    """

    kind: str
    examples: int
    loss: float
    outputs: float
    input_grads: float | None
    param_grads: float
    worst_parameter: str
    parameters: int
    atol: float
    rtol: float
    ok: bool

    def __str__(self) -> str:
        verdict = "agree" if self.ok else "DISAGREE"
        inputs = "n/a (token ids)" if self.input_grads is None else f"{self.input_grads:.2e}"
        return (f"torch_parity: {self.kind} and its PyTorch export {verdict} "
                f"(atol={self.atol:g}, rtol={self.rtol:g}) on {self.examples} example(s)\n"
                f"  max |difference|: outputs {self.outputs:.2e}, loss {self.loss:.2e}, "
                f"d loss/d inputs {inputs}, d loss/d parameters {self.param_grads:.2e} "
                f"({self.parameters:,} parameters; largest at {self.worst_parameter})")


def torch_parity(model: Module, X: Any, y: Any = None, *, atol: float = 1e-12,
                 rtol: float = 1e-12) -> TorchParity:
    """Run ``model`` and ``to_torch(model)`` on the same inputs and compare them.

    For an MLP, Network or Standardized, ``X`` is (examples, inputs) and the loss is
    the sum over examples of sum_k (out_k - y_k)^2, divided by the number of examples
    (``y`` (examples, outputs), zeros if not given). For a GPT, ``X`` is a document
    of token ids or a list of documents, and the loss the mean of ``model.loss`` over
    them (PyTorch's cross entropy). Outputs, the loss and its gradients with respect
    to the inputs and every parameter are compared; a number agrees when
    |ours - PyTorch's| <= atol + rtol * |PyTorch's|. The model's own ``.grad`` values
    are left as they were.
    """
    torch = require_torch("nn.torch_parity")
    for name, value in (("atol", atol), ("rtol", rtol)):
        if not is_real(value) or not math.isfinite(value) or value < 0:
            raise ValueError(f"nn.torch_parity: {name} must be a finite number >= 0, "
                             f"got {value!r}")
    entries = layout(model)
    module = to_torch(model)
    params = model.parameters()
    saved = [p.grad for p in params]
    try:
        model.zero_grad()
        if _is_gpt(model):
            ours, theirs, examples = _gpt_run(torch, model, module, X)
        else:
            ours, theirs, examples = _batch_run(torch, model, module, X, y)
        ours["params"] = np.array([v.grad for entry in entries for v in entry.values])
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    theirs["params"] = np.concatenate(
        [np.zeros(len(entry.values)) if module.get_parameter(entry.key).grad is None
         else module.get_parameter(entry.key).grad.detach().reshape(-1).numpy()
         for entry in entries] or [np.zeros(0)])
    names = [name for entry in entries for name in entry.names]
    gaps = {key: _gap(ours[key], theirs[key], rtol) for key in ours if ours[key] is not None}
    worst = names[int(np.argmax(np.abs(ours["params"] - theirs["params"])))] if names else "-"
    return TorchParity(type(model).__name__, examples, gaps["loss"][0], gaps["outputs"][0],
                       gaps["inputs"][0] if "inputs" in gaps else None, gaps["params"][0],
                       worst, len(params), float(atol), float(rtol),
                       all(excess <= atol for _, excess in gaps.values()))


def _gap(ours: Any, theirs: Any, rtol: float) -> tuple[float, float]:
    """(largest |ours - theirs|, largest |ours - theirs| - rtol |theirs|)."""
    a = np.asarray(ours, dtype=np.float64).reshape(-1)
    b = np.asarray(theirs, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise AssertionError(f"torch_parity: {a.size} numbers against PyTorch's {b.size}")
    if not a.size:
        return 0.0, 0.0
    gap = np.abs(a - b)
    gap[(a == b) | (np.isnan(a) & np.isnan(b))] = 0.0
    return float(gap.max()), float((gap - rtol * np.abs(b)).max())


def _inputs_of(model: Module) -> int:
    if isinstance(model, Standardized):
        return len(model.scaler.mean)
    if isinstance(model, MLP):
        return model.nin
    assert isinstance(model, Network)
    return len(model.inputs)


def _batch_run(torch: Any, model: Module, module: Any, X: Any,
               y: Any) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The loss (1/n) sum (out - y)^2 and its gradients, by the nn model and by PyTorch."""
    nin = _inputs_of(model)
    rows = _finite(X, "nn.torch_parity: X")
    if rows.ndim != 2 or rows.shape[1] != nin or rows.shape[0] < 1:
        raise ValueError(f"nn.torch_parity: X must have shape (examples, {nin}) with at least "
                         f"one example, got {rows.shape}")
    leaves = [[Value(v, f"x[{i}]") for i, v in enumerate(row)] for row in rows.tolist()]
    outs = []
    for xs in leaves:
        out = model(xs)
        outs.append([out] if isinstance(out, Value) else list(out))
    n, nout = len(outs), len(outs[0])
    targets = np.zeros((n, nout)) if y is None else _finite(y, "nn.torch_parity: y")
    if targets.ndim == 1 and nout == 1:
        targets = targets[:, None]
    if targets.shape != (n, nout):
        raise ValueError(f"nn.torch_parity: y must have shape ({n}, {nout}), got "
                         f"{targets.shape}")
    loss = (1.0 / n) * value_sum([(o - t) ** 2 for row, ts in zip(outs, targets.tolist())
                                  for o, t in zip(row, ts)])
    loss.backward()
    ours = {"outputs": [[o.data for o in row] for row in outs], "loss": loss.data,
            "inputs": [[v.grad for v in xs] for xs in leaves]}
    inputs = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    output = module(inputs)
    torch_loss = ((output - torch.tensor(targets, dtype=torch.float64)) ** 2).sum() / n
    torch_loss.backward()
    theirs = {"outputs": output.detach().numpy(), "loss": torch_loss.item(),
              "inputs": inputs.grad.numpy()}
    return ours, theirs, n


def _finite(x: Any, what: str) -> np.ndarray:
    """``x`` (numbers, an array or a tensor) as a float64 array of finite numbers, or an
    error naming ``what``: a comparison on NaN would agree with anything."""
    array = _real_numbers(x, what)
    if not all_finite(array):
        raise ValueError(f"{what} must be finite numbers; it holds NaN or infinity")
    return array


def _documents(X: Any) -> list[list[int]]:
    """One document of token ids, or a list of them, as lists of ints (from lists, arrays
    or integer tensors alike)."""
    if isinstance(X, np.ndarray) or (hasattr(X, "detach") and hasattr(X, "tolist")):
        X = X.tolist()
    if not isinstance(X, Sequence) or isinstance(X, (str, bytes)) or not len(X):
        raise ValueError("nn.torch_parity: for a GPT, X is a document of token ids or a "
                         f"non-empty list of them, got {type(X).__name__}")
    documents = [X] if not isinstance(X[0], Sequence) else list(X)
    for document in documents:
        if not isinstance(document, Sequence) or not all(
                is_integer(t) for t in document):
            raise ValueError("nn.torch_parity: for a GPT, every document is a list of int "
                             "token ids")
    return [[int(t) for t in document] for document in documents]


def _gpt_run(torch: Any, model: Any, module: Any,
             X: Any) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The mean of ``model.loss`` over the documents and its gradients, by the nn GPT and by
    PyTorch's cross entropy on the exported module; the logits at every position."""
    documents = _documents(X)
    loss = (1.0 / len(documents)) * value_sum([model.loss(d) for d in documents])
    loss.backward()
    outputs = []
    with no_grad():
        for document in documents:
            outputs += [[v.data for v in row] for row in model(document[:model.block_size])]
    total = None
    theirs_outputs = []
    for document in documents:
        tokens = torch.tensor(document[:model.block_size])
        logits = module(tokens)
        steps = min(model.block_size, len(document) - 1)
        part = torch.nn.functional.cross_entropy(logits[:steps],
                                                 torch.tensor(document[1:steps + 1]))
        total = part if total is None else total + part
        theirs_outputs.append(logits.detach().numpy())
    assert total is not None
    torch_loss = total / len(documents)
    torch_loss.backward()
    ours = {"outputs": outputs, "loss": loss.data, "inputs": None}
    theirs = {"outputs": np.concatenate(theirs_outputs), "loss": torch_loss.item(),
              "inputs": None}
    return ours, theirs, len(documents)
