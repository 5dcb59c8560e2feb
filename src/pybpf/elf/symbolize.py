"""Turning user-space addresses of a live process into (module, symbol, offset)."""

from __future__ import annotations

import bisect
import os
from typing import NamedTuple

from pybpf.elf.debugfile import DEBUG_DIRS, by_build_id
from pybpf.elf.reader import PT_LOAD, ElfError, ElfFile
from pybpf.elf.symbols import SymbolTable
from pybpf.records import dataclass


@dataclass(frozen=True)
class MapEntry:
    """One line of /proc/PID/maps."""

    start: int
    end: int
    perms: str
    offset: int
    dev: str
    inode: int
    path: str

    @property
    def file_backed(self) -> bool:
        """True when the mapping comes from a file (not anonymous, stack, vdso...)."""
        return self.inode != 0 and self.path.startswith("/")

    @property
    def module(self) -> str:
        """The file's path without the kernel's " (deleted)" mark."""
        return self.path.removesuffix(" (deleted)")


def parse_maps(text: str) -> list[MapEntry]:
    """Parse the text of a /proc/PID/maps file."""
    out = []
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        lo, _, hi = parts[0].partition("-")
        path = parts[5].strip() if len(parts) > 5 else ""
        out.append(
            MapEntry(
                int(lo, 16), int(hi, 16), parts[1], int(parts[2], 16), parts[3], int(parts[4]), path
            )
        )
    return out


def read_maps(pid: int) -> list[MapEntry]:
    """The memory map of process ``pid``."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return parse_maps(f.read())
    except OSError as e:
        raise ElfError(f"read /proc/{pid}/maps: {e.strerror}") from None


class Resolved(NamedTuple):
    """A symbolised address: ``symbol`` is None when only the module is known."""

    module: str
    symbol: str | None
    offset: int

    def __str__(self) -> str:
        if self.symbol is None:
            return f"{self.module}+{self.offset:#x}"
        return f"{self.symbol}+{self.offset}" if self.offset else self.symbol


# Symbol tables shared by every Symbolizer, keyed by file identity and build-id so that a
# library replaced on disk (same path, new inode or build) is never confused with the old.
_tables: dict[tuple[str, int, str | None], SymbolTable | None] = {}


def debug_file(build_id: str | None) -> str | None:
    """The separate debug file of a build-id (e.g. from libc6-dbg), if one is installed."""
    return by_build_id(build_id)


def with_debug_symbols(elf: ElfFile) -> SymbolTable:
    """``elf``'s symbols plus the static ones of its separate debug file.

    Distribution libraries ship only ``.dynsym``; their local functions
    (``__libc_start_call_main``) are in the debug file (build-id, else debuglink), which
    shares the link-time addresses, so its ``.symtab`` resolves them like the debugger and
    bcc do.
    """
    return SymbolTable.from_elf(elf, debug=True)


def _table_for(pid: int, m: MapEntry) -> SymbolTable | None:
    if m.path.endswith(" (deleted)"):
        # Replaced on disk (an upgrade) while mapped: the kernel still serves the old file.
        path = f"/proc/{pid}/map_files/{m.start:x}-{m.end:x}"
    else:
        # Through /proc/PID/root so that processes in other mount namespaces resolve too.
        path = f"/proc/{pid}/root{m.path}"
        if not os.path.exists(path):
            path = m.path
    try:
        with ElfFile(path) as elf:
            key = (m.dev, m.inode, elf.build_id)
            if key not in _tables:
                _tables[key] = with_debug_symbols(elf)
            return _tables[key]
    except ElfError:
        return None


class _Resolver(NamedTuple):
    """What one mapping needs to turn addresses into link-time addresses (cached)."""

    table: SymbolTable | None
    module: str
    file_backed: bool
    bias: int  # link-time address minus file offset, inside [lo, hi)
    lo: int
    hi: int


class Symbolizer:
    """Symbolises addresses of one process; re-reads its maps on :meth:`refresh`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._maps: list[MapEntry] = []
        self._starts: list[int] = []
        self._per_path: dict[tuple[str, int], SymbolTable | None] = {}
        self._resolvers: dict[int, _Resolver] = {}
        self.refresh()

    def refresh(self) -> None:
        """Re-read /proc/PID/maps (after the process loaded more libraries)."""
        self._maps = sorted(read_maps(self.pid), key=lambda m: m.start)
        self._starts = [m.start for m in self._maps]
        self._resolvers = {}

    def mapping(self, addr: int) -> MapEntry | None:
        """The mapping containing ``addr``."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0 and addr < self._maps[i].end:
            return self._maps[i]
        return None

    def _resolver(self, m: MapEntry) -> _Resolver:
        if not m.file_backed:
            return _Resolver(None, m.path or "[anon]", False, 0, 0, 0)
        key = (m.dev, m.inode)
        if key not in self._per_path:
            self._per_path[key] = _table_for(self.pid, m)
        tab = self._per_path[key]
        if tab is not None:
            # The loadable segment holding the mapping's first byte: one bias for the lot.
            for seg in tab.segments:
                if seg.type == PT_LOAD and seg.offset <= m.offset < seg.offset + seg.filesz:
                    hi = seg.offset + max(seg.filesz, 1)
                    return _Resolver(tab, m.module, True, seg.vaddr - seg.offset, seg.offset, hi)
        return _Resolver(tab, m.module, True, 0, 0, 0)

    def symbolize(self, addr: int) -> Resolved | None:
        """(module, symbol, offset) for ``addr``; None when no mapping contains it."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0:
            return None
        m = self._maps[i]
        if addr >= m.end:
            return None
        r = self._resolvers.get(i)
        if r is None:
            r = self._resolvers[i] = self._resolver(m)
        if not r.file_backed:
            return Resolved(r.module, None, addr - m.start)
        file_off = addr - m.start + m.offset
        tab = r.table
        if tab is None:
            return Resolved(r.module, None, file_off)
        if r.lo <= file_off < r.hi:
            vaddr = file_off + r.bias
        else:
            try:
                vaddr = tab.offset_to_vaddr(file_off)
            except ElfError:
                return Resolved(r.module, None, file_off)
        hit = tab.lookup(vaddr)
        if hit is None:
            return Resolved(r.module, None, file_off)
        return Resolved(r.module, hit[0].name, hit[1])


__all__ = [
    "DEBUG_DIRS",
    "MapEntry",
    "Resolved",
    "Symbolizer",
    "debug_file",
    "parse_maps",
    "read_maps",
    "with_debug_symbols",
]
