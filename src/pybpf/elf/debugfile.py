"""Separate debug files: where a stripped binary's full ``.symtab`` (and DWARF) lives.

Distributions strip their libraries down to ``.dynsym`` and ship the rest apart
(``libc6-dbg``). The debug file is found the way gdb and bcc look for it: first by
build-id under ``/usr/lib/debug/.build-id/ab/cdef....debug``, then through the
``.gnu_debuglink`` section (a file name plus the CRC-32 of that file) beside the binary,
in its ``.debug/`` directory, or under ``/usr/lib/debug`` + the binary's directory.
"""

from __future__ import annotations

import os
import struct
import zlib

from pybpf.elf.reader import ElfError, ElfFile, Symbol

DEBUG_DIRS = ("/usr/lib/debug",)
"""Global debug directories, searched by build-id and by the binary's own directory."""


def by_build_id(build_id: str | None) -> str | None:
    """The installed debug file named after ``build_id`` (e.g. from libc6-dbg), or None."""
    if not build_id or len(build_id) < 3:
        return None
    for d in DEBUG_DIRS:
        path = f"{d}/.build-id/{build_id[:2]}/{build_id[2:]}.debug"
        if os.path.exists(path):
            return path
    return None


def debuglink(elf: ElfFile) -> tuple[str, int] | None:
    """(file name, CRC-32) from ``elf``'s ``.gnu_debuglink`` section, or None."""
    sec = elf.section(".gnu_debuglink")
    if sec is None:
        return None
    data = elf.section_data(sec)
    end = data.find(b"\0")
    if end <= 0:
        return None
    crc_at = (end + 4) & ~3  # the name's NUL and padding end on a 4-byte boundary
    if crc_at + 4 > len(data):
        return None
    (crc,) = struct.unpack_from(f"{elf.bo}I", data, crc_at)
    try:
        return data[:end].decode(), crc
    except UnicodeDecodeError:
        return None


def file_crc32(path: str) -> int | None:
    """The CRC-32 ``.gnu_debuglink`` records for ``path`` (zlib's polynomial), or None."""
    crc = 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                crc = zlib.crc32(chunk, crc)
    except OSError:
        return None
    return crc


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def by_debuglink(elf: ElfFile) -> str | None:
    """The debug file ``elf``'s ``.gnu_debuglink`` names, when one with its CRC exists."""
    link = debuglink(elf)
    if link is None:
        return None
    name, crc = link
    d = os.path.dirname(os.path.realpath(elf.path))
    candidates = [os.path.join(d, name), os.path.join(d, ".debug", name)]
    candidates += [root + os.path.join(d, name) for root in DEBUG_DIRS]
    for c in candidates:
        # A link naming the binary itself (or a copy with its own CRC) adds nothing.
        if os.path.isfile(c) and not _same_file(c, elf.path) and file_crc32(c) == crc:
            return c
    return None


def find_debug_file(elf: ElfFile) -> str | None:
    """``elf``'s separate debug file: by build-id (checked), else by debuglink (CRC)."""
    path = by_build_id(elf.build_id)
    if path is not None and not _same_file(path, elf.path):
        try:
            with ElfFile(path) as dbg:
                if dbg.build_id == elf.build_id:
                    return path
        except ElfError:
            pass
    return by_debuglink(elf)


def debug_symbols(elf: ElfFile) -> tuple[str | None, list[Symbol]]:
    """(debug file, its symbols) for ``elf``; (None, []) when there is no usable one.

    A debug file's allocated sections are ``NOBITS``, so this is its ``.symtab``: the
    local functions the stripped binary no longer names, at the same link-time addresses.
    """
    path = find_debug_file(elf)
    if path is None:
        return None, []
    try:
        with ElfFile(path) as dbg:
            return path, dbg.symbols()
    except ElfError:
        return None, []


__all__ = [
    "DEBUG_DIRS",
    "by_build_id",
    "by_debuglink",
    "debug_symbols",
    "debuglink",
    "file_crc32",
    "find_debug_file",
]
