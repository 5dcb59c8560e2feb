"""Symbol tables: lookup by name, by glob, and by address; symbol -> file offset for uprobes.

A file's table is the union of its own ``.symtab``/``.dynsym`` and the ``.symtab`` of its
separate debug file (build-id or debuglink, :mod:`pybpf.elf.debugfile`), as bcc and
bpftrace read them: a stripped ``libc.so.6`` then still names its local functions
(``__libc_start_call_main``) for uprobes, wildcards, ``-l`` and stacks.
"""

from __future__ import annotations

import bisect
import fnmatch
import os
import re

from pybpf.elf.debugfile import debug_symbols
from pybpf.elf.reader import (
    ET_DYN,
    PT_LOAD,
    ElfError,
    ElfFile,
    Segment,
    Symbol,
    SymbolNotFoundError,
    SymType,
)
from pybpf.records import dataclass, field

_CODE_TYPES = (SymType.FUNC, SymType.GNU_IFUNC)


def _rank(s: Symbol) -> tuple[bool, bool, bool, bool, bool]:
    """Higher is better when one name has several entries (versions, symtab + dynsym)."""
    return (s.defined, not s.hidden_version, s.type in _CODE_TYPES, s.size > 0, not s.dynamic)


@dataclass
class SymbolTable:
    """The symbols of one ELF file plus what is needed to turn addresses into offsets."""

    path: str
    build_id: str | None
    e_type: int
    is_pie: bool
    segments: list[Segment]
    symbols: list[Symbol]
    debug_symbols: list[Symbol] = field(default_factory=list, repr=False)
    debug_path: str | None = None
    _by_name: dict[str, Symbol] | None = field(default=None, repr=False)
    _sorted: list[Symbol] | None = field(default=None, repr=False)
    _addrs: list[int] | None = field(default=None, repr=False)
    _functions: list[str] | None = field(default=None, repr=False)

    @classmethod
    def from_elf(cls, elf: ElfFile, debug: bool = True) -> SymbolTable:
        """Read the symbol tables of an open file, and (``debug``) of its debug file."""
        tab = cls(elf.path, elf.build_id, elf.e_type, elf.is_pie, elf.segments, elf.symbols())
        if debug:
            tab.debug_path, tab.debug_symbols = debug_symbols(elf)
        return tab

    @property
    def all_symbols(self) -> list[Symbol]:
        """The debug file's symbols, then the file's own (bcc's order: first name wins)."""
        return self.debug_symbols + self.symbols if self.debug_symbols else self.symbols

    @property
    def by_name(self) -> dict[str, Symbol]:
        """Name -> the best symbol of that name (defined, default version, function)."""
        if self._by_name is None:
            best: dict[str, Symbol] = {}
            for s in self.all_symbols:
                if s.name and (s.name not in best or _rank(s) > _rank(best[s.name])):
                    best[s.name] = s
            self._by_name = best
        return self._by_name

    def find(self, name: str) -> Symbol:
        """The defined symbol ``name``; ``SymbolNotFoundError`` if there is none."""
        s = self.by_name.get(name)
        if s is None or not (s.defined or s.value):
            # An undefined entry with an address is an executable's canonical PLT slot,
            # which bcc (and so bpftrace) probes like a function.
            raise SymbolNotFoundError(f"{self.path}: no symbol '{name}'")
        return s

    def functions(self) -> list[str]:
        """Names a uprobe wildcard or ``-l`` offers, sorted: bcc's rule (named functions
        and IFUNCs with a non-zero address, from the file and its debug file), less the
        ``.part.N`` split-off pieces bpftrace leaves out of every match."""
        if self._functions is None:
            names = {
                s.name
                for s in self.all_symbols
                if s.name and s.value and s.type in _CODE_TYPES and ".part." not in s.name
            }
            self._functions = sorted(names)
        return self._functions

    def match(self, pattern: str, functions_only: bool = True) -> list[Symbol]:
        """Symbols whose names match the shell glob ``pattern``, sorted by name.

        With ``functions_only`` the candidates are :meth:`functions` (what a uprobe
        wildcard expands to); otherwise every defined symbol.
        """
        rx = re.compile(fnmatch.translate(pattern))
        if functions_only:
            return [self.by_name[n] for n in self.functions() if rx.match(n)]
        out = [s for name, s in self.by_name.items() if s.defined and rx.match(name)]
        out.sort(key=lambda s: s.name)
        return out

    def vaddr_to_offset(self, vaddr: int) -> int:
        """File offset of a link-time virtual address (via PT_LOAD segments)."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
                return vaddr - seg.vaddr + seg.offset
        raise ElfError(f"{self.path}: address {vaddr:#x} is in no loadable segment")

    def offset_to_vaddr(self, offset: int) -> int:
        """Link-time virtual address of a file offset."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.offset <= offset < seg.offset + max(seg.filesz, 1):
                return offset - seg.offset + seg.vaddr
        raise ElfError(f"{self.path}: file offset {offset:#x} is in no loadable segment")

    def symbol_offset(self, name: str) -> int:
        """File offset of symbol ``name``: what the uprobe PMU attaches to."""
        return self.vaddr_to_offset(self.find(name).value)

    def lookup(self, vaddr: int) -> tuple[Symbol, int] | None:
        """(symbol, offset into it) for a link-time address, or None if none covers it."""
        if self._sorted is None:
            funcs = {
                (s.value, s.name): s
                for s in self.by_name.values()
                if s.defined and s.value and s.type in (*_CODE_TYPES, SymType.OBJECT)
            }
            self._sorted = [funcs[k] for k in sorted(funcs)]
            self._addrs = [s.value for s in self._sorted]
        assert self._addrs is not None
        addrs, syms = self._addrs, self._sorted
        i = bisect.bisect_right(addrs, vaddr) - 1
        if i < 0:
            return None
        # Several names may share an address (aliases): any whose size covers vaddr wins.
        j = i
        while j >= 0 and addrs[j] == addrs[i]:
            if vaddr < syms[j].value + syms[j].size:
                return syms[j], vaddr - syms[j].value
            j -= 1
        # Zero-sized symbols (hand-written assembly) cover up to the next symbol.
        nxt = addrs[i + 1] if i + 1 < len(addrs) else None
        if syms[i].size == 0 and nxt is not None and vaddr < nxt:
            return syms[i], vaddr - syms[i].value
        return None

    @property
    def position_independent(self) -> bool:
        """True for shared objects and PIEs: loaded at a base chosen at run time."""
        return self.e_type == ET_DYN


