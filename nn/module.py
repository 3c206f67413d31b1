"""Module: the base of every model, a tree of submodules holding parameters.

A module finds its parts by looking at its own attributes: a :class:`Value` (or a
list of Values) is a parameter, a :class:`Module` (or a list of Modules) is a
submodule. Names are dotted paths through that tree, ``layers.1.neurons.3.w[2]``:
list items of modules are numbered ``name.i`` and list items of Values ``name[i]``.
Calling a submodule tags every node it makes with the same path
(``node.scope == "layers.1.neurons.3"``), so drawings and names agree.

Submodules learn their names when assigned, so assign a list of them whole
(``self.layers = [...]``) rather than appending to it afterwards.

Saving and loading (``save``, ``load``) go through :mod:`nn.serialize`.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from autograd_scalar import (
    Value,
    interrupts_deferred,
    mirror,
    output_file,
    scope,
    write_atomically,
)
from autograd_scalar.validate import flag, is_real, shown

from . import serialize
from .jsonfile import MAX_BYTES

PathLike = str | os.PathLike[str]
_ONLY_VALUES = {Value}
_attribute_writes = 0


def attribute_writes() -> int:
    """How many times an attribute of any Module was set or deleted in this process.

    A number that changes whenever any module's attributes are bound anew (an
    assignment, ``del``, ``train()``/``eval()``), and not when a list or array held
    by an attribute changes in place: :mod:`nn.model_key` uses it to know, at one
    read, that no module was reassigned since a key was taken. (A write straight
    into ``vars(module)`` goes around it, as it goes around ``__setattr__``.)
    """
    return _attribute_writes


def _note_attribute_write() -> None:
    global _attribute_writes
    _attribute_writes += 1


class class_or_instance_method:
    """A method that receives the class when called on the class and the instance when
    called on an instance (``MLP.load(path)`` and ``model.load(path)``)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.__doc__ = function.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Callable[..., Any]:
        return types.MethodType(self.function, owner if instance is None else instance)


