"""BTF type records as plain data: one immutable record (a NamedTuple) per kind.

Ids are the BTF type ids (0 is ``void``). References to other types are ids, not objects:
the records stay small and a spec decodes only what is asked for. NamedTuples rather than
frozen dataclasses because creating twenty dataclasses costs tens of milliseconds at import,
and ``pybpf btf dump`` is meant to start fast. Every record starts with (id, name, kind).
"""

from __future__ import annotations

from typing import NamedTuple

# The numbers live in pybpf.btf.kinds (see there); re-exported beside the records.
from pybpf.btf.kinds import (
    EXTRA_FIXED,
    EXTRA_PER_VLEN,
    MODIFIERS,
    REF_KINDS,
    IntEncoding,
    Kind,
    Linkage,
)


class Void(NamedTuple):
    """Type id 0."""

    id: int
    name: str
    kind: Kind


class Int(NamedTuple):
    """An integer (or char/bool) of ``size`` bytes; ``bits`` may be narrower."""

    id: int
    name: str
    kind: Kind
    size: int
    encoding: IntEncoding
    bits: int
    bit_offset: int = 0

    @property
    def signed(self) -> bool:
        """True for signed integers."""
        return bool(self.encoding & IntEncoding.SIGNED)


class Float(NamedTuple):
    """A floating-point type."""

    id: int
    name: str
    kind: Kind
    size: int


class Ref(NamedTuple):
    """PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: a name (maybe) over another type."""

    id: int
    name: str
    kind: Kind
    type: int


class Array(NamedTuple):
    """``elem[nelems]``; ``index_type`` is the (int) type of the index."""

    id: int
    name: str
    kind: Kind
    type: int
    index_type: int
    nelems: int


class Member(NamedTuple):
    """A struct/union member; ``bitfield_size`` is 0 for ordinary members."""

    name: str
    type: int
    bit_offset: int
    bitfield_size: int = 0

    @property
    def offset(self) -> int:
        """Byte offset (of the byte holding the first bit, for bitfields)."""
        return self.bit_offset // 8


class Composite(NamedTuple):
    """STRUCT or UNION."""

    id: int
    name: str
    kind: Kind
    size: int
    members: tuple[Member, ...] = ()

    @property
    def is_union(self) -> bool:
        """True for a union."""
        return self.kind == Kind.UNION


class EnumValue(NamedTuple):
    """One enumerator."""

    name: str
    value: int


class Enum(NamedTuple):
    """ENUM (32-bit values) or ENUM64; ``signed`` comes from kind_flag."""

    id: int
    name: str
    kind: Kind
    size: int
    values: tuple[EnumValue, ...] = ()
    signed: bool = False


class Fwd(NamedTuple):
    """A forward declaration of a struct (or union)."""

    id: int
    name: str
    kind: Kind
    union: bool = False


class Func(NamedTuple):
    """A function: its name and prototype (a FUNC_PROTO id)."""

    id: int
    name: str
    kind: Kind
    type: int
    linkage: Linkage = Linkage.STATIC


class Param(NamedTuple):
    """One function parameter (unnamed in a bare prototype); type 0 in last place = ``...``."""

    name: str
    type: int


class FuncProto(NamedTuple):
    """A function prototype: return type id and parameters."""

    id: int
    name: str
    kind: Kind
    type: int
    params: tuple[Param, ...] = ()

    @property
    def variadic(self) -> bool:
        """True when the last parameter is ``...``."""
        return bool(self.params) and self.params[-1].type == 0 and not self.params[-1].name


class Var(NamedTuple):
    """A global or static variable."""

    id: int
    name: str
    kind: Kind
    type: int
    linkage: Linkage = Linkage.STATIC


class VarSecInfo(NamedTuple):
    """One variable of a DATASEC: its VAR id, offset and size in the section."""

    type: int
    offset: int
    size: int


class Datasec(NamedTuple):
    """A data section (.data, .bss, .rodata, .maps ...)."""

    id: int
    name: str
    kind: Kind
    size: int
    vars: tuple[VarSecInfo, ...] = ()


class DeclTag(NamedTuple):
    """A tag on a declaration; ``component_idx`` -1 means the type itself."""

    id: int
    name: str
    kind: Kind
    type: int
    component_idx: int = -1


AnyType = (
    Void
    | Int
    | Float
    | Ref
    | Array
    | Composite
    | Enum
    | Fwd
    | Func
    | FuncProto
    | Var
    | Datasec
    | DeclTag
)
Type = AnyType  # any decoded record; all of them start with (id, name, kind)

__all__ = [
    "EXTRA_FIXED",
    "EXTRA_PER_VLEN",
    "MODIFIERS",
    "REF_KINDS",
    "AnyType",
    "Array",
    "Composite",
    "Datasec",
    "DeclTag",
    "Enum",
    "EnumValue",
    "Float",
    "Func",
    "FuncProto",
    "Fwd",
    "Int",
    "IntEncoding",
    "Kind",
    "Linkage",
    "Member",
    "Param",
    "Ref",
    "Type",
    "Var",
    "VarSecInfo",
    "Void",
]
