"""Model files: what a saved model records, and rebuilding a model from the file alone.

A saved model is a JSON object (never pickle)::

    {"format": "autograd-scalar/module", "version": 2,
     "model": {"class": "MLP", "config": {"nin": 2, "nouts": [16, 1], ...}},
     "module": "MLP", "architecture": ["MLP(2 -> 16 -> 1, ...)", "layers.0: Layer(...)", ...],
     "parameters": {"layers.0.neurons.0.w[0]": 0.25, ...}}

``model`` is how to rebuild it: a class name and the keyword arguments of its
``from_config``; ``architecture`` is the module tree in words, which a loaded model must
match line for line; ``parameters`` holds every parameter's value by dotted name.
Preprocessing is part of the model: :class:`nn.Standardized` records its scaling in
its own config, so a model saved with it scores as it did when trained.

Class names come from a registry of the :class:`Module` subclasses defined in this
process; a file never makes code run (nothing outside nn is imported because a file
names it). Loading, from the user's side, is docs/howto/save-and-load.md.
"""

from __future__ import annotations

import importlib
import math
import os
from typing import Any

from autograd_scalar.validate import integer, without_nul

from .jsonfile import MAX_BYTES, FileTooLarge, PathLike, read_json

FORMAT = "autograd-scalar/module"
"""The ``format`` field of a saved module file."""
VERSION = 2
"""The version of that format this code writes. Version 2 added ``model``."""
READABLE_VERSIONS = (1, 2)
"""Versions whose parameters a model can load in place (``nn.load`` needs 2)."""

_classes: dict[str, Any] = {}
OWN_SUBPACKAGES = {"nn.gpt": ("Block", "CausalSelfAttention", "Embedding", "FeedForward", "GPT",
                              "Linear", "MatrixModule", "RMSNorm")}
"""nn's own classes that ``import nn`` does not load, by subpackage. A file naming one
makes nn.load import that subpackage of nn itself (never a module a file names), so a
GPT loads after ``import nn`` alone."""


def register(cls: type) -> None:
    """Make ``cls`` loadable by name (every Module subclass is registered when defined)."""
    _classes[class_name(cls)] = cls


def class_name(cls: type) -> str:
    """The name a file records for ``cls``: ``MLP`` for nn's classes, else ``module.Qual``."""
    module = cls.__module__
    if module == "nn" or module.startswith("nn."):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def describe(model: Any) -> dict[str, Any]:
    """``{"class": ..., "config": ...}``: what :func:`build` needs to make ``model`` again
    (``config`` is None when the class does not say how it was made)."""
    config = model.config()
    return {"class": class_name(type(model)), "config": config}


