"""``dataclass`` with the standard library's behaviour and none of its start-up cost.

The standard decorator writes every method it generates (``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, and a frozen class's ``__setattr__``/``__delattr__``) as source
text and ``exec()``s it: about 0.1 ms per method, 0.65 ms per frozen class.  Importing it
also imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``...): 6-8 ms.
pybpftrace defines about 110 record classes on its way to a loaded program, so together
that was a fifth of its start-up time.

This module is a drop-in replacement (same keywords, same ``field()``) that never imports
``dataclasses`` for the options pybpf uses.  It reads the class's annotations itself,
keeps the field list in ``__record_fields__`` (not ``__dataclass_fields__``: the standard
``fields``/``asdict``/``replace`` refuse a record class instead of misreading it; use this
module's ``fields`` and ``replace``) and installs shared methods that read the field list:
no source is compiled.  Construction costs a little more per object (a loop instead of
straight-line code), which no hot path here notices.

mypy sees the ``dataclasses`` functions themselves (the aliases below), so type checking
and its dataclass rules are exactly the standard ones.  ``order``, ``unsafe_hash``,
``weakref_slot``, ``InitVar`` and ``KW_ONLY`` fields, frozen classes that define their own
``__setattr__`` and subclasses of standard dataclasses are handed to the standard
decorator, imported then.
"""

from __future__ import annotations

import abc
import sys
import types
from collections.abc import Callable, Mapping
from operator import attrgetter

__all__ = ["FrozenInstanceError", "dataclass", "field", "fields", "replace"]

#: Where a record class keeps its fields (name -> Field, inherited ones first).
FIELDS = "__record_fields__"
#: Set on record classes, with their ``frozen`` flag (subclasses must agree).
_FROZEN = "__record_frozen__"


class _Missing:
    """No default given (``None`` is a valid default, so it cannot mean that)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    """One field: what ``field()`` returns and ``fields()`` lists (the standard attributes)."""

    __slots__ = (
        "compare",
        "default",
        "default_factory",
        "hash",
        "init",
        "kw_only",
        "metadata",
        "name",
        "repr",
        "type",
    )

    def __init__(
        self,
        default: Any,
        default_factory: Any,
        init: bool,
        repr: bool,  # the standard keyword names
        hash: bool | None,
        compare: bool,
        metadata: Mapping[Any, Any] | None,
        kw_only: Any,
    ) -> None:
        self.name: str = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.hash = hash
        self.compare = compare
        self.metadata = types.MappingProxyType(dict(metadata) if metadata else {})
        self.kw_only = kw_only  # MISSING until the class's own kw_only decides

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, type={self.type!r}, default={self.default!r})"


def _field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    metadata: Mapping[Any, Any] | None = None,
    kw_only: Any = MISSING,
) -> Any:
    """A field specification, as ``dataclasses.field``."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, init, repr, hash, compare, metadata, kw_only)


