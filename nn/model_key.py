"""model_key: what a traced model's function is made of, to know when a trace is stale.

A compiled model (a tape, see :mod:`nn.compiled`) reads the parameters' current
numbers at every run, but everything else the trace saw is frozen into it: which
Value objects the parameters are, the model's structure, and every number that
was not a parameter (a ``Standardized`` model's mean and std become constants of
the tape). A tape kept for a model may be reused only while all of that is the
same, so it is kept beside ``model_key(model)`` and reused only while the key
compares equal.

For an nn :class:`~nn.module.Module` the key lists, for every module of its tree,
its class and every attribute, by name:

- a Value (a parameter or a constant) by identity: replacing one by another Value,
  even of the same number, changes the key; changing its ``data`` does not;
- a number, string, bytes, bool or None by value (a float by its exact bits);
- a NumPy array or scalar by dtype, shape and contents;
- a list, tuple or dict item by item, a set or frozenset of such numbers and Values
  by its members, an ``array.array`` or ``bytearray`` by its contents;
- a submodule (or a list or tuple of them) in its turn, as ``named_modules`` walks,
  and a module inside another container (a dict of modules) the same way;
- any other object by identity and, if it has attributes (a dataclass such as
  :class:`nn.data.Standardizer`, or a class with ``__slots__``), by those too, down
  to ``DEPTH`` levels.

What cannot be compared by contents, a container or object past ``DEPTH`` levels or a
set of other objects, makes a key that equals no other: the model is traced again at
every call, slower but never stale. What the key cannot see at all: state outside the
module tree (globals, a closure's variables, class attributes changed after the trace)
and inside objects with neither attributes nor a known form. A model that is not a Module
(a plain function) has no key: ``model_key`` returns None, and callers retrace.
Objects compared by identity are held weakly where Python allows, so a kept key
keeps no model alive.

Taking the key again when nothing changed costs one look at each list and mutable
object, not a walk of the tree: the last key of each model is kept (weakly) with the
count of module attribute writes at its walk (:func:`nn.module.attribute_writes`) and
the places whose contents may change in place (lists, tuples, arrays, dicts, other
objects). While the count is the same, no attribute of any module was bound anew, so
the key still holds exactly when those places hold what they held. (An attribute
written straight into ``vars(module)`` or ``module.__dict__`` goes around ``__setattr__``
and so around that count; assign attributes as usual.)
"""

from __future__ import annotations

import array
import contextlib
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_scalar import Value, mirror

from .module import Module, attribute_writes

DEPTH = 8
"""How many containers and objects deep an attribute is compared by its contents;
deeper, by identity only."""

_BY_VALUE = frozenset((type(None), bool, int, str, bytes, Value))

_FUNCTIONS = frozenset((types.FunctionType, types.BuiltinFunctionType, type(mirror.same_items)))
"""Kinds of functions (Python's, built-in, and compiled ones such as an activation of
the engine's core) that :func:`_contents` stands for by identity when they have no
attributes of their own."""


class _Same:
    """Stands for an object whose own ``==`` is not identity (a dataclass compares its
    fields, arrays elementwise): equal only to a ``_Same`` of the very same object.
    Held weakly where Python allows, as :func:`_identity` says why."""

    __slots__ = ("_get",)

    def __init__(self, thing: Any) -> None:
        try:
            self._get: Callable[[], Any] = weakref.ref(thing)
        except TypeError:
            self._get = lambda: thing

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Same):
            return NotImplemented
        mine = self._get()
        return mine is not None and mine is other._get()

    __hash__ = None  # type: ignore[assignment]


