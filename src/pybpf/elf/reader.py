"""A small, fast ELF reader: headers, sections, segments, symbols, notes.

Written directly over ``mmap`` with ``struct`` because symbol tables of big libraries (libc,
libpython) are read on every uprobe attach and pyelftools decodes them one object at a time.
32/64-bit and either byte order are handled; only what probes need is decoded.
"""

from __future__ import annotations

import enum
import mmap
import os
import struct
from collections.abc import Iterator
from typing import NamedTuple, Self

from pybpf.errors import PybpfError, UsageError
from pybpf.records import dataclass


class ElfError(UsageError):
    """The file is not ELF, or is a malformed one."""


class SymbolNotFoundError(PybpfError, LookupError):
    """No symbol of that name is defined in the file."""

    __str__ = Exception.__str__


class SymType(enum.IntEnum):
    """st_info type (STT_*)."""

    NOTYPE = 0
    OBJECT = 1
    FUNC = 2
    SECTION = 3
    FILE = 4
    COMMON = 5
    TLS = 6
    GNU_IFUNC = 10


class SymBind(enum.IntEnum):
    """st_info binding (STB_*)."""

    LOCAL = 0
    GLOBAL = 1
    WEAK = 2
    GNU_UNIQUE = 10


class Symbol(NamedTuple):
    """One symbol table entry. ``hidden_version`` marks a non-default symbol version."""

    name: str
    value: int
    size: int
    type: int
    bind: int
    shndx: int
    dynamic: bool = False
    hidden_version: bool = False

    @property
    def defined(self) -> bool:
        """True when the symbol has a definition in this file (not SHN_UNDEF)."""
        return self.shndx != 0


@dataclass(frozen=True)
class Section:
    """A section header, with its name resolved."""

    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int


@dataclass(frozen=True)
class Segment:
    """A program header."""

    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int


class Note(NamedTuple):
    """An ELF note: owner name, type, descriptor bytes."""

    name: str
    type: int
    desc: bytes


ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE = 1, 2, 3, 4
SHT_SYMTAB, SHT_NOTE, SHT_NOBITS, SHT_DYNSYM, SHT_GNU_VERSYM = 2, 7, 8, 11, 0x6FFFFFFF
DT_SONAME, DT_FLAGS_1, DF_1_PIE = 14, 0x6FFFFFFB, 0x08000000
NT_GNU_BUILD_ID = 3


