"""DWARF debug info of user binaries: function parameters and the C types they use.

What uprobe ``args`` needs, read with pyelftools: the ``DW_TAG_subprogram`` of a function,
its ``DW_TAG_formal_parameter`` children and their types (base types, pointers, structs
with members, arrays, typedefs, qualifiers), converted to small :class:`DwType` values.

Debug info is found where the dynamic linker's debuggers look: in the file itself, else
by build id (``/usr/lib/debug/.build-id/ab/cdef….debug``), else by ``.gnu_debuglink``.
Functions are located by address first (the symbol's value through ``.debug_aranges``, so
only one compile unit is read: libc's debug file has ~2000), then by name in that unit,
like bpftrace (which matches DIE names: an alias such as ``fopen`` = ``_IO_new_fopen`` has
no parameters there either; C++ functions are also found by their mangled linkage name).
:meth:`DebugInfo.struct` finds a struct by name for casts in uprobes.  :func:`debug_info`
caches one parsed file per (path, inode, size, mtime).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pybpf.records import dataclass

if TYPE_CHECKING:
    from elftools.dwarf.die import DIE
    from elftools.dwarf.dwarfinfo import DWARFInfo

DEBUG_ROOT = "/usr/lib/debug"
"""Where distributions install separate debug files (``-dbg``/``-dbgsym`` packages)."""

# DW_ATE_* encodings of base types.
ATE_BOOLEAN = 0x02
ATE_FLOAT = 0x04
ATE_SIGNED = 0x05
ATE_SIGNED_CHAR = 0x06
ATE_UNSIGNED = 0x07
ATE_UNSIGNED_CHAR = 0x08

_TAGS = {
    "DW_TAG_base_type": "base", "DW_TAG_pointer_type": "pointer",
    "DW_TAG_reference_type": "pointer", "DW_TAG_rvalue_reference_type": "pointer",
    "DW_TAG_structure_type": "struct", "DW_TAG_class_type": "struct",
    "DW_TAG_union_type": "union", "DW_TAG_enumeration_type": "enum",
    "DW_TAG_array_type": "array", "DW_TAG_typedef": "typedef", "DW_TAG_const_type": "const",
    "DW_TAG_volatile_type": "volatile", "DW_TAG_restrict_type": "restrict",
    "DW_TAG_atomic_type": "atomic", "DW_TAG_subroutine_type": "func",
}  # fmt: skip
_QUALIFIERS = ("typedef", "const", "volatile", "restrict", "atomic")


@dataclass(frozen=True)
class Member:
    """One struct/union member: byte offset, and bit position/size for bitfields."""

    name: str
    type: DwType
    offset: int
    bit_offset: int = 0
    bit_size: int = 0


class DwType:
    """A C type from DWARF.  ``tag`` is one of base, pointer, struct, union, enum, array,
    typedef, const, volatile, restrict, atomic, func, void; ``target`` is what a pointer,
    array, typedef or qualifier refers to.  Struct members are read on first use."""

    __slots__ = ("_load", "_members", "count", "encoding", "name", "size", "tag", "target")

    def __init__(self, tag: str, name: str = "", size: int = 0, encoding: int = 0) -> None:
        self.tag = tag
        self.name = name
        self.size = size
        self.encoding = encoding
        self.target: DwType | None = None
        self.count = 0
        self._members: tuple[Member, ...] | None = None
        self._load: Any = None

    @property
    def members(self) -> tuple[Member, ...]:
        """Struct/union members (empty for other types and incomplete structs)."""
        if self._members is None:
            load, self._load = self._load, None
            try:
                self._members = tuple(load()) if load is not None else ()
            except Exception:  # malformed DWARF (any pyelftools error): an incomplete struct
                self._members = ()
        return self._members

    def strip(self) -> DwType:
        """This type with typedefs and qualifiers peeled off."""
        t = self
        while t.tag in _QUALIFIERS and t.target is not None:
            t = t.target
        if t.tag in _QUALIFIERS:
            return DwType("void")
        return t

    def __repr__(self) -> str:
        return f"DwType({type_name(self)!r})"


@dataclass(frozen=True)
class Param:
    """A formal parameter: its name ('' when the DWARF has none) and type."""

    name: str
    type: DwType

    def __str__(self) -> str:
        t = type_name(self.type)
        return f"{t} {self.name}" if self.name else t


@dataclass(frozen=True)
class Function:
    """A function's parameters and return type (None for ``void``)."""

    name: str
    params: tuple[Param, ...]
    ret: DwType | None


