"""pybpf.records.dataclass behaves like the standard decorator (checked side by side)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from pybpf import records

STD = (dataclasses.dataclass, dataclasses.field, dataclasses.fields, dataclasses.replace)
OURS = (records.dataclass, records.field, records.fields, records.replace)
BOTH = pytest.mark.parametrize("kit", [STD, OURS], ids=["stdlib", "records"])


def _frozen_error(kit: tuple[Any, ...]) -> type[Exception]:
    return dataclasses.FrozenInstanceError if kit is STD else records.FrozenInstanceError


def _make(kit: tuple[Any, ...], body: Callable[[Any], dict[str, Any]], **opts: Any) -> Any:
    """Class ``C`` from ``body`` (given the kit's ``field``) made by the kit's decorator."""
    deco, fld = kit[0], kit[1]
    return deco(**opts)(type("C", (), body(fld)))


def _body(fld: Any) -> dict[str, Any]:
    return {
        "__annotations__": {"a": "int", "b": "str", "c": "list[int]"},
        "b": "x",
        "c": fld(default_factory=list, compare=False),
    }


@BOTH
@pytest.mark.parametrize(
    "opts", [{}, {"frozen": True}, {"eq": False}, {"frozen": True, "slots": True}, {"slots": True}]
)
def test_same_behaviour_as_stdlib(kit: tuple[Any, ...], opts: dict[str, Any]) -> None:
    cls = _make(kit, _body, **opts)
    fields, replace = kit[2], kit[3]
    x, y = cls(1), cls(1, "x", [5])
    assert repr(x) == "C(a=1, b='x', c=[])"
    assert (x == y) is (opts.get("eq", True) or x is y)
    assert x != cls(2)
    assert [f.name for f in fields(cls)] == ["a", "b", "c"]
    assert [f.name for f in fields(x)] == ["a", "b", "c"]
    assert replace(x, a=3).a == 3 and replace(x, a=3).b == "x"
    assert vars(cls)["__match_args__"] == ("a", "b", "c")
    assert cls.b == "x" if not opts.get("slots") else "b" in cls.__slots__
    assert not hasattr(cls, "c") or opts.get("slots")  # a factory leaves no class attribute
    with pytest.raises(TypeError):
        cls()
    with pytest.raises(TypeError):
        cls(1, "x", [], 4)
    with pytest.raises(TypeError):
        cls(1, d=2)
    with pytest.raises(TypeError):
        cls(1, a=2)
    if opts.get("slots"):
        assert not hasattr(x, "__dict__")
    if opts.get("frozen"):
        assert hash(cls(1)) == hash(cls(1, "x", [9]))  # c is not compared, so not hashed
        assert hash(cls(1)) == hash((1, "x"))
        with pytest.raises(_frozen_error(kit)):
            x.a = 5
        with pytest.raises(_frozen_error(kit)):
            del x.a
        with pytest.raises(AttributeError):  # both errors are AttributeErrors
            x.a = 5
        assert copy.deepcopy(x) == x  # goes through __getstate__/__setstate__ when slotted
    elif opts.get("eq", True):
        assert cls.__hash__ is None  # eq without frozen: unhashable
    else:
        assert hash(x) == object.__hash__(x)


@BOTH
def test_kw_only_default_factory_and_post_init(kit: tuple[Any, ...]) -> None:
    deco, fld = kit[0], kit[1]
    seen: list[int] = []

    @deco
    class Base:
        span: int

    @deco
    class Node(Base):
        kids: list[int] = fld(default_factory=list)
        type: str | None = fld(default=None, kw_only=True)
        size: int = 0

        def __post_init__(self) -> None:
            seen.append(self.span)

    n = Node(7, [1], 3, type="int")
    assert (n.span, n.kids, n.size, n.type, seen) == (7, [1], 3, "int", [7])
    assert Node(1).kids is not Node(1).kids
    assert Node.__match_args__ == ("span", "kids", "size")
    assert repr(Node(1)).endswith(".Node(span=1, kids=[], type=None, size=0)")
    with pytest.raises(TypeError):
        Node(1, [], 0, "int")  # type: ignore[call-arg]  # kw_only stays keyword-only


@BOTH
def test_inheritance_keeps_field_order(kit: tuple[Any, ...]) -> None:
    deco, fields = kit[0], kit[2]

    @deco(frozen=True)
    class A:
        x: int
        y: int = 1

    @deco(frozen=True)
    class B(A):
        z: int = 2
        x: int = 0  # redefined: keeps its place, gains a default

    assert [f.name for f in fields(B)] == ["x", "y", "z"]
    assert B() == B(0, 1, 2) and repr(B()) == repr(B(0, 1, 2))
    assert B() != A(0, 1) and hash(B(3)) == hash((3, 1, 2))


@BOTH
def test_class_options(kit: tuple[Any, ...]) -> None:
    deco, fld, fields = kit[0], kit[1], kit[2]

    @deco(kw_only=True)
    class K:
        a: int = 1
        b: int  # no error: keyword-only fields may follow defaults
        c: ClassVar[int] = 5
        d: ClassVar = 6
        e: int = fld(default=0, repr=False, metadata={"unit": "ns"})

    k = K(b=2)
    assert [f.name for f in fields(K)] == ["a", "b", "e"]
    assert fields(K)[2].metadata["unit"] == "ns"
    assert repr(k) == "test_class_options.<locals>.K(a=1, b=2)"
    assert K.__match_args__ == () and K.c == 5 and K.d == 6
    with pytest.raises(TypeError):
        K(1, 2)

    @deco(init=False, repr=False, eq=False, match_args=False)
    class Bare:
        a: int = 1

    assert Bare().a == 1 and "__match_args__" not in vars(Bare)
    assert Bare() != Bare() and repr(Bare()).startswith("<")

    @deco
    class Doc:
        a: int

    @deco
    class Documented:
        """Mine."""

        a: int

    assert Doc.__doc__ and Doc.__doc__.startswith("Doc(a")
    assert Documented.__doc__ == "Mine."


@BOTH
def test_hash_rules(kit: tuple[Any, ...]) -> None:
    deco = kit[0]

    @deco(frozen=True)
    class Own:
        a: int

        def __hash__(self) -> int:
            return 42

    @deco(frozen=True)
    class OwnEq:
        a: int

        def __eq__(self, other: object) -> bool:
            return True

    @deco(eq=False, frozen=True)
    class NoEq:
        a: int

    assert hash(Own(1)) == 42
    assert hash(OwnEq(1)) == hash((1,)) and OwnEq(1) == OwnEq(2)
    n = NoEq(1)
    assert hash(n) == object.__hash__(n) and n != NoEq(1)


@BOTH
def test_errors_at_definition(kit: tuple[Any, ...]) -> None:
    deco, fld = kit[0], kit[1]
    with pytest.raises(ValueError, match="mutable default"):
        deco(type("M", (), {"__annotations__": {"a": "list[int]"}, "a": []}))
    with pytest.raises(TypeError, match="non-default argument 'b' follows default"):
        deco(type("O", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
    with pytest.raises(TypeError, match="no type annotation"):
        deco(type("N", (), {"__annotations__": {}, "a": fld(default=1)}))
    with pytest.raises(ValueError, match="both default and default_factory"):
        fld(default=1, default_factory=int)


@BOTH
def test_replace_init_false(kit: tuple[Any, ...]) -> None:
    deco, fld, replace = kit[0], kit[1], kit[3]

    @deco
    class R:
        a: int
        cache: dict[int, int] = fld(default_factory=dict, init=False)

    r = R(1)
    assert r.cache == {} and replace(r, a=2).a == 2
    with pytest.raises(ValueError, match="init=False"):
        replace(r, cache={})


def test_frozen_inheritance_rules() -> None:
    @records.dataclass(frozen=True)
    class F:
        a: int

    with pytest.raises(TypeError, match="non-frozen"):

        @records.dataclass
        class G(F):  # type: ignore[misc]  # the point: rejected at run time too
            b: int = 0

    @records.dataclass
    class M:
        a: int

    with pytest.raises(TypeError, match="frozen dataclass from a non-frozen"):

        @records.dataclass(frozen=True)
        class N(M):  # type: ignore[misc]
            b: int = 0

    @records.dataclass(frozen=True)
    class H(F):
        b: int = 0

    assert H(1, 2) == H(1, 2) and H(1, 2) != F(1)
    with pytest.raises(records.FrozenInstanceError):
        H(1).b = 3  # type: ignore[misc]


def test_stdlib_base_falls_back_to_stdlib() -> None:
    @dataclasses.dataclass(frozen=True)
    class Std:
        a: int

    @records.dataclass(frozen=True)
    class Mine(Std):
        b: int = 1

    assert Mine(1) == Mine(1, 1)
    assert dataclasses.is_dataclass(Mine)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Mine(1).a = 2  # type: ignore[misc]


def test_records_are_not_stdlib_dataclasses() -> None:
    """The standard helpers refuse a record instead of misreading it."""

    @records.dataclass
    class R:
        a: int

    assert not dataclasses.is_dataclass(R)
    with pytest.raises(TypeError):
        dataclasses.fields(R(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        records.fields(object())
    with pytest.raises(TypeError, match="standard decorator"):

        @records.dataclass(order=True)
        class Sub(R):
            b: int = 0


# Pickle finds classes by module and name, so these live at module level.
@records.dataclass
class Plain:
    a: int
    b: list[int] = records.field(default_factory=list)


@records.dataclass(frozen=True)
class Frozen:
    a: int
    b: tuple[int, ...] = ()


@records.dataclass(slots=True)
class Slotted:
    a: int
    b: str = "x"


@records.dataclass(frozen=True, slots=True)
class FrozenSlotted:
    a: int
    inner: Frozen | None = None


@records.dataclass(frozen=True)
class FrozenChild(Frozen):
    c: str = "c"


@pytest.mark.parametrize(
    "obj",
    [
        Plain(1, [2]),
        Frozen(1, (2, 3)),
        Slotted(1, "y"),
        FrozenSlotted(1, Frozen(2)),
        FrozenChild(1, (), "z"),
    ],
    ids=lambda o: type(o).__name__,
)
def test_pickle_round_trip(obj: Any) -> None:
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(obj, proto))
        assert type(back) is type(obj) and back == obj and repr(back) == repr(obj)
    assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj


def test_import_leaves_dataclasses_and_inspect_alone() -> None:
    code = (
        "import sys, pybpf.records, pybpf.lang.ast;"
        "print(sorted(m for m in ('dataclasses', 'inspect') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