class ElfFile:
    """An ELF file mapped read-only. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise ElfError(f"{self.path}: {e.strerror}") from None
        try:
            st = os.fstat(fd)
            self.dev, self.inode, self.mtime_ns = st.st_dev, st.st_ino, st.st_mtime_ns
            if st.st_size < 64:
                raise ElfError(f"{self.path}: not an ELF file (too short)")
            self._map = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
        except OSError as e:
            raise ElfError(f"{self.path}: {e.strerror}") from None
        finally:
            os.close(fd)
        self._data = memoryview(self._map)
        self.closed = False
        try:
            self._parse_header()
            self.sections = self._read_sections()
            self.segments = self._read_segments()
        except (struct.error, IndexError, ValueError, OverflowError) as e:
            self.close()
            raise ElfError(f"{self.path}: malformed ELF ({e})") from None
        except ElfError:
            self.close()
            raise

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Unmap the file. Symbols already returned stay valid."""
        if not self.closed:
            self.closed = True
            self._data.release()
            self._map.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- headers --------------------------------------------------------------------------
    def _parse_header(self) -> None:
        d = self._data
        if bytes(d[:4]) != b"\x7fELF":
            raise ElfError(f"{self.path}: not an ELF file")
        if d[4] not in (1, 2) or d[5] not in (1, 2):
            raise ElfError(f"{self.path}: unknown ELF class or byte order")
        self.is64 = d[4] == 2
        self.bo = "<" if d[5] == 1 else ">"
        w = "Q" if self.is64 else "I"
        fmt = f"{self.bo}HHI{w}{w}{w}IHHHHHH"
        (
            self.e_type,
            self.machine,
            _,
            self.entry,
            self._phoff,
            self._shoff,
            _,
            _,
            self._phentsize,
            self._phnum,
            self._shentsize,
            self._shnum,
            self._shstrndx,
        ) = struct.unpack_from(fmt, d, 16)

    def _read_sections(self) -> list[Section]:
        if not self._shoff or not self._shnum:
            return []
        fmt = f"{self.bo}IIQQQQIIQQ" if self.is64 else f"{self.bo}IIIIIIIIII"
        raw = [
            struct.unpack_from(fmt, self._data, self._shoff + i * self._shentsize)
            for i in range(self._shnum)
        ]
        # Section header layout differs between classes only in field widths.
        shstr = raw[self._shstrndx] if self._shstrndx < len(raw) else None
        out = []
        for name, typ, flags, addr, off, size, link, info, _align, entsize in raw:
            sname = self._cstr(shstr[4] + name) if shstr is not None else ""
            out.append(Section(sname, typ, flags, addr, off, size, link, info, entsize))
        return out

    def _read_segments(self) -> list[Segment]:
        out = []
        for i in range(self._phnum):
            base = self._phoff + i * self._phentsize
            if self.is64:
                typ, flags, off, vaddr, _p, filesz, memsz, _a = struct.unpack_from(
                    f"{self.bo}IIQQQQQQ", self._data, base
                )
            else:
                typ, off, vaddr, _p, filesz, memsz, flags, _a = struct.unpack_from(
                    f"{self.bo}IIIIIIII", self._data, base
                )
            out.append(Segment(typ, flags, off, vaddr, filesz, memsz))
        return out

    def _cstr(self, off: int) -> str:
        if not 0 <= off < len(self._data):
            return ""
        end = self._map.find(b"\0", off)
        return bytes(self._data[off:end]).decode("utf-8", "replace")

    def section(self, name: str) -> Section | None:
        """The first section called ``name``, or None."""
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def section_data(self, sec: Section) -> bytes:
        """The bytes of ``sec`` (empty for SHT_NOBITS)."""
        if sec.type == SHT_NOBITS:
            return b""
        if sec.offset + sec.size > len(self._data):
            raise ElfError(f"{self.path}: section {sec.name} runs past the end of the file")
        return bytes(self._data[sec.offset : sec.offset + sec.size])

    # -- derived facts --------------------------------------------------------------------
    @property
    def is_pie(self) -> bool:
        """True for a position-independent *executable* (not a shared library)."""
        if self.e_type != ET_DYN:
            return False
        has_soname = False
        for tag, val in self._dynamic():
            if tag == DT_FLAGS_1 and val & DF_1_PIE:
                return True
            has_soname = has_soname or tag == DT_SONAME
        # Without the DF_1_PIE flag (older linkers), an interpreter marks an executable --
        # unless there is a soname: libc.so.6 has an interpreter too, to be runnable.
        return not has_soname and any(s.type == PT_INTERP for s in self.segments)

    def _dynamic(self) -> Iterator[tuple[int, int]]:
        for seg in self.segments:
            if seg.type != PT_DYNAMIC:
                continue
            fmt = f"{self.bo}qQ" if self.is64 else f"{self.bo}iI"
            end = min(seg.offset + seg.filesz, len(self._data))
            step = struct.calcsize(fmt)
            for off in range(seg.offset, end - step + 1, step):
                tag, val = struct.unpack_from(fmt, self._data, off)
                if tag == 0:
                    return
                yield tag, val

    def notes(self) -> Iterator[Note]:
        """Every note, from SHT_NOTE sections (or PT_NOTE segments if there are no sections)."""
        spans = [(s.offset, s.size) for s in self.sections if s.type == SHT_NOTE]
        if not self.sections:
            spans = [(s.offset, s.filesz) for s in self.segments if s.type == PT_NOTE]
        for off, size in spans:
            yield from self.parse_notes(bytes(self._data[off : off + size]))

    def parse_notes(self, blob: bytes) -> Iterator[Note]:
        """Split a note section's bytes into notes (in this file's byte order)."""
        pos = 0
        while pos + 12 <= len(blob):
            namesz, descsz, typ = struct.unpack_from(f"{self.bo}III", blob, pos)
            pos += 12
            name = blob[pos : pos + namesz].rstrip(b"\0").decode("ascii", "replace")
            pos += (namesz + 3) & ~3
            desc = blob[pos : pos + descsz]
            pos += (descsz + 3) & ~3
            yield Note(name, typ, desc)

    @property
    def build_id(self) -> str | None:
        """The GNU build-id as lower-case hex, or None."""
        for note in self.notes():
            if note.name == "GNU" and note.type == NT_GNU_BUILD_ID:
                return note.desc.hex()
        return None

    def vaddr_to_offset(self, vaddr: int) -> int:
        """File offset of virtual address ``vaddr`` through the PT_LOAD segments."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
                return vaddr - seg.vaddr + seg.offset
        raise ElfError(f"{self.path}: address {vaddr:#x} is in no loadable segment")

    def offset_to_vaddr(self, offset: int) -> int:
        """Virtual address of file offset ``offset`` (inverse of :meth:`vaddr_to_offset`)."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.offset <= offset < seg.offset + seg.filesz:
                return offset - seg.offset + seg.vaddr
        raise ElfError(f"{self.path}: file offset {offset:#x} is in no loadable segment")

    # -- symbols --------------------------------------------------------------------------
    def symbols(self) -> list[Symbol]:
        """Symbols of .symtab then .dynsym (both may name the same function)."""
        out: list[Symbol] = []
        for typ in (SHT_SYMTAB, SHT_DYNSYM):
            for idx, sec in enumerate(self.sections):
                if sec.type == typ:
                    out.extend(self._read_symtab(idx, sec))
        return out

    def _versym(self) -> bytes | None:
        for s in self.sections:
            if s.type == SHT_GNU_VERSYM:
                return self.section_data(s)
        return None

    def _read_symtab(self, idx: int, sec: Section) -> list[Symbol]:
        if sec.link >= len(self.sections) or sec.entsize == 0:
            return []
        strsec = self.sections[sec.link]
        strtab = self.section_data(strsec)
        raw = self.section_data(sec)
        dynamic = sec.type == SHT_DYNSYM
        hidden: bytes | None = self._versym() if dynamic else None
        if self.is64:
            entries = struct.iter_unpack(f"{self.bo}IBBHQQ", raw[: len(raw) // 24 * 24])
            rows = ((n, v, s, i, sh) for n, i, _o, sh, v, s in entries)
        else:
            entries = struct.iter_unpack(f"{self.bo}IIIBBH", raw[: len(raw) // 16 * 16])
            rows = ((n, v, s, i, sh) for n, v, s, i, _o, sh in entries)
        out = []
        find = strtab.find
        for k, (name_off, value, size, info, shndx) in enumerate(rows):
            if k == 0:
                continue  # index 0 is the reserved null symbol
            end = find(b"\0", name_off)
            name = strtab[name_off:end].decode("utf-8", "replace") if end > name_off else ""
            hid = False
            if hidden is not None and 2 * k + 1 < len(hidden):
                hi = hidden[2 * k + 1] if self.bo == "<" else hidden[2 * k]
                hid = bool(hi & 0x80)
            out.append(Symbol(name, value, size, info & 0xF, info >> 4, shndx, dynamic, hid))
        return out


__all__ = [
    "ElfError",
    "ElfFile",
    "Note",
    "Section",
    "Segment",
    "SymBind",
    "SymType",
    "Symbol",
    "SymbolNotFoundError",
]