def type_name(t: DwType | None) -> str:
    """The type spelled the way ``bpftrace -lv`` spells DWARF parameter types:
    ``long int``, ``const char*``, ``struct point*``, ``char* const``, ``void*`` (and
    ``const <unknown type>*`` for ``const void *``)."""
    if t is None or t.tag == "void":
        return "void"
    if t.tag in ("base", "typedef"):
        return t.name
    if t.tag == "pointer":
        return "void*" if t.target is None else type_name(t.target) + "*"
    if t.tag in ("struct", "union", "enum"):
        return f"{t.tag} {t.name or '<anonymous>'}"
    if t.tag == "const":
        inner = t.target
        if inner is not None and inner.tag == "pointer":
            return type_name(inner) + " const"
        # ``const void``: bpftrace names the missing type "<unknown type>" (not "void").
        return "const " + (type_name(inner) if inner is not None else "<unknown type>")
    return "<unknown type>"


class DebugInfo:
    """The parsed DWARF of one file (see :func:`debug_info`)."""

    def __init__(self, dwarf: DWARFInfo, path: str) -> None:
        self.path = path
        self._dwarf = dwarf
        self._types: dict[int, DwType] = {}
        self._cu_funcs: dict[int, dict[str, DIE]] = {}
        self._aranges: Any = None
        self._all_cus: list[int] | None = None
        self._structs: dict[tuple[str, str, int | None], DwType | None] = {}

    # -- functions -----------------------------------------------------------------------------
    def function(self, name: str, address: int | None = None) -> Function | None:
        """Function ``name`` (defined at ``address``, when known), or None."""
        die = None
        cu_off = self._cu_at(address) if address else None
        if cu_off is not None:
            die = self._funcs_of(cu_off).get(name)
        if die is None and cu_off is None:
            for off in self._cu_offsets():
                die = self._funcs_of(off).get(name)
                if die is not None:
                    break
        if die is None:
            return None
        params = tuple(
            Param(_name(p), self.type_of(p))
            for p in die.iter_children()
            if p.tag == "DW_TAG_formal_parameter"
        )
        ret = self.type_of(die)
        return Function(name, params, None if ret.tag == "void" else ret)

    def _cu_at(self, address: int) -> int | None:
        if self._aranges is None:
            self._aranges = self._dwarf.get_aranges() or False
        if not self._aranges:
            return None
        try:
            off: int | None = self._aranges.cu_offset_at_addr(address)
        except IndexError:  # an empty .debug_aranges
            return None
        return off

    def _cu_offsets(self) -> list[int]:
        if self._all_cus is None:
            self._all_cus = [cu.cu_offset for cu in self._dwarf.iter_CUs()]
        return self._all_cus

    def _funcs_of(self, cu_off: int) -> dict[str, DIE]:
        """Top-level subprogram definitions of one compile unit by name and linkage name."""
        hit = self._cu_funcs.get(cu_off)
        if hit is not None:
            return hit
        out: dict[str, DIE] = {}
        cu = self._dwarf.get_CU_at(cu_off)
        for d in cu.get_top_DIE().iter_children():
            if d.tag != "DW_TAG_subprogram":
                continue
            if "DW_AT_declaration" in d.attributes:
                continue  # a prototype carries no parameter names; bpftrace skips them
            # By name, and by linkage name: C++ symbols are mangled (_Z3addii).
            for n in (_name(d), _attr_str(d, "DW_AT_linkage_name")):
                if n and n not in out:
                    out[n] = d
        self._cu_funcs[cu_off] = out
        return out

    def struct(
        self, name: str, kind: str = "struct", near: int | None = None, everywhere: bool = True
    ) -> DwType | None:
        """The complete struct (or union) called ``name``: from the compile unit holding
        address ``near`` (the probed function's), or, when ``everywhere``, the first unit
        defining it (a scan of every unit: seconds for libc)."""
        key = (kind, name, near if not everywhere else None)
        if key in self._structs:
            return self._structs[key]
        tag = "DW_TAG_union_type" if kind == "union" else "DW_TAG_structure_type"
        first = self._cu_at(near) if near else None
        found = None
        units = [first] if first is not None else []
        for off in units + (self._cu_offsets() if everywhere else []):
            for d in self._dwarf.get_CU_at(off).get_top_DIE().iter_children():
                if d.tag == tag and "DW_AT_declaration" not in d.attributes and _name(d) == name:
                    found = self.convert(d)
                    break
            if found is not None:
                break
        self._structs[key] = found
        return found

    # -- types ---------------------------------------------------------------------------------
    def type_of(self, die: DIE) -> DwType:
        """The type a DIE's ``DW_AT_type`` names (through abstract origins): void if none."""
        src = _origin(die, "DW_AT_type")
        if src is None:
            return DwType("void")
        return self.convert(src.get_DIE_from_attribute("DW_AT_type"))

    def convert(self, die: DIE) -> DwType:
        """The :class:`DwType` of a type DIE (cached by offset, so cycles terminate)."""
        hit = self._types.get(die.offset)
        if hit is not None:
            return hit
        tag = _TAGS.get(str(die.tag), "unknown")
        attrs = die.attributes
        size = attrs["DW_AT_byte_size"].value if "DW_AT_byte_size" in attrs else 0
        enc = attrs["DW_AT_encoding"].value if "DW_AT_encoding" in attrs else 0
        t = DwType(tag, _name(die), size if isinstance(size, int) else 0, enc)
        self._types[die.offset] = t
        if "DW_AT_type" in attrs:
            t.target = self.convert(die.get_DIE_from_attribute("DW_AT_type"))
        if tag == "pointer":
            t.size = t.size or 8
        elif tag == "array":
            t.count = _array_count(die)
            if t.target is not None and not t.size:
                t.size = t.count * t.target.strip().size
        elif tag in ("struct", "union"):
            t._load = lambda: self._members(die)
        elif tag in _QUALIFIERS and t.target is not None:
            t.size = t.target.size
        return t

    def _members(self, die: DIE) -> list[Member]:
        out = []
        for m in die.iter_children():
            if m.tag != "DW_TAG_member":
                continue
            a = m.attributes
            off = _member_offset(m)
            mt = self.type_of(m)
            bits = a["DW_AT_bit_size"].value if "DW_AT_bit_size" in a else 0
            bit = 0
            if bits and "DW_AT_data_bit_offset" in a:
                absolute = a["DW_AT_data_bit_offset"].value
                off, bit = absolute // 8, absolute % 8
            elif bits and "DW_AT_bit_offset" in a:
                # DWARF 2/3: offset of the field's high bit from the storage unit's high bit.
                unit = (a["DW_AT_byte_size"].value if "DW_AT_byte_size" in a else mt.size) * 8
                absolute = off * 8 + unit - a["DW_AT_bit_offset"].value - bits
                off, bit = absolute // 8, absolute % 8
            out.append(Member(_name(m), mt, off, bit, bits))
        return out