def build(description: Any) -> Any:
    """A new model made from a description by :func:`describe` (random parameters).

    ValueError naming the problem: an unknown class, a class that does not record
    its config, or a config its constructor refuses.
    """
    name, cls, config = _resolve(description)
    try:
        return cls.from_config(config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot rebuild {name} from its config: {error}"[:500]) from None


def parameter_count(description: Any) -> int | None:
    """How many parameters :func:`build` would make from ``description``, found from the
    config alone (nothing is built), or None when the class cannot tell (see
    ``Module.parameter_count``).

    A count inherited from a base class is used only when the class builds itself as
    that base does (same ``__init__``, ``from_config`` and ``config``): a subclass
    that changes how it is made may well change its size.
    """
    name, cls, config = _resolve(description)
    owner = _definer(cls, "parameter_count")
    if any(_definer(cls, attribute) is not _definer(owner, attribute)
           for attribute in ("__init__", "from_config", "config")):
        return None
    try:
        count = cls.parameter_count(config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot rebuild {name} from its config: {error}"[:500]) from None
    return None if count is None else int(count)


def _definer(cls: type, attribute: str) -> type:
    """The class in ``cls``'s method resolution order that defines ``attribute``."""
    return next(c for c in cls.__mro__ if attribute in vars(c))


def _resolve(description: Any) -> tuple[str, Any, dict[str, Any]]:
    """The class name, the registered class and the config of a model description;
    ValueError for a malformed one, an unknown class or a class without a config."""
    if (not isinstance(description, dict) or set(description) != {"class", "config"}
            or not isinstance(description["class"], str)):
        raise ValueError("\"model\" must be an object with \"class\" (a name) and \"config\"")
    name, config = description["class"], description["config"]
    cls = _classes.get(name)
    for package, names in OWN_SUBPACKAGES.items():
        if cls is None and name in names:
            importlib.import_module(package)
            cls = _classes.get(name)
    if cls is None:
        raise ValueError(f"the file's model class {name[:100]!r} is not defined in this "
                         "process; import the module that defines it first (a file never "
                         "makes nn import code)")
    if config is None:
        raise ValueError(f"{name} does not record how it was made (define its config() to "
                         f"save it rebuildably), so nn.load cannot rebuild it; build the "
                         f"model yourself and call its load(path)")
    if not isinstance(config, dict):
        raise ValueError(f"the config of {name} must be a JSON object, got "
                         f"{type(config).__name__}")
    return name, cls, config


def document(model: Any) -> dict[str, Any]:
    """The JSON-ready object :func:`save` writes for ``model``."""
    state = model.state_dict()
    for name, v in state.items():
        if not math.isfinite(v):
            raise ValueError(f"save: parameter {name!r} is {v}; only finite values can be "
                             "saved")
    return {"format": FORMAT, "version": VERSION, "model": describe(model),
            "module": type(model).__name__, "architecture": model.architecture(),
            "parameters": state}


def path_text(path: Any, who: str) -> str:
    """``path`` (a str, bytes or an ``os.PathLike``) as text, decoded as the file system
    does; TypeError naming ``who`` otherwise."""
    if isinstance(path, (str, bytes, os.PathLike)):
        return without_nul(os.fsdecode(os.fspath(path)), who)
    raise TypeError(f"{who}: the path must be a str or a pathlib.Path, got "
                    f"{type(path).__name__}")


def read(path: PathLike, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The checked top level of a saved model file: right format, a readable version.

    ValueError (starting with the path) for anything else; see ``nn.jsonfile`` for
    what is refused while reading.
    """
    where = path_text(path, "load")
    integer("max_bytes", max_bytes, 1, what="an int >= 1 (a number of bytes)")
    try:
        value = read_json(where, max_bytes)
    except FileTooLarge:  # nothing was read: it may well be a saved module
        raise
    except ValueError as error:  # damaged or hand-edited: no module can be read from it
        raise ValueError(f"{error} (no saved module can be read from it)") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ValueError(f"{where}: not a saved module (expected a JSON object with "
                         f"\"format\": \"{FORMAT}\")")
    version = value.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise ValueError(f"{where}: unsupported version {repr(version)[:40]}; this "
                         f"autograd-scalar reads versions {READABLE_VERSIONS[0]} to "
                         f"{READABLE_VERSIONS[-1]}")
    return value


def load(path: PathLike, *, max_bytes: int = MAX_BYTES) -> Any:
    """The model saved in ``path``, rebuilt from the file alone with its parameters.

    The file names the model's class and constructor arguments (and any
    preprocessing, which is part of the model); nothing else is needed::

        model = nn.load("model.json")

    Every problem is a ValueError starting with the path: not a model file, an
    unsupported or old version, an unknown class, damaged or hostile JSON (see
    ``nn.jsonfile``), parameters that do not fit. Files over ``max_bytes``
    (256 MiB by default) are refused before they are read. Before anything is built,
    the number of parameters the config implies must equal the number the file holds,
    so a few bytes of config cannot ask for a model that exhausts memory.
    """
    where = path_text(path, "load")
    saved = read(where, max_bytes)
    if saved["version"] < 2:
        shown = saved.get("architecture")
        first = shown[0] if isinstance(shown, list) and shown else "the saved model"
        raise ValueError(f"{where}: version {saved['version']} files do not record how to "
                         f"rebuild the model; build it ({str(first)[:200]}) and call its "
                         f"load(path), then save it again to upgrade the file")
    try:
        check_size(saved.get("model"), saved.get("parameters"))
        model = build(saved.get("model"))
        model.load_document(saved)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    return model


def check_size(description: Any, parameters: Any) -> None:
    """ValueError unless ``parameters`` is an object with as many entries as the model
    ``description`` makes (when its class can tell): checked before building, since
    the parameters are bounded by the file's size and a config's numbers are not."""
    if not isinstance(parameters, dict):
        raise ValueError("\"parameters\" must be a JSON object of names to numbers")
    expected = parameter_count(description)
    if expected is not None and expected != len(parameters):
        raise ValueError(f"the config of {description['class']} makes {expected:,} "
                         f"parameters but the file holds {len(parameters):,}; refusing to "
                         f"build it (a damaged or hostile file)"[:500])