_cache: dict[tuple[int, int, int, int], SymbolTable] = {}


def symbol_table(path: str | os.PathLike[str]) -> SymbolTable:
    """The symbol table of ``path``, cached per (device, inode, size, mtime)."""
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except OSError as e:
        raise ElfError(f"{p}: {e.strerror}") from None
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    tab = _cache.get(key)
    if tab is None:
        with ElfFile(p) as elf:
            tab = SymbolTable.from_elf(elf)
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = tab
    return tab


def symbols(path: str | os.PathLike[str]) -> list[Symbol]:
    """Every symbol of .symtab and .dynsym of ``path`` itself (not of its debug file)."""
    return symbol_table(path).symbols


def find_symbol(path: str | os.PathLike[str], name: str) -> Symbol:
    """The defined symbol ``name`` of ``path``."""
    return symbol_table(path).find(name)


def symbol_offset(path: str | os.PathLike[str], symbol: str) -> int:
    """File offset of ``symbol`` in ``path`` (virtual address mapped through PT_LOAD)."""
    return symbol_table(path).symbol_offset(symbol)


def function_names(path: str | os.PathLike[str]) -> list[str]:
    """Sorted function names of ``path`` and its debug file (what ``-l`` lists)."""
    return symbol_table(path).functions()


def match_symbols(path: str | os.PathLike[str], pattern: str) -> list[Symbol]:
    """Defined functions of ``path`` whose names match the glob ``pattern`` (``str*``)."""
    return symbol_table(path).match(pattern)


def is_pie(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a position-independent executable."""
    return symbol_table(path).is_pie


def build_id(path: str | os.PathLike[str]) -> str | None:
    """The GNU build-id of ``path`` as hex, or None."""
    return symbol_table(path).build_id


__all__ = [
    "SymbolTable",
    "build_id",
    "find_symbol",
    "function_names",
    "is_pie",
    "match_symbols",
    "symbol_offset",
    "symbol_table",
    "symbols",
]
