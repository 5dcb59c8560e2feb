"""BTF's numbers: kinds, int encodings, linkage, the header magic and per-kind record sizes.

Apart from :mod:`pybpf.btf.types` (the decoded records) so that writing a small BTF (the
func/line info every tracer program is loaded with) needs no record classes: those are
NamedTuples, whose creation costs ~8 ms at import.
"""

from __future__ import annotations

import enum

BTF_MAGIC = 0xEB9F


class Kind(enum.IntEnum):
    """BTF_KIND_*."""

    UNKN = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


class IntEncoding(enum.IntFlag):
    """BTF_INT_* encoding bits."""

    NONE = 0
    SIGNED = 1
    CHAR = 2
    BOOL = 4


class Linkage(enum.IntEnum):
    """Linkage of a FUNC (static/global/extern) or VAR (static/global/extern)."""

    STATIC = 0
    GLOBAL = 1
    EXTERN = 2


# Extra bytes after the 12-byte common header: fixed part, and per-vlen-entry part.
EXTRA_FIXED = {Kind.INT: 4, Kind.ARRAY: 12, Kind.VAR: 4, Kind.DECL_TAG: 4}
EXTRA_PER_VLEN = {
    Kind.STRUCT: 12,
    Kind.UNION: 12,
    Kind.ENUM: 8,
    Kind.FUNC_PROTO: 8,
    Kind.DATASEC: 12,
    Kind.ENUM64: 12,
}
# Kinds whose third header word is a type id (not a size).
REF_KINDS = frozenset(
    {
        Kind.PTR,
        Kind.TYPEDEF,
        Kind.VOLATILE,
        Kind.CONST,
        Kind.RESTRICT,
        Kind.FUNC,
        Kind.FUNC_PROTO,
        Kind.VAR,
        Kind.DECL_TAG,
        Kind.TYPE_TAG,
    }
)
MODIFIERS = frozenset({Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.TYPE_TAG})


__all__ = [
    "BTF_MAGIC",
    "EXTRA_FIXED",
    "EXTRA_PER_VLEN",
    "MODIFIERS",
    "REF_KINDS",
    "IntEncoding",
    "Kind",
    "Linkage",
]
