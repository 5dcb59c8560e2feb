"""ELF files: symbols, uprobe offsets, build-ids, library resolution, USDT notes.

Pure parsing; nothing here touches the kernel. The common entry points:

- :func:`symbol_offset` (path, symbol) -> file offset, what the uprobe PMU needs;
- :func:`resolve_library` ("libc") -> "/lib/x86_64-linux-gnu/libc.so.6";
- :func:`match_symbols` (path, "str*") for wildcard probes, :func:`function_names` for ``-l``
  (both include the functions named only by a separate debug file);
- :func:`usdt_probes` (path) -> USDT probes with parsed argument specs;
- :class:`Symbolizer` (pid) for user stack addresses.
"""

from __future__ import annotations

from pybpf.elf.ldcache import parse_ld_so_cache, resolve_binary, resolve_library
from pybpf.elf.reader import ElfError, ElfFile, SymBind, Symbol, SymbolNotFoundError, SymType
from pybpf.elf.symbolize import MapEntry, Resolved, Symbolizer, parse_maps, read_maps
from pybpf.elf.symbols import (
    SymbolTable,
    build_id,
    find_symbol,
    function_names,
    is_pie,
    match_symbols,
    symbol_offset,
    symbol_table,
    symbols,
)
from pybpf.elf.usdt import ArgKind, ArgSpec, UsdtProbe, parse_arg, parse_args, usdt_probes

__all__ = [
    "ArgKind",
    "ArgSpec",
    "ElfError",
    "ElfFile",
    "MapEntry",
    "Resolved",
    "SymBind",
    "SymType",
    "Symbol",
    "SymbolNotFoundError",
    "SymbolTable",
    "Symbolizer",
    "UsdtProbe",
    "build_id",
    "find_symbol",
    "function_names",
    "is_pie",
    "match_symbols",
    "parse_arg",
    "parse_args",
    "parse_ld_so_cache",
    "parse_maps",
    "read_maps",
    "resolve_binary",
    "resolve_library",
    "symbol_offset",
    "symbol_table",
    "symbols",
    "usdt_probes",
]