def _fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record class or instance, in ``__init__`` order of declaration."""
    own = getattr(obj, FIELDS, None)
    if own is None:
        raise TypeError("must be called with a record class or instance")
    return tuple(own.values())


def _replace(obj: Any, /, **changes: Any) -> Any:
    """A copy of the record ``obj`` with some fields changed (through ``__init__``)."""
    for f in _fields(obj):
        if not f.init:
            if f.name in changes:
                raise ValueError(
                    f"field {f.name} is declared with init=False, it cannot be "
                    "specified with replace()"
                )
        elif f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def _dataclass(
    cls: type | None = None,
    /,
    *,
    init: bool = True,
    repr: bool = True,
    eq: bool = True,
    order: bool = False,
    unsafe_hash: bool = False,
    frozen: bool = False,
    match_args: bool = True,
    kw_only: bool = False,
    slots: bool = False,
    weakref_slot: bool = False,
) -> Any:
    """Make ``cls`` a record class (the standard decorator's signature and semantics)."""
    opts = {
        "init": init,
        "repr": repr,
        "eq": eq,
        "order": order,
        "unsafe_hash": unsafe_hash,
        "frozen": frozen,
        "match_args": match_args,
        "kw_only": kw_only,
        "slots": slots,
        "weakref_slot": weakref_slot,
    }

    def wrap(c: type) -> type:
        return _process(c, opts)

    return wrap if cls is None else wrap(cls)


# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import FrozenInstanceError as FrozenInstanceError
    from dataclasses import dataclass as dataclass
    from dataclasses import field as field
    from dataclasses import fields as fields
    from dataclasses import replace as replace
    from typing import Any
else:
    dataclass = _dataclass
    field = _field
    fields = _fields
    replace = _replace

    class FrozenInstanceError(AttributeError):
        """Assigning to or deleting a field of a frozen record."""


def _process(cls: type, opts: dict[str, Any]) -> type:
    # Not inspect.get_annotations: inspect is the import this module exists to avoid.
    ann: dict[str, Any] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    if _needs_stdlib(cls, opts, ann):
        import dataclasses  # only here: it costs 6-8 ms of imports

        return dataclasses.dataclass(cls, **opts)
    frozen = opts["frozen"]
    own = cls.__dict__
    class_hash = own.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in own))
    flds = _collect(cls, ann, opts["kw_only"])
    if opts["slots"]:
        cls = _with_slots(cls, flds)
    setattr(cls, FIELDS, flds)
    setattr(cls, _FROZEN, frozen)
    ordered = tuple(flds.values())
    if not cls.__doc__:  # the standard one spells the signature; names are enough here
        cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in ordered if f.init)})"
    if opts["init"] and "__init__" not in own:
        _put(cls, "__init__", _make_init(cls, ordered))
    if opts["repr"] and "__repr__" not in own:
        _put(cls, "__repr__", _make_repr(tuple(f.name for f in ordered if f.repr)))
    compared = tuple(f.name for f in ordered if f.compare)
    if opts["eq"] and "__eq__" not in own:
        _put(cls, "__eq__", _make_eq(compared))
    if opts["eq"] and not explicit_hash:
        hashed = tuple(f.name for f in ordered if (f.compare if f.hash is None else f.hash))
        cls.__hash__ = _make_hash(hashed) if frozen else None  # type: ignore[assignment]
    if frozen:
        names = frozenset(flds)
        _put(cls, "__setattr__", _make_frozen_setattr(cls, names))
        _put(cls, "__delattr__", _make_frozen_delattr(cls, names))
    if opts["slots"]:
        # Pickle and copy would restore a frozen record's slots through __setattr__, and
        # protocols 0 and 1 refuse slots without __getstate__: give both an explicit state.
        every = tuple(flds)
        _put(cls, "__getstate__", _make_getstate(every))
        _put(cls, "__setstate__", _make_setstate(every))
    if opts["match_args"] and "__match_args__" not in own:
        match = tuple(f.name for f in ordered if f.init and not f.kw_only)
        cls.__match_args__ = match  # type: ignore[misc,attr-defined]
    if getattr(cls, "__abstractmethods__", None):  # the methods above may implement some
        abc.update_abstractmethods(cls)
    return cls


def _needs_stdlib(cls: type, opts: dict[str, Any], ann: dict[str, Any]) -> bool:
    """What this module leaves to the standard decorator (rare options, mixed hierarchies)."""
    records_base = False
    stdlib_base = False
    for b in cls.__mro__[1:]:
        if FIELDS in b.__dict__:
            records_base = True
            if b.__dict__[_FROZEN] and not opts["frozen"]:
                raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
            if not b.__dict__[_FROZEN] and opts["frozen"]:
                raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
        elif "__dataclass_fields__" in b.__dict__:
            stdlib_base = True
    stdlib = (
        stdlib_base
        or opts["order"]
        or opts["unsafe_hash"]
        or opts["weakref_slot"]
        or (opts["frozen"] and ("__setattr__" in cls.__dict__ or "__delattr__" in cls.__dict__))
        or any("InitVar" in str(t) or "KW_ONLY" in str(t) for t in ann.values())
    )
    if stdlib and records_base:  # the standard decorator would not see the base's fields
        raise TypeError(
            f"{cls.__qualname__}: pybpf.records cannot hand a subclass of a "
            "record class to the standard decorator (order, unsafe_hash, "
            "weakref_slot, InitVar, KW_ONLY, a dataclass base)"
        )
    return stdlib


def _is_classvar(t: Any) -> bool:
    if isinstance(t, str):  # postponed annotations: match the spelling
        t = t.strip()
        return t in ("ClassVar", "typing.ClassVar") or t.startswith(
            ("ClassVar[", "typing.ClassVar[")
        )
    # An evaluated annotation: only a module that imported typing can hold its ClassVar.
    typing = sys.modules.get("typing")
    if typing is None:
        return False
    return t is typing.ClassVar or getattr(t, "__origin__", None) is typing.ClassVar


