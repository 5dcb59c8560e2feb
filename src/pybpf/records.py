"""``dataclass`` with the standard library's behaviour and none of its start-up cost.

The standard decorator writes every method it generates (``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, and a frozen class's ``__setattr__``/``__delattr__``) as source
text and ``exec()``s it: about 0.1 ms per method, 0.65 ms per frozen class.  pybpftrace
defines about 110 dataclasses on its way to a loaded program, so that compilation was a
fifth of its start-up time.

This decorator is a drop-in replacement (same keywords).  It lets the standard library do
all the field processing (so ``dataclasses.fields``, ``replace``, ``asdict`` and
``__match_args__`` behave as usual) but asks it for no methods, then installs shared
methods that read the field list: no source is compiled.  Construction costs a little more
per object (a loop instead of straight-line code), which no hot path here notices.

mypy sees ``dataclasses.dataclass`` itself (the alias below), so type checking and its
dataclass rules are exactly the standard ones.  ``order``, ``unsafe_hash``,
``weakref_slot``, ``InitVar`` fields, classes that define their own ``__setattr__`` and
subclasses of standard frozen dataclasses are handed to the standard decorator unchanged.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import MISSING, Field, FrozenInstanceError
from typing import TYPE_CHECKING, Any

__all__ = ["dataclass", "field"]

field = dataclasses.field

if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:

    def dataclass(
        cls=None,
        /,
        *,
        init=True,
        repr=True,
        eq=True,
        order=False,
        unsafe_hash=False,
        frozen=False,
        match_args=True,
        kw_only=False,
        slots=False,
        weakref_slot=False,
    ):
        """Make ``cls`` a dataclass (the standard decorator's signature and semantics)."""
        opts = dict(
            init=init,
            repr=repr,
            eq=eq,
            order=order,
            unsafe_hash=unsafe_hash,
            frozen=frozen,
            match_args=match_args,
            kw_only=kw_only,
            slots=slots,
            weakref_slot=weakref_slot,
        )

        def wrap(c):
            return _process(c, opts)

        return wrap if cls is None else wrap(cls)


#: Set on classes this module processed, with their real ``frozen`` flag.  The standard
#: metadata of such a class says ``frozen=False`` (it was asked for no frozen methods), so
#: subclass checks use this instead.
_FROZEN = "__pybpf_frozen__"


def _process(cls: type, opts: dict[str, Any]) -> type:
    frozen = opts["frozen"]
    if _needs_stdlib(cls, opts):
        return dataclasses.dataclass(cls, **opts)
    own = cls.__dict__
    class_hash = own.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in own))
    undocumented = not cls.__doc__
    if undocumented:  # else the stdlib builds one with inspect.signature (slow: tokenize)
        cls.__doc__ = cls.__name__
    out: Any = dataclasses.dataclass(
        cls,
        init=False,
        repr=False,
        eq=False,
        frozen=False,
        match_args=opts["match_args"],
        kw_only=opts["kw_only"],
        slots=opts["slots"],
    )
    flds: tuple[Field[Any], ...] = dataclasses.fields(out)
    setattr(out, _FROZEN, frozen)
    if undocumented:
        out.__doc__ = f"{cls.__name__}({', '.join(f.name for f in flds if f.init)})"
    if opts["init"] and "__init__" not in own:
        out.__init__ = _make_init(out, flds)
    if opts["repr"] and "__repr__" not in own:
        out.__repr__ = _make_repr(tuple(f.name for f in flds if f.repr))
    compared = tuple(f.name for f in flds if f.compare)
    if opts["eq"] and "__eq__" not in own:
        out.__eq__ = _make_eq(compared)
    if opts["eq"] and not explicit_hash:
        hashed = tuple(f.name for f in flds if (f.compare if f.hash is None else f.hash))
        out.__hash__ = _make_hash(hashed) if frozen else None
    if frozen:
        names = frozenset(f.name for f in flds)
        out.__setattr__ = _make_frozen_setattr(out, names)
        out.__delattr__ = _make_frozen_delattr(out, names)
        if opts["slots"]:
            out.__getstate__ = _make_getstate(tuple(f.name for f in flds))
            out.__setstate__ = _make_setstate(tuple(f.name for f in flds))
    return out  # type: ignore[no-any-return]


def _needs_stdlib(cls: type, opts: dict[str, Any]) -> bool:
    """What this module leaves to the standard decorator (rare options, mixed hierarchies)."""
    if opts["order"] or opts["unsafe_hash"] or opts["weakref_slot"]:
        return True
    if opts["frozen"] and ("__setattr__" in cls.__dict__ or "__delattr__" in cls.__dict__):
        return True  # the standard decorator gives the proper error
    for b in cls.__mro__[1:]:
        params = b.__dict__.get("__dataclass_params__")
        if params is not None and _FROZEN not in b.__dict__:
            return True  # a standard dataclass base: keep its frozen checks consistent
        if b.__dict__.get(_FROZEN) and not opts["frozen"]:
            raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
        if _FROZEN in b.__dict__ and not b.__dict__[_FROZEN] and opts["frozen"]:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    ann = inspect.get_annotations(cls)  # strings here (postponed evaluation)
    return any("InitVar" in str(t) for t in ann.values())


def _make_init(cls: type, flds: tuple[Field[Any], ...]) -> Any:
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

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def _make_repr(names: tuple[str, ...]) -> Any:
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__qualname__}({inner})"

    return __repr__


def _make_eq(names: tuple[str, ...]) -> Any:
    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in names)

    return __eq__


def _make_hash(names: tuple[str, ...]) -> Any:
    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, n) for n in names))

    return __hash__


def _make_frozen_setattr(cls: Any, names: frozenset[str]) -> Any:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _make_frozen_delattr(cls: Any, names: frozenset[str]) -> Any:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__


def _make_getstate(names: tuple[str, ...]) -> Any:
    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, n) for n in names]

    return __getstate__


def _make_setstate(names: tuple[str, ...]) -> Any:
    def __setstate__(self: Any, state: list[Any]) -> None:
        for n, v in zip(names, state, strict=True):
            object.__setattr__(self, n, v)

    return __setstate__