def _name(die: DIE) -> str:
    return _attr_str(die, "DW_AT_name")


def _attr_str(die: DIE, attr: str) -> str:
    src = _origin(die, attr)
    if src is None:
        return ""
    v = src.attributes[attr].value
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _origin(die: DIE, attr: str) -> DIE | None:
    """``die`` or the DIE it inherits ``attr`` from (abstract origin / specification)."""
    seen = 0
    while attr not in die.attributes:
        for link in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if link in die.attributes:
                die = die.get_DIE_from_attribute(link)
                break
        else:
            return None
        seen += 1
        if seen > 8:
            return None
    return die


def _array_count(die: DIE) -> int:
    n = 1
    for sub in die.iter_children():
        if sub.tag != "DW_TAG_subrange_type":
            continue
        a = sub.attributes
        if "DW_AT_count" in a and isinstance(a["DW_AT_count"].value, int):
            n *= a["DW_AT_count"].value
        elif "DW_AT_upper_bound" in a and isinstance(a["DW_AT_upper_bound"].value, int):
            n *= a["DW_AT_upper_bound"].value + 1
        else:
            n = 0  # a flexible array member
    return n


def _member_offset(m: DIE) -> int:
    a = m.attributes.get("DW_AT_data_member_location")
    if a is None:
        return 0
    if isinstance(a.value, int):
        return a.value
    # DWARF 2: a location expression, DW_OP_plus_uconst N.
    v = a.value
    if isinstance(v, list) and len(v) >= 2 and v[0] == 0x23:
        n, shift = 0, 0
        for b in v[1:]:
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return n
    return 0


