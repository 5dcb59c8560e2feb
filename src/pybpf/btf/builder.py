"""Writing BTF: a builder of types and strings, and func_info/line_info records.

The loader gives the bytes of :meth:`BtfBuilder.encode` to ``BPF_BTF_LOAD``; the returned
fd then goes to ``BPF_PROG_LOAD`` with :func:`encode_func_info` / :func:`encode_line_info`
arrays (record sizes :data:`FUNC_INFO_SIZE`, :data:`LINE_INFO_SIZE`; ``insn_off`` counts
instructions). Ids are handed out in order from 1, as the kernel numbers them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from pybpf.btf.kinds import BTF_MAGIC, IntEncoding, Kind, Linkage
from pybpf.errors import UsageError
from pybpf.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pybpf.btf.types import AnyType, Enum

FUNC_INFO_SIZE = 8
LINE_INFO_SIZE = 16
_HDR_LEN = 24


class BtfBuildError(UsageError):
    """A type cannot be encoded (bad size, bit offset out of range, unknown id...)."""


def _info(kind: Kind, vlen: int = 0, kflag: bool = False) -> int:
    if not 0 <= vlen <= 0xFFFF:
        raise BtfBuildError(f"BTF {kind.name.lower()}: too many members ({vlen})")
    return (int(kflag) << 31) | (int(kind) << 24) | vlen


class BtfBuilder:
    """Accumulates types and strings; :meth:`encode` returns the BTF blob."""

    def __init__(self) -> None:
        self._types: list[bytes] = []
        self._strings = bytearray(b"\0")
        self._str_index: dict[str, int] = {"": 0}

    def __len__(self) -> int:
        """Number of types added (ids run 1..len)."""
        return len(self._types)

    def add_string(self, s: str) -> int:
        """Offset of ``s`` in the string section, adding it once."""
        off = self._str_index.get(s)
        if off is None:
            if "\0" in s:
                raise BtfBuildError("BTF strings cannot contain NUL")
            off = len(self._strings)
            self._strings += s.encode() + b"\0"
            self._str_index[s] = off
        return off

    def _add(self, name: str, info: int, size_or_type: int, extra: bytes = b"") -> int:
        if not 0 <= size_or_type <= 0xFFFFFFFF:
            raise BtfBuildError(f"BTF type '{name}': size or type id {size_or_type} out of range")
        self._types.append(struct.pack("<III", self.add_string(name), info, size_or_type) + extra)
        return len(self._types)

    # -- kinds ----------------------------------------------------------------------------
    def add_int(
        self, name: str, size: int, signed: bool = False, bits: int | None = None,
        encoding: IntEncoding | None = None, bit_offset: int = 0,
    ) -> int:  # fmt: skip
        """An integer type; ``encoding`` overrides ``signed`` (CHAR, BOOL)."""
        if size not in (1, 2, 4, 8, 16):
            raise BtfBuildError(f"BTF int '{name}': bad size {size}")
        nbits = 8 * size if bits is None else bits
        enc = (
            encoding
            if encoding is not None
            else (IntEncoding.SIGNED if signed else IntEncoding.NONE)
        )
        word = (int(enc) << 24) | (bit_offset << 16) | nbits
        return self._add(name, _info(Kind.INT), size, struct.pack("<I", word))

    def add_float(self, name: str, size: int) -> int:
        """A floating-point type."""
        return self._add(name, _info(Kind.FLOAT), size)

    def _ref(self, kind: Kind, target: int, name: str = "") -> int:
        return self._add(name, _info(kind), target)

    def add_ptr(self, target: int) -> int:
        """A pointer to ``target``."""
        return self._ref(Kind.PTR, target)

    def add_typedef(self, name: str, target: int) -> int:
        """``typedef target name``."""
        return self._ref(Kind.TYPEDEF, target, name)

    def add_const(self, target: int) -> int:
        """``const target``."""
        return self._ref(Kind.CONST, target)

    def add_volatile(self, target: int) -> int:
        """``volatile target``."""
        return self._ref(Kind.VOLATILE, target)

    def add_restrict(self, target: int) -> int:
        """``restrict target``."""
        return self._ref(Kind.RESTRICT, target)

    def add_type_tag(self, name: str, target: int) -> int:
        """A type tag (``__user``, ``__rcu``...) on ``target``."""
        return self._ref(Kind.TYPE_TAG, target, name)

    def add_array(self, elem: int, index_type: int, nelems: int) -> int:
        """``elem[nelems]``; ``index_type`` should be an int type."""
        return self._add("", _info(Kind.ARRAY), 0, struct.pack("<III", elem, index_type, nelems))

    def add_struct(
        self, name: str, size: int, members: Sequence[tuple[str, int, int] | tuple[str, int, int, int]],
        union: bool = False,
    ) -> int:  # fmt: skip
        """A struct (or union): members are (name, type, bit offset[, bitfield size])."""
        kflag = any(len(m) > 3 and m[3] for m in members)
        body = bytearray()
        for m in members:
            mname, mtype, bit_off = m[0], m[1], m[2]
            bf = m[3] if len(m) > 3 else 0
            if kflag:
                if bit_off >= 1 << 24 or bf >= 256:
                    raise BtfBuildError(
                        f"BTF struct '{name}': member '{mname}' bitfield out of range"
                    )
                bit_off |= bf << 24
            body += struct.pack("<III", self.add_string(mname), mtype, bit_off)
        kind = Kind.UNION if union else Kind.STRUCT
        return self._add(name, _info(kind, len(members), kflag), size, bytes(body))

    def add_union(self, name: str, size: int, members: Sequence[tuple[str, int, int]]) -> int:
        """A union: members are (name, type, bit offset)."""
        return self.add_struct(name, size, members, union=True)

    def add_enum(
        self,
        name: str,
        values: Sequence[tuple[str, int]],
        size: int = 4,
        signed: bool | None = None,
    ) -> int:
        """An enum; 8-byte enums are written as ENUM64. ``signed`` defaults to any value < 0."""
        sgn = any(v < 0 for _, v in values) if signed is None else signed
        body = bytearray()
        if size == 8:
            for n, v in values:
                u = v & 0xFFFFFFFFFFFFFFFF
                body += struct.pack("<III", self.add_string(n), u & 0xFFFFFFFF, u >> 32)
            return self._add(name, _info(Kind.ENUM64, len(values), sgn), size, bytes(body))
        for n, v in values:
            if not -(1 << 31) <= v < 1 << 32:
                raise BtfBuildError(f"BTF enum '{name}': value {v} needs an 8-byte enum")
            body += struct.pack("<II", self.add_string(n), v & 0xFFFFFFFF)
        return self._add(name, _info(Kind.ENUM, len(values), sgn), size, bytes(body))

    def add_fwd(self, name: str, union: bool = False) -> int:
        """A forward declaration."""
        return self._add(name, _info(Kind.FWD, 0, union), 0)

    def add_func_proto(
        self, ret: int, params: Sequence[tuple[str, int]], variadic: bool = False
    ) -> int:
        """A prototype: return type id and (name, type) parameters."""
        plist = [*params, ("", 0)] if variadic else list(params)
        body = b"".join(struct.pack("<II", self.add_string(n), t) for n, t in plist)
        return self._add("", _info(Kind.FUNC_PROTO, len(plist)), ret, body)

    def add_func(self, name: str, proto: int, linkage: Linkage = Linkage.STATIC) -> int:
        """A function ``name`` with prototype ``proto`` (what func_info records point at)."""
        return self._add(name, _info(Kind.FUNC, int(linkage)), proto)

    def add_var(self, name: str, target: int, linkage: Linkage = Linkage.GLOBAL) -> int:
        """A variable (for a DATASEC)."""
        return self._add(name, _info(Kind.VAR), target, struct.pack("<I", int(linkage)))

    def add_datasec(self, name: str, size: int, vars: Sequence[tuple[int, int, int]]) -> int:
        """A data section: (var id, offset, size) entries."""
        body = b"".join(struct.pack("<III", *v) for v in vars)
        return self._add(name, _info(Kind.DATASEC, len(vars)), size, body)

    def add_decl_tag(self, name: str, target: int, component_idx: int = -1) -> int:
        """A declaration tag on ``target`` (or on its member/param ``component_idx``)."""
        return self._add(name, _info(Kind.DECL_TAG), target, struct.pack("<i", component_idx))

    def add(self, t: AnyType) -> int:
        """Encode a decoded type record as the next id (references are kept as they are)."""
        # The record classes only here: building from numbers (add_int...) needs none of them.
        from pybpf.btf.types import (
            Array,
            Composite,
            Datasec,
            DeclTag,
            Enum,
            Float,
            Func,
            FuncProto,
            Fwd,
            Int,
            Ref,
            Var,
        )

        if isinstance(t, Int):
            return self.add_int(
                t.name, t.size, bits=t.bits, encoding=t.encoding, bit_offset=t.bit_offset
            )
        if isinstance(t, Ref):
            return self._ref(t.kind, t.type, t.name)
        if isinstance(t, Array):
            return self.add_array(t.type, t.index_type, t.nelems)
        if isinstance(t, Composite):
            mem = [(m.name, m.type, m.bit_offset, m.bitfield_size) for m in t.members]
            return self.add_struct(t.name, t.size, mem, union=t.is_union)
        if isinstance(t, Enum):
            return self._add_enum_exact(t)
        if isinstance(t, Fwd):
            return self.add_fwd(t.name, t.union)
        if isinstance(t, Func):
            return self.add_func(t.name, t.type, t.linkage)
        if isinstance(t, FuncProto):
            return self.add_func_proto(t.type, [(p.name, p.type) for p in t.params])
        if isinstance(t, Var):
            return self.add_var(t.name, t.type, t.linkage)
        if isinstance(t, Datasec):
            return self.add_datasec(t.name, t.size, [(v.type, v.offset, v.size) for v in t.vars])
        if isinstance(t, Float):
            return self.add_float(t.name, t.size)
        if isinstance(t, DeclTag):
            return self.add_decl_tag(t.name, t.type, t.component_idx)
        raise BtfBuildError(f"cannot encode BTF kind {t.kind.name}")

    def _add_enum_exact(self, t: Enum) -> int:
        # Keep the kind (ENUM vs ENUM64) and size exactly as decoded.
        if t.kind == Kind.ENUM64:
            body = b"".join(
                struct.pack("<III", self.add_string(v.name), v.value & 0xFFFFFFFF,
                            (v.value >> 32) & 0xFFFFFFFF)
                for v in t.values
            )  # fmt: skip
        else:
            body = b"".join(
                struct.pack("<II", self.add_string(v.name), v.value & 0xFFFFFFFF) for v in t.values
            )
        return self._add(t.name, _info(t.kind, len(t.values), t.signed), t.size, body)

    def extend(self, types: Iterable[AnyType]) -> None:
        """Add many decoded types in order."""
        for t in types:
            self.add(t)

    def encode(self) -> bytes:
        """The BTF blob: header, type section, string section."""
        types = b"".join(self._types)
        strings = bytes(self._strings)
        hdr = struct.pack(
            "<HBBIIIII", BTF_MAGIC, 1, 0, _HDR_LEN, 0, len(types), len(types), len(strings)
        )
        return hdr + types + strings


@dataclass(frozen=True)
class FuncInfo:
    """``struct bpf_func_info``: the function starting at instruction ``insn_off``."""

    insn_off: int
    type_id: int


@dataclass(frozen=True)
class LineInfo:
    """``struct bpf_line_info``: source position of instruction ``insn_off``.

    ``file_name_off`` and ``line_off`` are string offsets in the program's BTF.
    """

    insn_off: int
    file_name_off: int
    line_off: int
    line: int
    col: int

    @classmethod
    def make(
        cls, builder: BtfBuilder, insn_off: int, file: str, text: str, line: int, col: int
    ) -> LineInfo:
        """A record whose file name and source text are added to ``builder``'s strings."""
        return cls(insn_off, builder.add_string(file), builder.add_string(text), line, col)