class _Unknown:
    """Stands for what cannot be compared by contents: equal to nothing, not even
    itself, so a key holding one is never reused (see the module docstring)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


_HASHABLE_MEMBERS = frozenset((type(None), bool, int, float, str, bytes, Value))
"""What a set may hold to be compared by its members (Values compare by identity)."""


def _identity(thing: Any) -> Any:
    """A stand-in for ``thing`` equal to another only for the same object, that keeps
    nothing alive where Python allows: a key kept in a cache beside its model must not
    keep the model alive (a bound method or a closure in an attribute refers to it).

    An object compared by identity anyway (a function, most objects) is stood for by a
    weak reference (equal while it lives exactly when the objects are the same; Python
    reuses one reference per object, so this costs no allocation after the first).
    """
    if type(thing).__eq__ is object.__eq__:
        try:
            return weakref.ref(thing)
        except TypeError:
            return _Same(thing)
    return _Same(thing)


def model_key(model: Any, previous: tuple[Any, ...] | None = None) -> tuple[Any, ...] | None:
    """A value equal to ``model_key(model)`` taken at another time exactly when the
    model's traced function is unchanged (see the module docstring); None for a model
    that is not an nn Module.

    One walk of the module tree in the order of ``named_modules`` (a submodule, or a
    list or tuple of them, is walked in its turn, each module once), with the usual
    attributes (numbers, strings, Values, lists of Values) taken as they are: it runs
    at every compiled prediction and every ``fit`` call, so it is kept to one pass over
    the attributes.

    ``previous``, a key taken of the model before (the one it will be compared with),
    makes that pass cheaper and changes nothing else: a list of Values that still holds
    exactly the Values the previous key holds at the same place is stood for by that
    same tuple (compared by address, ``autograd_scalar.mirror.same_items``) instead
    of a new one made by visiting every Value.
    """
    if not isinstance(model, Module):
        return None
    writes = attribute_writes()
    last = _recalled(model)
    if last is not None and last.writes == writes and last.holds():
        return last.key
    places: list[_Place] = []
    key = _walk(model, previous, 0, places)
    _remember(model, _LastWalk(key, writes, places))
    return key


_last_walks: dict[int, tuple[weakref.ref[Module], _LastWalk]] = {}
"""Each model's last walk, by the model's identity (a module may define ``==`` and hash
by value, and two equal models must not share a key), held with a weak reference that
removes the entry when the model goes."""


def _recalled(model: Module) -> _LastWalk | None:
    """The last walk of this very model, if one is kept."""
    entry = _last_walks.get(id(model))
    return entry[1] if entry is not None and entry[0]() is model else None


def _remember(model: Module, walk: _LastWalk) -> None:
    """Keep ``walk`` as ``model``'s last (not for a model that cannot be referred to
    weakly: it is walked every time)."""
    key = id(model)

    def forget(reference: weakref.ref[Module]) -> None:
        entry = _last_walks.get(key)
        if entry is not None and entry[0] is reference:
            del _last_walks[key]

    with contextlib.suppress(TypeError):
        _last_walks[key] = (weakref.ref(model, forget), walk)


class _Place:
    """An attribute whose contents may change in place (see the module docstring): the
    module holding it (weakly), its name, and its entry in the key (or, for a list of
    modules, weak references to them)."""

    __slots__ = ("module", "name", "entry", "depth")

    def __init__(self, module: Module, name: str, entry: Any, depth: int) -> None:
        self.module = weakref.ref(module)
        self.name, self.entry, self.depth = name, entry, depth

    def holds(self) -> bool:
        """Whether the attribute still holds what it held at the walk."""
        module = self.module()
        if module is None:
            return False
        thing = vars(module).get(self.name, _MISSING)
        entry = self.entry
        if type(entry) is _Modules:
            return (type(thing) is list or type(thing) is tuple) and entry.same(thing)
        if type(entry) is tuple and entry and type(entry[0]) is Value:
            return ((type(thing) is list or type(thing) is tuple)
                    and mirror.same_items(thing, entry))
        return bool(_contents(thing, self.depth) == entry)


class _Modules:
    """The modules of a list or tuple attribute at the walk, held weakly."""

    __slots__ = ("refs",)

    def __init__(self, modules: list[Any] | tuple[Any, ...]) -> None:
        self.refs = tuple(map(weakref.ref, modules))

    def same(self, items: list[Any] | tuple[Any, ...]) -> bool:
        return len(items) == len(self.refs) and all(
            ref() is item for ref, item in zip(self.refs, items))


class _LastWalk:
    """A model's last key, the attribute writes counted when its walk began, and the
    places whose contents it must still find."""

    __slots__ = ("key", "writes", "places")

    def __init__(self, key: tuple[Any, ...], writes: int, places: list[_Place]) -> None:
        self.key, self.writes, self.places = key, writes, places

    def holds(self) -> bool:
        return all(place.holds() for place in self.places)


_MISSING = object()


def _walk(model: Module, previous: tuple[Any, ...] | None, depth: int,
          places: list[_Place] | None = None) -> tuple[Any, ...]:
    """:func:`model_key` of a module met ``depth`` containers deep (its attributes' contents
    are compared down to ``DEPTH`` in all, so modules that hold each other end). Each
    attribute whose contents may change in place is added to ``places``."""
    before = previous if type(previous) is tuple else ()
    key: list[Any] = []
    stack: list[Module] = [model]
    seen: set[int] = set()
    while stack:
        module = stack.pop()
        attributes = vars(module)
        key += (type(module), tuple(attributes))
        if id(module) in seen:
            key.append(_identity(module))
            continue
        seen.add(id(module))
        found: list[Module] = []
        for name, thing in attributes.items():
            kind = type(thing)
            if kind in _BY_VALUE:
                key.append(thing)
                continue
            if kind in _FUNCTIONS and not getattr(thing, "__dict__", None):
                key.append(_identity(thing))  # as _contents would, without its tests
                continue
            if isinstance(thing, Module):
                key.append(Module)
                found.append(thing)
                continue
            if (kind is list or kind is tuple) and thing:
                old = before[len(key)] if len(key) < len(before) else None
                if (type(old) is tuple and old and type(old[0]) is Value
                        and mirror.same_items(thing, old)):
                    entry: Any = old  # the same Values, already checked to be Values
                else:
                    entry = mirror.only_values(thing)
                if entry is not None:
                    key.append(entry)
                elif all(isinstance(item, Module) for item in thing):
                    key += (Module, len(thing))
                    found.extend(thing)
                    entry = _Modules(thing)
                else:
                    entry = _contents(thing, depth)
                    key.append(entry)
            else:
                entry = _contents(thing, depth)
                key.append(entry)
                if kind is float or isinstance(thing, _IMMUTABLE):
                    continue
            if places is not None:
                places.append(_Place(module, name, entry, depth))
        stack.extend(reversed(found))
    return tuple(key)


_IMMUTABLE = (float, np.number, np.bool_, type, types.ModuleType, *_FUNCTIONS)
"""What an attribute may hold whose entry in the key cannot change unless the attribute
is set anew (a function is compared by identity). Not every NumPy scalar: a structured
one (``np.void``) taken from an array is a view of it."""


def object_key(thing: Any) -> Any:
    """A value equal to ``object_key(thing)`` taken at another time exactly when it is the
    same object with the same attributes, compared as a module's attributes are (see
    the module docstring): for what a trace uses beside the model, such as its loss."""
    return _contents(thing, 0)


def _contents(thing: Any, depth: int) -> Any:
    """``thing`` as a value compared as the module docstring says."""
    kind = type(thing)
    if kind in _BY_VALUE or isinstance(thing, Value):
        return thing
    if isinstance(thing, float):
        return (float, thing.hex())
    if isinstance(thing, np.ndarray):
        return (np.ndarray, thing.dtype.str, thing.shape, thing.tobytes())
    if isinstance(thing, np.generic):
        return (np.generic, thing.dtype.str, thing.tobytes())
    if kind is array.array:
        return (kind, thing.typecode, thing.tobytes())
    if kind is bytearray:
        return (kind, bytes(thing))
    if kind in _FUNCTIONS or isinstance(thing, (type, types.ModuleType)):
        return _identity(thing)
    if depth >= DEPTH:
        return _Unknown()
    if isinstance(thing, Module):
        return (Module, _walk(thing, None, depth + 1))
    if kind is list or kind is tuple:
        return (kind, tuple(_contents(item, depth + 1) for item in thing))
    if kind is dict:
        return (dict, tuple((_contents(k, depth + 1), _contents(v, depth + 1))
                            for k, v in thing.items()))
    if kind is set or kind is frozenset:
        if all(type(item) in _HASHABLE_MEMBERS for item in thing):
            return (kind, frozenset(thing))
        return _Unknown()
    same = _identity(thing)
    attributes = _attributes(thing)
    if attributes:
        return (same, _contents(attributes, depth + 1))
    return same


def _attributes(thing: Any) -> dict[str, Any]:
    """An object's attributes: its ``__dict__`` and the ``__slots__`` of its classes."""
    found = dict(getattr(thing, "__dict__", None) or {})
    for klass in type(thing).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(thing, name):
                found[name] = getattr(thing, name)
    return found