def _collect(cls: type, ann: dict[str, Any], kw_only: bool) -> dict[str, Field]:
    """All fields of ``cls``: the bases' (MRO order, overridden in place), then its own."""
    flds: dict[str, Field] = {}
    for b in reversed(cls.__mro__[1:]):
        flds.update(b.__dict__.get(FIELDS, {}))
    for name, t in ann.items():
        if _is_classvar(t):
            continue
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else _field(default=value)
        f.name, f.type = name, t
        if f.kw_only is MISSING:
            f.kw_only = kw_only
        if f.default is not MISSING and f.default.__class__.__hash__ is None:
            raise ValueError(
                f"mutable default {type(f.default)} for field {name} is not "
                "allowed: use default_factory"
            )
        if isinstance(value, Field):  # the class attribute is the plain default, or nothing
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        flds[name] = f
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in ann:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    seen_default = False
    for f in flds.values():
        if not f.init or f.kw_only:
            continue
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    return flds


def _with_slots(cls: type, flds: dict[str, Field]) -> type:
    """A copy of ``cls`` with ``__slots__`` for its fields (slots must exist at creation)."""
    inherited: set[str] = set()
    for b in cls.__mro__[1:-1]:
        s = b.__dict__.get("__slots__", ())
        inherited.update((s,) if isinstance(s, str) else s)
    ns = dict(cls.__dict__)
    ns["__slots__"] = tuple(n for n in flds if n not in inherited)
    for name in (*flds, "__dict__", "__weakref__"):  # defaults live in __init__ now
        ns.pop(name, None)
    new = type(cls)(cls.__name__, cls.__bases__, ns)
    new.__qualname__ = cls.__qualname__
    return new


def _put(cls: type, name: str, fn: Callable[..., Any]) -> None:
    fn.__qualname__ = f"{cls.__qualname__}.{name}"
    setattr(cls, name, fn)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A fast function giving the tuple of ``names``'s values (attrgetter, always a tuple)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def _make_init(cls: type, flds: tuple[Field, ...]) -> Callable[..., None]:
    positional = tuple(f.name for f in flds if f.init and not f.kw_only)
    keyword = tuple(f.name for f in flds if f.init and f.kw_only)
    accepted = frozenset(positional + keyword)
    defaults = {f.name: f.default for f in flds if f.default is not MISSING}
    factories = {f.name: f.default_factory for f in flds if f.default_factory is not MISSING}
    not_init = tuple(
        f.name for f in flds if not f.init and f.name in (defaults.keys() | factories.keys())
    )
    post_init = hasattr(cls, "__post_init__")
    npos = len(positional)
    qualname = cls.__qualname__
    put = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > npos:
            raise TypeError(
                f"{qualname}.__init__() takes {npos + 1} positional arguments but "
                f"{len(args) + 1} were given"
            )
        for name, value in zip(positional, args, strict=False):
            put(self, name, value)
        for name in positional[len(args) :] + keyword:
            if name in kwargs:
                put(self, name, kwargs[name])
            elif name in defaults:
                put(self, name, defaults[name])
            elif name in factories:
                put(self, name, factories[name]())
            else:
                raise TypeError(f"{qualname}.__init__() missing required argument: '{name}'")
        if kwargs:
            for name in kwargs:
                if name not in accepted:
                    raise TypeError(
                        f"{qualname}.__init__() got an unexpected keyword argument '{name}'"
                    )
                if name in positional[: len(args)]:
                    raise TypeError(f"{qualname}.__init__() got multiple values for '{name}'")
        for name in not_init:
            put(self, name, defaults[name] if name in defaults else factories[name]())
        if post_init:
            self.__post_init__()

    return __init__


def _make_repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__qualname__}({inner})"

    return __repr__


def _make_eq(names: tuple[str, ...]) -> Callable[[Any, object], Any]:
    values = _getter(names)

    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return values(self) == values(other)  # tuples: identical values are equal, as stdlib

    return __eq__


def _make_hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _getter(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _make_frozen_setattr(cls: Any, names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _make_frozen_delattr(cls: Any, names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__


def _make_getstate(names: tuple[str, ...]) -> Callable[[Any], list[Any]]:
    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, n) for n in names]

    return __getstate__


def _make_setstate(names: tuple[str, ...]) -> Callable[[Any, list[Any]], None]:
    def __setstate__(self: Any, state: list[Any]) -> None:
        for n, v in zip(names, state, strict=True):
            object.__setattr__(self, n, v)

    return __setstate__