class Fixed:
    """A module's setting that decides what it computes (``activation``): given when the
    module is made, and refused if changed afterwards (setting the same again, as an
    ``__init__`` run twice does, is allowed). Setting it later changed nothing the
    module computed, while ``save`` wrote the new name: a file that loads as another
    model, or not at all."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, f"_{name}"

    def __get__(self, module: Any, owner: type | None = None) -> Any:
        if module is None:
            return self
        found = vars(module)
        if self.slot in found:
            return found[self.slot]
        if self.name in found:  # a module pickled before the setting was fixed
            return found[self.name]
        raise AttributeError(f"{type(module).__name__!r} object has no attribute "
                             f"{self.name!r} (it is set when the module is made)")

    def __set__(self, module: Any, value: Any) -> None:
        found = vars(module)
        if self.slot in found and found[self.slot] != value:
            kind = type(module).__name__
            raise AttributeError(f"{kind}.{self.name} is set when the {kind} is made and "
                                 f"does not change (what it computes is built from it); "
                                 f"make a new {kind}(..., {self.name}={value!r})")
        found[self.slot] = value

    def __delete__(self, module: Any) -> None:
        kind = type(module).__name__
        raise AttributeError(f"{kind}.{self.name} is set when the {kind} is made and cannot "
                             "be deleted")


class Module:
    """Base class of models: parameters, submodules, modes, saving and loading.

    Subclasses set parameters and submodules as attributes and define
    ``forward(x)``; calling the module runs ``forward`` inside a scope named
    after the module's place in its parent.
    """

    training: bool = True
    """True after ``train()`` (the default), False after ``eval()``."""
    repr_children: ClassVar[bool] = True
    """Whether ``repr`` lists the submodules one per line."""
    _scope_name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        serialize.register(cls)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Module):
            object.__setattr__(value, "_scope_name", name)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, Module):
                    object.__setattr__(item, "_scope_name", f"{name}.{i}")
        object.__setattr__(self, name, value)
        _note_attribute_write()

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        _note_attribute_write()

    # -- calling ---------------------------------------------------------------

    def __call__(self, x: Any) -> Any:
        name = self._scope_name
        if not name:
            return self.forward(x)
        with scope(name):
            return self.forward(x)

    def forward(self, x: Any) -> Any:
        """The module's computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward(x)")

    # -- the tree --------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their attribute names (``layers.0`` for list items)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)) and set(map(type, value)) != _ONLY_VALUES:
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_own_parameters(self) -> Iterator[tuple[str, Value]]:
        """This module's own parameters (not its submodules'), with their short names."""
        for name, value in vars(self).items():
            if isinstance(value, Value):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Value):
                        yield f"{name}[{i}]", item

    def named_modules(self) -> list[tuple[str, Module]]:
        """This module (named "") and every submodule below it, with dotted paths."""
        found: list[tuple[str, Module]] = []
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            found.append((path, module))
            children = [(f"{path}.{name}" if path else name, child)
                        for name, child in module.named_children()]
            stack.extend(reversed(children))
        return found

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted name, in a fixed order; shared ones once."""
        found: list[tuple[str, Value]] = []
        seen: set[int] = set()
        for path, module in self.named_modules():
            for name, p in module.named_own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    found.append((f"{path}.{name}" if path else name, p))
        return found

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of ``named_parameters()``.

        The same walk without building the names (training loops call this through
        ``zero_grad`` at every step): a list of Values joins in one ``extend``, and the
        repeats of a shared parameter are dropped only when there are any.
        """
        found: list[Value] = []
        for _, module in self.named_modules():
            if type(module).named_own_parameters is not Module.named_own_parameters:
                found.extend(p for _, p in module.named_own_parameters())
                continue
            for value in vars(module).values():
                if isinstance(value, Value):
                    found.append(value)
                elif isinstance(value, (list, tuple)):
                    if set(map(type, value)) == _ONLY_VALUES:
                        found.extend(value)
                    else:
                        found.extend(p for p in value if isinstance(p, Value))
        return list(dict.fromkeys(found)) if mirror.repeats(found) else found

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (``backward()`` accumulates into it)."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> Module:
        """Put this module and all below it in training mode (``eval()`` undoes it)."""
        flag("mode", mode, who="train")
        for _, module in self.named_modules():
            object.__setattr__(module, "training", mode)
        _note_attribute_write()
        return self

    def eval(self) -> Module:
        """Put this module and all below it in evaluation mode (``training`` False)."""
        return self.train(False)

    # -- state -----------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by dotted name (a plain, JSON-ready dict)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from ``state`` (as made by ``state_dict()``).

        ``state`` must name exactly this module's parameters, each with a finite
        real number. Everything is checked before anything is set, so on an
        error (ValueError naming the problem) the parameters are unchanged, and a
        Ctrl-C never leaves some of them set. Gradients are left as they are.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of parameter names to numbers, "
                            f"got {type(state).__name__}")
        named = self.named_parameters()
        check_names([name for name, _ in named], list(state))
        values = [finite_number(name, state[name]) for name, _ in named]
        with interrupts_deferred():  # a Ctrl-C is raised once every parameter is set
            for (_, p), v in zip(named, values):
                p.data = v

    def architecture(self) -> list[str]:
        """One line per module, ``path: Class(config)`` (the root without a path): what a
        saved file must match."""
        return [f"{path}{': ' if path else ''}{type(m).__name__}({m.extra_repr()})"
                for path, m in self.named_modules()]

    def config(self) -> dict[str, Any] | None:
        """The keyword arguments that make this module's architecture again, JSON-ready
        (``from_config(config())`` builds a model of the same shape, with new parameters).

        nn's modules define it. The default is ``{}`` for a class made without arguments
        and None otherwise (the file then cannot rebuild the model, and
        ``nn.load`` says so): define it for your own modules to make them loadable.
        """
        return {} if not inspect.signature(type(self)).parameters else None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Module:
        """A new module made from ``config()``'s output: ``cls(**config)`` unless overridden."""
        return cls(**config)

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """How many parameters ``from_config(config)`` would make, worked out from the
        config alone (nothing is built), or None when the class cannot tell.

        ``nn.load`` compares it with the number of parameters the file holds before it
        builds anything, so a small file whose config asks for ``MLP(10**7, [10**7])``
        is a ValueError rather than a MemoryError. nn's rebuildable models define it;
        define it for a module of your own whose config sets its size. A ValueError
        names a size the constructor would refuse too; a config the constructor cannot
        even take (a missing argument) gives None, and building then says what is wrong.
        """
        return None

    @classmethod
    def config_arguments(cls, config: dict[str, Any]) -> dict[str, Any] | None:
        """``config`` bound to the constructor's parameters, defaults filled in, or None
        if the constructor would not accept it (a missing or unknown argument): what a
        ``parameter_count`` reads sizes from without calling the constructor."""
        try:
            bound = inspect.signature(cls).bind(**config)
        except TypeError:
            return None
        bound.apply_defaults()
        return dict(bound.arguments)

    def save(self, path: PathLike) -> None:
        """Write the model to ``path`` as JSON, atomically: how to rebuild it (class and
        ``config()``), its architecture in words, and every parameter.

        The text goes to a temporary file in the same directory, which then replaces
        ``path`` in one step: a crash leaves the old file or the new one, never a
        mixture. Non-finite parameters are refused, and so is a path that is not a
        regular file (see ``autograd_scalar.write_atomically``).
        """
        where = output_file(serialize.path_text(path, "save"), "save")
        document = serialize.document(self)
        try:
            text = json.dumps(document, indent=1, allow_nan=False)
        except TypeError as error:  # config() holds what JSON cannot write
            raise TypeError(f"save: {type(self).__name__}.config() must give JSON numbers, "
                            f"strings, lists and dicts (a NumPy number as int() or "
                            f"float()); {error}"[:300]) from None
        except ValueError:  # the parameters were checked: a number of config()
            raise ValueError(f"save: {type(self).__name__}.config() holds a number that is "
                             "not finite (inf or NaN), which a model file cannot hold") from None
        write_atomically(where, text)

    @class_or_instance_method
    def load(self_or_cls: Any, path: PathLike, *, max_bytes: int = MAX_BYTES) -> Any:
        """Read a file written by ``save``: ``MLP.load(path)`` returns a new model,
        ``model.load(path)`` sets this model's parameters in place and returns it.

        On the class it is ``nn.load(path)`` and also checks that the file holds this
        class. On an instance the file's architecture must match this model's; how the
        file says to rebuild the model (its ``"model"`` entry, which ``nn.load`` builds
        from and checks) is not read, since this model is already built. Any
        problem (not a model file, damaged or hostile JSON, another architecture) is a
        ValueError naming the file and what is wrong, and the parameters are unchanged.
        """
        if isinstance(self_or_cls, type):
            model = serialize.load(path, max_bytes=max_bytes)
            if not isinstance(model, self_or_cls):
                raise ValueError(f"{os.fspath(path)}: holds a {type(model).__name__}, not a "
                                 f"{self_or_cls.__name__}; nn.load(path) loads any model")
            return model
        where = serialize.path_text(path, "load")
        document = serialize.read(where, max_bytes)
        try:
            self_or_cls.load_document(document)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        return self_or_cls

    def load_document(self, document: Mapping[str, Any]) -> None:
        """Set the parameters from a saved document (as read by ``nn.serialize.read``),
        after checking that it was saved from this class and architecture."""
        kind = document.get("module")
        if kind != type(self).__name__:
            raise ValueError(f"saved from a {str(kind)[:100]!r}, but this model is a "
                             f"{type(self).__name__!r}")
        saved, ours = document.get("architecture"), self.architecture()
        if saved != ours:
            raise ValueError(f"saved from a different architecture: "
                             f"{first_difference(saved, ours)}")
        state = document.get("parameters")
        if not isinstance(state, dict):
            raise ValueError("\"parameters\" must be a JSON object of names to numbers")
        self.load_state_dict(state)

    # -- display ---------------------------------------------------------------

    def extra_repr(self) -> str:
        """The module's configuration as text, e.g. ``2 -> 16, activation='relu'``."""
        return ""

    def __repr__(self) -> str:
        count = len(self.parameters())
        config = self.extra_repr()
        head = (f"{type(self).__name__}({config}{', ' if config else ''}"
                f"{count} parameter{'' if count == 1 else 's'})")
        children = list(self.named_children()) if self.repr_children else []
        if not children:
            return head
        lines = [head + " {"]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append("}")
        return "\n".join(lines)