def encode_func_info(records: Sequence[FuncInfo]) -> bytes:
    """The func_info array for BPF_PROG_LOAD (record size :data:`FUNC_INFO_SIZE`)."""
    return b"".join(struct.pack("<II", r.insn_off, r.type_id) for r in records)


def encode_line_info(records: Sequence[LineInfo]) -> bytes:
    """The line_info array for BPF_PROG_LOAD (record size :data:`LINE_INFO_SIZE`)."""
    out = bytearray()
    for r in records:
        if r.col >= 1 << 10 or r.line >= 1 << 22:
            raise BtfBuildError(f"line info {r.line}:{r.col} out of range")
        out += struct.pack("<IIII", r.insn_off, r.file_name_off, r.line_off, (r.line << 10) | r.col)
    return bytes(out)


def decode_line_info(blob: bytes) -> list[LineInfo]:
    """Inverse of :func:`encode_line_info` (for tests and ``prog show``)."""
    return [
        LineInfo(i, f, ln, lc >> 10, lc & 0x3FF)
        for i, f, ln, lc in struct.iter_unpack("<IIII", blob)
    ]


def decode_func_info(blob: bytes) -> list[FuncInfo]:
    """Inverse of :func:`encode_func_info`."""
    return [FuncInfo(i, t) for i, t in struct.iter_unpack("<II", blob)]


__all__ = [
    "FUNC_INFO_SIZE",
    "LINE_INFO_SIZE",
    "BtfBuildError",
    "BtfBuilder",
    "FuncInfo",
    "LineInfo",
    "decode_func_info",
    "decode_line_info",
    "encode_func_info",
    "encode_line_info",
]
