"""Library resolution agrees with ldconfig -p."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from pybpf import elf


def _ldconfig() -> tuple[int, dict[str, str]]:
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"(\d+) libs found", out).group(1))  # type: ignore[union-attr]
    libs: dict[str, str] = {}
    for m in re.finditer(r"^\s+(\S+) \(([^)]*)\) => (\S+)$", out, re.M):
        if "x86-64" in m.group(2):
            libs.setdefault(m.group(1), m.group(3))
    return count, libs


def test_cache_parse_matches_ldconfig() -> None:
    count, libs = _ldconfig()
    entries = elf.parse_ld_so_cache(Path("/etc/ld.so.cache").read_bytes())
    assert len(entries) == count
    ours = {}
    for name, path, _flags in entries:
        ours.setdefault(name, path)
    for name, path in libs.items():
        assert ours[name] == path


@pytest.mark.parametrize("name", ["libc", "c", "libc.so.6", "libc.so"])
def test_libc(name: str) -> None:
    _count, libs = _ldconfig()
    assert elf.resolve_library(name) == libs["libc.so.6"]


def test_versioned_stem() -> None:
    _count, libs = _ldconfig()
    assert elf.resolve_library("libpython3.11") == libs["libpython3.11.so.1.0"]


def test_absolute_and_relative_paths(tmp_path: os.PathLike[str]) -> None:
    assert (
        elf.resolve_library("/lib/x86_64-linux-gnu/libc.so.6") == "/lib/x86_64-linux-gnu/libc.so.6"
    )
    with pytest.raises(elf.ElfError, match="no such file"):
        elf.resolve_library("/nonexistent/libx.so")


def test_ld_library_path_first(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    src = elf.resolve_library("libc.so.6")
    dst = os.path.join(tmp_path, "libc.so.6")
    with open(src, "rb") as a, open(dst, "wb") as b:
        b.write(a.read())
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    assert elf.resolve_library("libc") == dst


def test_not_found() -> None:
    with pytest.raises(elf.ElfError, match="library 'nosuchlib_xyz' not found"):
        elf.resolve_library("nosuchlib_xyz")


def test_resolve_binary() -> None:
    assert os.path.basename(elf.resolve_binary("bash")) == "bash"
    assert elf.resolve_binary("libc") == elf.resolve_library("libc")


def test_old_format_prefix() -> None:
    new = Path("/etc/ld.so.cache").read_bytes()
    # An old-format header with zero entries in front, as glibc < 2.32 wrote by default.
    # New-format string offsets are relative to the new header, so they survive the shift.
    old = b"ld.so-1.7.0" + b"\0" + (0).to_bytes(4, "little")
    assert elf.parse_ld_so_cache(old + new) == elf.parse_ld_so_cache(new)
    with pytest.raises(elf.ElfError):
        elf.parse_ld_so_cache(b"garbage" * 10)
