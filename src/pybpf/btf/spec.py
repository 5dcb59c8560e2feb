"""A parsed BTF blob: types decoded lazily by id, names found through the string section."""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator

from pybpf.btf.index import BtfError, build_index, cached_index, parse_header
from pybpf.btf.types import (
    MODIFIERS,
    AnyType,
    Array,
    Composite,
    Datasec,
    DeclTag,
    Enum,
    EnumValue,
    Float,
    Func,
    FuncProto,
    Fwd,
    Int,
    IntEncoding,
    Kind,
    Linkage,
    Member,
    Param,
    Ref,
    Var,
    VarSecInfo,
    Void,
)
from pybpf.errors import PybpfError


class BtfNotFoundError(PybpfError, KeyError):
    """No type of that name (and kind) exists; a KeyError that prints as one line."""

    __str__ = Exception.__str__


class Spec:
    """The types of one BTF blob (kernel or object file). Type id 0 is ``void``."""

    def __init__(self, data: bytes, *, path: str = "<bytes>", _stat: os.stat_result | None = None):
        self.data = data
        self.path = path
        self.header = parse_header(data)
        if _stat is not None:
            self._offs, self._names = cached_index(path, _stat, data, self.header)
        else:
            self._offs, self._names = build_index(data, self.header)
        bo = self.header.byte_order
        self._u32x3 = struct.Struct(f"{bo}III").unpack_from
        self._u32x2 = struct.Struct(f"{bo}II").unpack_from
        self._bo = bo
        s0 = self.header.strings_start
        self._strings = data[s0 : s0 + self.header.str_len]
        self._cache: dict[int, AnyType] = {}
        self._names_bytes: bytes | None = None

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike[str], cache: bool = True) -> Spec:
        """Parse a raw BTF file (like /sys/kernel/btf/vmlinux); the index may be cached."""
        p = os.fspath(path)
        try:
            with open(p, "rb") as f:
                st = os.fstat(f.fileno())
                data = f.read()
        except OSError as e:
            raise BtfError(f"{p}: {e.strerror}") from None
        if data[:4] == b"\x7fELF":
            return cls.from_elf(p)
        if data[:2] not in (b"\x9f\xeb", b"\xeb\x9f"):
            raise BtfError(f"{p}: not a BTF or ELF file")
        try:
            return cls(data, path=p, _stat=st if cache else None)
        except BtfError as e:
            raise e.with_context(p) from None

    @classmethod
    def from_elf(cls, path: str | os.PathLike[str]) -> Spec:
        """Parse the ``.BTF`` section of an ELF object file."""
        from pybpf.elf.reader import ElfFile

        p = os.fspath(path)
        with ElfFile(p) as elf:
            sec = elf.section(".BTF")
            if sec is None:
                raise BtfError(f"{p}: no .BTF section")
            data = elf.section_data(sec)
        try:
            return cls(data, path=p)
        except BtfError as e:
            raise e.with_context(p) from None

    # -- basic access ---------------------------------------------------------------------
    def __len__(self) -> int:
        """Number of type ids, counting ``void``."""
        return len(self._offs) + 1

    def string(self, off: int) -> str:
        """The string at offset ``off`` of the string section."""
        end = self._strings.find(b"\0", off)
        if end < 0 or off >= len(self._strings):
            raise BtfError(f"corrupt BTF: string offset {off} out of range")
        return self._strings[off:end].decode("utf-8", "replace")

    def _check(self, tid: int) -> None:
        if not 0 <= tid <= len(self._offs):
            raise BtfNotFoundError(f"BTF type id {tid} out of range (0..{len(self._offs)})")

    def kind(self, tid: int) -> Kind:
        """The kind of type ``tid`` without decoding it."""
        self._check(tid)
        if tid == 0:
            return Kind.UNKN
        _n, info = self._u32x2(self.data, self._offs[tid - 1])
        return Kind((info >> 24) & 0x1F)

    def name(self, tid: int) -> str:
        """The name of type ``tid`` ("" when anonymous)."""
        self._check(tid)
        return self.string(self._names[tid - 1]) if tid else "void"

    def type(self, tid: int) -> AnyType:
        """The decoded type ``tid`` (decoded once, then cached)."""
        t = self._cache.get(tid)
        if t is None:
            self._check(tid)
            try:
                t = self._decode(tid) if tid else Void(0, "void", Kind.UNKN)
            except (struct.error, ValueError) as e:
                raise BtfError(f"corrupt BTF: type id {tid}: {e}") from None
            self._cache[tid] = t
        return t

    def __iter__(self) -> Iterator[AnyType]:
        """Every type from id 1 on."""
        for tid in range(1, len(self)):
            yield self.type(tid)

    # -- decoding -------------------------------------------------------------------------
    def _decode(self, tid: int) -> AnyType:
        data, bo = self.data, self._bo
        off = self._offs[tid - 1]
        name_off, info, st = self._u32x3(data, off)
        name = self.string(name_off)
        kind = Kind((info >> 24) & 0x1F)
        vlen, kflag = info & 0xFFFF, info >> 31
        p = off + 12
        if kind == Kind.INT:
            (enc,) = struct.unpack_from(f"{bo}I", data, p)
            return Int(
                tid, name, kind, st, IntEncoding((enc >> 24) & 0xF), enc & 0xFF, (enc >> 16) & 0xFF
            )
        if kind in (Kind.PTR, *MODIFIERS):
            return Ref(tid, name, kind, st)
        if kind == Kind.ARRAY:
            elem, index, n = self._u32x3(data, p)
            return Array(tid, name, kind, elem, index, n)
        if kind in (Kind.STRUCT, Kind.UNION):
            return Composite(tid, name, kind, st, self._members(p, vlen, kflag))
        if kind in (Kind.ENUM, Kind.ENUM64):
            return Enum(tid, name, kind, st, self._enumerators(p, vlen, kind, kflag), bool(kflag))
        if kind == Kind.FWD:
            return Fwd(tid, name, kind, bool(kflag))
        if kind == Kind.FUNC:
            return Func(tid, name, kind, st, Linkage(vlen) if vlen < 3 else Linkage.STATIC)
        if kind == Kind.FUNC_PROTO:
            params = tuple(
                Param(self.string(n), t)
                for n, t in struct.iter_unpack(f"{bo}II", data[p : p + 8 * vlen])
            )
            return FuncProto(tid, name, kind, st, params)
        if kind == Kind.VAR:
            (linkage,) = struct.unpack_from(f"{bo}I", data, p)
            return Var(tid, name, kind, st, Linkage(linkage) if linkage < 3 else Linkage.STATIC)
        if kind == Kind.DATASEC:
            secinfo = tuple(
                VarSecInfo(*v) for v in struct.iter_unpack(f"{bo}III", data[p : p + 12 * vlen])
            )
            return Datasec(tid, name, kind, st, secinfo)
        if kind == Kind.FLOAT:
            return Float(tid, name, kind, st)
        if kind == Kind.DECL_TAG:
            (comp,) = struct.unpack_from(f"{bo}i", data, p)
            return DeclTag(tid, name, kind, st, comp)
        raise BtfError(f"corrupt BTF: type id {tid} has unknown kind {kind}")

    def _members(self, p: int, vlen: int, kflag: int) -> tuple[Member, ...]:
        out = []
        for n, t, o in struct.iter_unpack(f"{self._bo}III", self.data[p : p + 12 * vlen]):
            if kflag:
                out.append(Member(self.string(n), t, o & 0xFFFFFF, o >> 24))
            else:
                out.append(Member(self.string(n), t, o))
        return tuple(out)

    def _enumerators(self, p: int, vlen: int, kind: Kind, kflag: int) -> tuple[EnumValue, ...]:
        bo = self._bo
        if kind == Kind.ENUM:
            fmt = f"{bo}Ii" if kflag else f"{bo}II"
            raw = struct.iter_unpack(fmt, self.data[p : p + 8 * vlen])
            return tuple(EnumValue(self.string(n), v) for n, v in raw)
        out = []
        for n, lo, hi in struct.iter_unpack(f"{bo}III", self.data[p : p + 12 * vlen]):
            v = (hi << 32) | lo
            if kflag and v >= 1 << 63:
                v -= 1 << 64
            out.append(EnumValue(self.string(n), v))
        return tuple(out)

    # -- names ----------------------------------------------------------------------------
    def find_all(self, name: str, kind: Kind | None = None) -> list[int]:
        """Ids of every type called ``name`` (of ``kind`` if given), in id order."""
        key = name.encode()
        if not key or b"\0" in key:
            return []
        needle, strings = b"\0" + key + b"\0", self._strings
        if self._names_bytes is None:
            self._names_bytes = self._names.tobytes()
        nb = self._names_bytes
        ids: list[int] = []
        pos = strings.find(needle)
        while pos >= 0:
            # Search the name-offset column as bytes: bytes.find runs at memchr speed, while
            # array.index would box every element. Hits must be 4-byte aligned.
            pat = (pos + 1).to_bytes(4, sys.byteorder)
            i = nb.find(pat)
            while i >= 0:
                if i % 4 == 0:
                    ids.append(i // 4 + 1)
                i = nb.find(pat, i + 1)
            pos = strings.find(needle, pos + 1)
        ids.sort()
        if kind is not None:
            ids = [t for t in ids if self.kind(t) == kind]
        return ids

    def find(self, name: str, kind: Kind | None = None) -> int:
        """The id of the type called ``name``; definitions win over forward declarations.

        Raises ``BtfNotFoundError`` (a ``KeyError``) when there is none.
        """
        ids = self.find_all(name, kind)
        if not ids:
            what = f"{kind.name.lower()} " if kind is not None else ""
            raise BtfNotFoundError(f"no BTF type {what}'{name}' in {self.path}")
        for tid in ids:
            if self.kind(tid) not in (Kind.FWD, Kind.DECL_TAG):
                return tid
        return ids[0]

    def names(self) -> Iterator[tuple[int, str]]:
        """(id, name) of every named type."""
        for i, off in enumerate(self._names):
            if off:
                yield i + 1, self.string(off)

    # -- type algebra ---------------------------------------------------------------------
    def resolve(self, tid: int) -> int:
        """Follow typedef/const/volatile/restrict/type_tag to the underlying type id."""
        for _ in range(64):
            t = self.type(tid)
            if t.kind not in MODIFIERS:
                return tid
            assert isinstance(t, Ref)
            tid = t.type
        raise BtfError(f"corrupt BTF: modifier loop at type id {tid}")

    def size_of(self, tid: int, _depth: int = 0) -> int:
        """Size in bytes of type ``tid`` (pointers are 8 bytes; functions and void 0)."""
        if _depth > 64:
            raise BtfError(f"corrupt BTF: array type {tid} nests too deeply")
        t = self.type(self.resolve(tid))
        if isinstance(t, Int | Float | Composite | Enum | Datasec):
            return t.size
        if t.kind == Kind.PTR:
            return 8
        if isinstance(t, Array):
            return t.nelems * self.size_of(t.type, _depth + 1)
        return 0

    def func_proto(self, name: str) -> FuncProto:
        """The prototype of function ``name``."""
        func = self.type(self.find(name, Kind.FUNC))
        assert isinstance(func, Func)
        proto = self.type(func.type)
        if not isinstance(proto, FuncProto):
            raise BtfError(f"corrupt BTF: function '{name}' has no prototype")
        return proto

    def members(self, tid: int) -> tuple[Member, ...]:
        """The members of the struct or union ``tid`` (resolving typedefs)."""
        t = self.type(self.resolve(tid))
        if not isinstance(t, Composite):
            raise BtfError(f"BTF type {self.name(tid) or tid} is not a struct or union")
        return t.members

    def member(self, tid: int, path: str) -> tuple[Member, int]:
        """Find member ``a.b.c`` of struct ``tid``, looking through anonymous members.

        Returns the innermost member and its bit offset from the start of ``tid``.
        """
        bit = 0
        found: Member | None = None
        for part in path.split("."):
            hit = self._find_member(tid, part)
            if hit is None:
                raise BtfNotFoundError(
                    f"{self.name(tid) or 'anonymous type'} has no member '{part}'"
                )
            found, off = hit
            bit += off
            tid = found.type
        assert found is not None
        return found, bit

    def _find_member(self, tid: int, name: str, depth: int = 0) -> tuple[Member, int] | None:
        if depth > 64:
            raise BtfError(f"corrupt BTF: type {tid} nests too deeply")
        for m in self.members(tid):
            if m.name == name:
                return m, m.bit_offset
        for m in self.members(tid):
            if not m.name and isinstance(self.type(self.resolve(m.type)), Composite):
                hit = self._find_member(m.type, name, depth + 1)
                if hit is not None:
                    return hit[0], m.bit_offset + hit[1]
        return None


__all__ = ["BtfNotFoundError", "Spec"]
