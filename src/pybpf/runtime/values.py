"""Decoding typed bytes (event payloads, map keys and values) into Python values.

Integers become ``int`` (signed per type), strings ``str`` (up to the first NUL; bytes that
are not UTF-8 are kept as ``\\xNN`` escapes), tuples and records the output layer's ``Tuple``
(records with names), buffers ``bytes``. Anything else that is stored as a u64 (stack ids, symbols,
opaque ids) decodes to ``int``; the output layer knows how to render it.
"""

from __future__ import annotations

import struct

from pybpf.output.values import Record, format_pointer
from pybpf.output.values import Tuple as OTuple
from pybpf.passes.types import (
    ArrayType,
    BoolType,
    BufferType,
    EnumType,
    InetType,
    IntType,
    MacAddrType,
    PointerType,
    RecordType,
    StringType,
    StructType,
    TimestampType,
    TupleType,
    Type,
    is_signed,
)

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_INT = {
    (1, False): struct.Struct("<B"),
    (1, True): struct.Struct("<b"),
    (2, False): struct.Struct("<H"),
    (2, True): struct.Struct("<h"),
    (4, False): struct.Struct("<I"),
    (4, True): struct.Struct("<i"),
    (8, False): struct.Struct("<Q"),
    (8, True): struct.Struct("<q"),
}


def decode_int(buf: bytes | memoryview, offset: int, size: int, signed: bool) -> int:
    """A little-endian integer of ``size`` bytes."""
    return int(_INT[size, signed].unpack_from(buf, offset)[0])


def decode_str(raw: bytes | memoryview) -> str:
    """Bytes up to the first NUL as text; bytes that are not UTF-8 survive as surrogate
    escapes (:func:`pybpf.output.values.decode_cstr`), so they print as those bytes."""
    b = bytes(raw)
    nul = b.find(b"\0")
    if nul >= 0:
        b = b[:nul]
    return b.decode("utf-8", "surrogateescape")


def decode_value(t: Type, buf: bytes | memoryview, offset: int = 0) -> Any:
    """The Python value of type ``t`` stored at ``buf[offset:]``."""
    if isinstance(t, IntType | EnumType):
        return decode_int(buf, offset, t.size, t.signed)
    if isinstance(t, BoolType):
        return bool(buf[offset])
    if isinstance(t, StringType):
        return decode_str(buf[offset : offset + t.length])
    if isinstance(t, BufferType):
        n = decode_int(buf, offset, 4, False)
        return bytes(buf[offset + 4 : offset + 4 + min(n, t.length)])
    if isinstance(t, RecordType):
        offs = t.offsets()
        items = tuple(
            decode_value(et, buf, offset + o) for et, o in zip(t.elems, offs, strict=True)
        )
        return OTuple(items, tuple(t.names))
    if isinstance(t, TupleType):
        offs = t.offsets()
        return OTuple(
            tuple(decode_value(et, buf, offset + o) for et, o in zip(t.elems, offs, strict=True))
        )
    if isinstance(t, MacAddrType):
        return bytes(buf[offset : offset + 6])
    if isinstance(t, InetType):
        fam = decode_int(buf, offset, 8, False)
        return fam, bytes(buf[offset + 8 : offset + 24])
    if isinstance(t, TimestampType):
        return decode_int(buf, offset, 8, False), decode_int(buf, offset + 8, 8, False)
    if isinstance(t, ArrayType):
        es = t.elem.size
        return [decode_value(t.elem, buf, offset + i * es) for i in range(t.count)]
    if isinstance(t, StructType) and t.fields:
        return Record(tuple(_struct_fields(t, buf, offset)))
    if t.size in (1, 2, 4, 8):
        return decode_int(buf, offset, t.size, False)
    return bytes(buf[offset : offset + t.size])


def _struct_fields(t: StructType, buf: bytes | memoryview, offset: int) -> list[tuple[str, Any]]:
    """A C struct's members as ``(name, value)``: anonymous members' fields inline,
    bitfields shifted out, pointers shown as ``0x...``."""
    out: list[tuple[str, Any]] = []
    for f in t.fields:
        at = offset + f.offset
        if not f.name and isinstance(f.type, StructType):
            out.extend(_struct_fields(f.type, buf, at))
        elif f.bit_size:
            n = (f.bit_offset + f.bit_size + 7) // 8
            v = (int.from_bytes(bytes(buf[at : at + n]), "little") >> f.bit_offset) & (
                (1 << f.bit_size) - 1
            )
            if is_signed(f.type) and v >> (f.bit_size - 1):
                v -= 1 << f.bit_size
            out.append((f.name, v))
        elif isinstance(f.type, PointerType):
            out.append((f.name, format_pointer(decode_int(buf, at, 8, False))))
        else:
            out.append((f.name, decode_value(f.type, buf, at)))
    return out


__all__ = ["decode_int", "decode_str", "decode_value"]