def debug_file(path: str) -> str | None:
    """The file holding ``path``'s DWARF: itself, its build-id debug file or debuglink."""
    from pybpf.elf.reader import ElfError, ElfFile

    try:
        with ElfFile(path) as f:
            if f.section(".debug_info") is not None:
                return path
            bid = f.build_id
            link = f.section(".gnu_debuglink")
            linkname = f.section_data(link).split(b"\0", 1)[0].decode() if link else ""
    except (ElfError, OSError, UnicodeDecodeError):
        return None
    candidates = []
    if bid and len(bid) > 2:
        candidates.append(os.path.join(DEBUG_ROOT, ".build-id", bid[:2], bid[2:] + ".debug"))
    if linkname:
        d = os.path.dirname(os.path.realpath(path))
        candidates += [os.path.join(d, linkname), os.path.join(d, ".debug", linkname)]
        candidates.append(DEBUG_ROOT + os.path.join(d, linkname))
    for c in candidates:
        if os.path.realpath(c) != os.path.realpath(path) and _has_debug_info(c):
            return c
    return None


def _has_debug_info(path: str) -> bool:
    from pybpf.elf.reader import ElfError, ElfFile

    try:
        with ElfFile(path) as f:
            return f.section(".debug_info") is not None
    except (ElfError, OSError):
        return False


_CACHE: dict[tuple[str, int, int, int], DebugInfo | None] = {}


def debug_info(path: str) -> DebugInfo | None:
    """The parsed debug info of binary ``path`` (None without any), cached per file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = _open(path)
    return _CACHE[key]


def _open(path: str) -> DebugInfo | None:
    import io

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    dbg = debug_file(path)
    if dbg is None:
        return None
    try:
        # Read whole (libc's debug file is 4 MB): pyelftools reads sections lazily from its
        # stream, and a file kept open for the cache's lifetime would be an fd nobody owns.
        with open(dbg, "rb") as f:
            data = io.BytesIO(f.read())
        return DebugInfo(ELFFile(data).get_dwarf_info(), dbg)
    except (ELFError, OSError):
        return None
    except Exception:  # malformed sections (pyelftools raises many kinds): no debug info
        return None


def function_info(path: str, func: str) -> Function | None:
    """Parameters and return type of ``func`` in binary ``path`` (None without DWARF for it)."""
    info = debug_info(path)
    if info is None:
        return None
    from pybpf.elf.reader import ElfError
    from pybpf.elf.symbols import find_symbol

    try:
        addr: int | None = find_symbol(path, func).value
    except (ElfError, OSError, LookupError):
        addr = None
    try:
        return info.function(func, addr)
    except Exception:  # malformed DWARF (any pyelftools error): no args
        return None


def struct_info(
    path: str, name: str, kind: str = "struct", near: str = "", everywhere: bool = True
) -> DwType | None:
    """Struct/union ``name`` from ``path``'s DWARF: beside function ``near``, or (when
    ``everywhere``) in any compile unit; None if absent."""
    info = debug_info(path)
    if info is None:
        return None
    from pybpf.elf.reader import ElfError
    from pybpf.elf.symbols import find_symbol

    addr = None
    if near:
        try:
            addr = find_symbol(path, near).value
        except (ElfError, OSError, LookupError):
            addr = None
    try:
        return info.struct(name, kind, addr, everywhere)
    except Exception:  # malformed DWARF (any pyelftools error): unknown struct
        return None


def clear_cache() -> None:
    """Forget every parsed file."""
    _CACHE.clear()


__all__ = [
    "DEBUG_ROOT",
    "DebugInfo",
    "DwType",
    "Function",
    "Member",
    "Param",
    "clear_cache",
    "debug_file",
    "debug_info",
    "function_info",
    "struct_info",
    "type_name",
]
