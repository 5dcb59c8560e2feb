"""pybpf.records.dataclass behaves like the standard decorator (checked side by side)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from pybpf import records


def _pair(body: dict[str, Any], **opts: Any) -> tuple[type, type]:
    """The same class made by the standard decorator and by ours."""
    made: list[Any] = []
    for deco in (dataclasses.dataclass, records.dataclass):
        ns = dict(body)
        ns["__annotations__"] = dict(body.get("__annotations__", {}))
        made.append(deco(**opts)(type("C", (), ns)))
    return made[0], made[1]


BODY: dict[str, Any] = {
    "__annotations__": {"a": "int", "b": "str", "c": "list[int]"},
    "b": "x",
    "c": dataclasses.field(default_factory=list, compare=False),
}


@pytest.mark.parametrize(
    "opts", [{}, {"frozen": True}, {"eq": False}, {"frozen": True, "slots": True}, {"slots": True}]
)
def test_same_behaviour_as_stdlib(opts: dict[str, Any]) -> None:
    std, ours = _pair(BODY, **opts)
    for cls in (std, ours):
        x, y = cls(1), cls(1, "x", [5])
        assert repr(x) == "C(a=1, b='x', c=[])"
        assert (x == y) is (opts.get("eq", True) or x is y)
        assert x != cls(2)
        assert [f.name for f in dataclasses.fields(cls)] == ["a", "b", "c"]
        assert dataclasses.replace(x, a=3).a == 3
        assert vars(cls)["__match_args__"] == ("a", "b", "c")
        with pytest.raises(TypeError):
            cls()
        with pytest.raises(TypeError):
            cls(1, "x", [], 4)
        with pytest.raises(TypeError):
            cls(1, d=2)
    s, o = std(1), ours(1)
    assert type(s).__hash__ is None or hash(s) == hash(o) or not opts.get("frozen")
    if opts.get("frozen"):
        assert hash(ours(1)) == hash(ours(1, "x", [9]))  # c is not compared, so not hashed
        with pytest.raises(dataclasses.FrozenInstanceError):
            o.a = 5
        with pytest.raises(dataclasses.FrozenInstanceError):
            del o.a
        assert copy.deepcopy(o) == o  # goes through __getstate__/__setstate__ when slotted
    elif opts.get("eq", True):
        assert ours.__hash__ is None  # eq without frozen: unhashable, like the stdlib
    else:
        assert hash(o) == object.__hash__(o)


def test_kw_only_default_factory_and_post_init() -> None:
    seen: list[int] = []

    @records.dataclass
    class Base:
        span: int

    @records.dataclass
    class Node(Base):
        kids: list[int] = dataclasses.field(default_factory=list)
        type: str | None = dataclasses.field(default=None, kw_only=True)

        def __post_init__(self) -> None:
            seen.append(self.span)

    n = Node(7, [1], type="int")
    assert (n.span, n.kids, n.type, seen) == (7, [1], "int", [7])
    assert Node(1).kids is not Node(1).kids
    with pytest.raises(TypeError):
        Node(1, [], "int")  # type: ignore[call-arg]  # kw_only stays keyword-only


def test_frozen_inheritance_rules() -> None:
    @records.dataclass(frozen=True)
    class F:
        a: int

    with pytest.raises(TypeError, match="non-frozen"):

        @records.dataclass
        class G(F):  # type: ignore[misc]  # the point: rejected at run time too
            b: int = 0

    @records.dataclass(frozen=True)
    class H(F):
        b: int = 0

    assert H(1, 2) == H(1, 2) and H(1, 2) != F(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        H(1).b = 3  # type: ignore[misc]


def test_stdlib_base_falls_back_to_stdlib() -> None:
    @dataclasses.dataclass(frozen=True)
    class Std:
        a: int

    @records.dataclass(frozen=True)
    class Mine(Std):
        b: int = 1

    assert Mine(1) == Mine(1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Mine(1).a = 2  # type: ignore[misc]