def check_names(expected: list[str], given: list[str]) -> None:
    """ValueError listing missing and unexpected parameter names, if any."""
    expected_set, given_set = set(expected), set(given)
    missing = [n for n in expected if n not in given_set]
    unexpected = [n for n in given if n not in expected_set]
    if not missing and not unexpected:
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing ({shorten(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected ({shorten(unexpected)})")
    raise ValueError(f"parameter names do not match: {' and '.join(parts)}; the model has "
                     f"{len(expected)} parameters, the state has {len(given)}")


def finite_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite real number; ValueError naming ``name``."""
    try:
        if is_real(value) and math.isfinite(value):
            return float(value)
    except OverflowError:  # an int past float range
        pass
    raise ValueError(f"parameter {name!r} must be a finite real number within float range, "
                     f"got {shown(value)}"[:300])


def shorten(names: list[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def first_difference(saved: Any, ours: list[str]) -> str:
    """Where a saved architecture description first differs from this model's."""
    if not isinstance(saved, list):
        return f"the file's architecture is {type(saved).__name__}, expected a list of lines"
    for i, (a, b) in enumerate(zip(saved, ours)):
        if a != b:
            return f"line {i + 1} is {a!r} in the file but {b!r} in this model"
    return (f"the file describes {len(saved)} modules, this model has {len(ours)}")

