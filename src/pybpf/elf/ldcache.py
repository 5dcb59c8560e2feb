"""Finding shared libraries the way the dynamic linker does.

``libc``, ``c``, ``libc.so.6`` and ``/abs/path/libfoo.so`` all name a library; the search is
LD_LIBRARY_PATH, then /etc/ld.so.cache (the "glibc-ld.so.cache1.1" format, possibly behind the
old "ld.so-1.7.0" one), then the default directories.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import struct
from functools import lru_cache

from pybpf.elf.reader import ElfError

LD_SO_CACHE = "/etc/ld.so.cache"
_NEW_MAGIC = b"glibc-ld.so.cache1.1"
_OLD_MAGIC = b"ld.so-1.7.0"
DEFAULT_DIRS = (
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/lib",
)
# ld.so.cache entry flags: the low byte is the ABI (3 = ELF libc6), the high byte the
# architecture; an entry is only usable when its architecture is ours.
_ARCH_FLAGS = {"x86_64": 0x0300, "aarch64": 0x0A00, "riscv64": 0x1000, "ppc64le": 0x0500}


def parse_ld_so_cache(data: bytes) -> list[tuple[str, str, int]]:
    """(soname, path, flags) of every entry in the new-format part of an ld.so.cache image."""
    start = data.find(_NEW_MAGIC)
    if start < 0 or (start > 0 and not data.startswith(_OLD_MAGIC)):
        raise ElfError("ld.so.cache: no glibc-ld.so.cache1.1 section")
    nlibs, _strlen = struct.unpack_from("<II", data, start + 20)
    out = []
    for i in range(nlibs):
        flags, key, value, _osv, _hwcap = struct.unpack_from("<iIIIQ", data, start + 48 + 24 * i)
        # String offsets of the new format are relative to its own header.
        out.append((_cstr(data, start + key), _cstr(data, start + value), flags))
    return out


def _cstr(data: bytes, off: int) -> str:
    end = data.find(b"\0", off)
    return data[off:end].decode("utf-8", "replace")


@lru_cache(maxsize=1)
def _cache_entries(path: str = LD_SO_CACHE) -> tuple[tuple[str, str], ...]:
    """(soname, path) of the entries usable by this architecture."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        entries = parse_ld_so_cache(data)
    except (OSError, ElfError, struct.error):
        return ()
    want = _ARCH_FLAGS.get(platform.machine())
    return tuple((name, p) for name, p, fl in entries if want is None or (fl & 0xFF00) == want)


def _is_elf(path: str) -> bool:
    # Development symlinks like libc.so can be linker scripts: only ELF files count.
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _wanted(name: str) -> list[re.Pattern[str]]:
    """Soname patterns for ``name``, best first: exact, then versioned, then bare .so."""
    if ".so" in name:
        exact = [re.compile(re.escape(name) + "$")]
        # "libc.so" is often a linker script: fall back to the versioned library.
        if name.endswith(".so"):
            exact.append(re.compile(re.escape(name) + r"\.\d[\d.]*$"))
        return exact
    stems = [name] if name.startswith("lib") else [f"lib{name}", name]
    pats = []
    for stem in stems:
        pats.append(re.compile(re.escape(stem) + r"\.so\.\d[\d.]*$"))
        pats.append(re.compile(re.escape(stem) + r"\.so$"))
        # libpython3.11 style: the version sits before ".so".
        pats.append(re.compile(re.escape(stem) + r"[\d.]*\.so(\.\d[\d.]*)?$"))
    return pats


def _search_dirs(dirs: list[str], pat: re.Pattern[str]) -> str | None:
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            if pat.match(n) and _is_elf(os.path.join(d, n)):
                return os.path.join(d, n)
    return None


def resolve_library(name: str) -> str:
    """The absolute path of library ``name`` (``libc``, ``c``, ``libc.so.6`` or a path)."""
    if not name:
        raise ElfError("library name is empty")
    if "/" in name:
        path = os.path.abspath(name)
        if not os.path.exists(path):
            raise ElfError(f"{name}: no such file")
        return path
    env_dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    entries = _cache_entries()
    for pat in _wanted(name):
        found = _search_dirs(env_dirs, pat)
        if found:
            return found
        for soname, path in entries:
            if pat.match(soname) and _is_elf(path):
                return path
        found = _search_dirs(list(DEFAULT_DIRS), pat)
        if found:
            return found
    raise ElfError(
        f"library '{name}' not found (searched LD_LIBRARY_PATH, ld.so.cache, /lib, /usr/lib)"
    )


def resolve_binary(name: str) -> str:
    """An executable or library named by path, by $PATH lookup, or as a library name."""
    if "/" in name:
        return resolve_library(name)
    found = shutil.which(name)
    if found:
        return os.path.abspath(found)
    return resolve_library(name)


__all__ = ["parse_ld_so_cache", "resolve_binary", "resolve_library"]
