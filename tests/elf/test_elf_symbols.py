"""ELF symbol tables, offsets, PIE and build-id, checked against readelf."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from elf_oracle import LIBC, PYTHON, readelf

from pybpf import elf


def _load_segments(path: str) -> list[tuple[int, int, int]]:
    """(offset, vaddr, filesz) of each LOAD program header, parsed from readelf -l."""
    out = []
    for line in readelf("-l", path).splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            out.append((int(f[1], 16), int(f[2], 16), int(f[4], 16)))
    return out


def _readelf_symbol(path: str, name: str) -> int:
    for line in readelf("--dyn-syms", path).splitlines():
        f = line.split()
        if len(f) >= 8 and f[7] == f"{name}@@GLIBC_2.2.5":
            return int(f[1], 16)
    raise AssertionError(f"{name} not in readelf output")


def test_symbol_offset_matches_readelf() -> None:
    vaddr = _readelf_symbol(LIBC, "getpid")
    expect = next(o + vaddr - v for o, v, sz in _load_segments(LIBC) if v <= vaddr < v + sz)
    assert elf.symbol_offset(LIBC, "getpid") == expect
    sym = elf.find_symbol(LIBC, "getpid")
    assert sym.value == vaddr and sym.type == elf.SymType.FUNC and sym.size > 0


def test_dynsym_names_match_readelf() -> None:
    names = set()
    for line in readelf("--dyn-syms", LIBC).splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].rstrip(":").isdigit() and f[0] != "0:":
            names.add(f[7].split("@")[0])
    ours = {s.name for s in elf.symbols(LIBC) if s.dynamic and s.name}
    assert ours == names


def test_every_symbol_table_read() -> None:
    """As many symbols as readelf lists over all symbol tables (less each null entry)."""
    count = len(re.findall(r"^\s+\d+: ", readelf("-s", PYTHON), re.M))
    nulls = readelf("-S", PYTHON).count(" SYMTAB ") + readelf("-S", PYTHON).count(" DYNSYM ")
    assert len(elf.symbols(PYTHON)) == count - nulls


def test_default_version_preferred() -> None:
    # realpath has two versions in libc; the default (@@) one must win.
    lines = [ln for ln in readelf("--dyn-syms", LIBC).splitlines() if " realpath@" in ln]
    default = next(ln for ln in lines if "realpath@@" in ln)
    assert len(lines) >= 2
    assert elf.find_symbol(LIBC, "realpath").value == int(default.split()[1], 16)
    assert not elf.find_symbol(LIBC, "realpath").hidden_version


def test_glob() -> None:
    names = [s.name for s in elf.match_symbols(LIBC, "str*")]
    assert "strlen" in names and "strcmp" in names and names == sorted(names)
    assert all(n.startswith("str") for n in names)
    assert [s.name for s in elf.match_symbols(LIBC, "getpid")] == ["getpid"]
    assert elf.match_symbols(LIBC, "no_such_thing*") == []


def test_missing_symbol() -> None:
    with pytest.raises(elf.SymbolNotFoundError, match="no symbol 'nope_nope'"):
        elf.symbol_offset(LIBC, "nope_nope")


def test_pie_and_type() -> None:
    def oracle(path: str) -> bool:
        hdr = readelf("-h", path)
        if "DYN (" not in hdr:
            return False
        dyn = readelf("-d", path)
        if re.search(r"FLAGS_1.*PIE", dyn):
            return True
        interp = "Requesting program interpreter" in readelf("-l", path)
        return interp and "(SONAME)" not in dyn

    for path in (LIBC, PYTHON, "/bin/bash", "/bin/ls"):
        assert elf.is_pie(path) == oracle(path), path
    assert not elf.is_pie(LIBC)


def test_build_id() -> None:
    m = re.search(r"Build ID: ([0-9a-f]+)", readelf("-n", LIBC))
    assert m is not None
    assert elf.build_id(LIBC) == m.group(1)


def test_not_elf(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    p.write_text("hello, this is not an ELF file at all, but long enough to look at" * 2)
    with pytest.raises(elf.ElfError, match="not an ELF file"):
        elf.symbols(p)
    with pytest.raises(elf.ElfError, match="No such file"):
        elf.symbols(tmp_path / "missing")


def test_truncated_elf(tmp_path: Path) -> None:
    p = tmp_path / "trunc.so"
    p.write_bytes(Path(LIBC).read_bytes()[:4096])
    with pytest.raises(elf.ElfError):
        elf.symbols(p)


def test_elffile_closes() -> None:
    with elf.ElfFile(LIBC) as f:
        assert f.section(".dynsym") is not None
    assert f.closed


def test_symbol_lookup_by_address() -> None:
    tab = elf.symbol_table(LIBC)
    getpid = tab.find("getpid")
    hit = tab.lookup(getpid.value + 3)
    assert hit is not None and hit[1] == 3 and hit[0].value == getpid.value
    assert tab.lookup(0) is None


def test_symbolizer_own_process() -> None:
    import ctypes
    import os

    libc = ctypes.CDLL(LIBC)
    addr = ctypes.cast(libc.getpid, ctypes.c_void_p).value
    assert addr is not None
    s = elf.Symbolizer(os.getpid())
    res = s.symbolize(addr + 2)
    assert res is not None
    assert Path(res.module).resolve() == Path(LIBC).resolve()
    assert (res.symbol, res.offset) == ("getpid", 2)
    assert str(res) == "getpid+2"
    assert s.symbolize(8) is None


def test_parse_maps() -> None:
    text = (
        "55d0c0a00000-55d0c0a2c000 r--p 00000000 fd:01 1311 /usr/bin/bash\n"
        "7ffc1b5e0000-7ffc1b601000 rw-p 00000000 00:00 0                          [stack]\n"
        "7f00 00\n"
    )
    maps = elf.parse_maps(text)
    assert len(maps) == 2
    assert maps[0].start == 0x55D0C0A00000 and maps[0].path == "/usr/bin/bash"
    assert maps[0].file_backed and not maps[1].file_backed and maps[1].path == "[stack]"


def test_symbolizer_subprocess_main_binary() -> None:
    """A function of a child's main executable, found through the child's maps."""
    child = subprocess.Popen([PYTHON, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        for _ in range(200):
            if PYTHON in Path(f"/proc/{child.pid}/maps").read_text():
                break
            time.sleep(0.01)
        tab = elf.symbol_table(PYTHON)
        sym = tab.find("Py_BytesMain")
        s = elf.Symbolizer(child.pid)
        m = next(m for m in s._maps if m.path == PYTHON)
        # Load bias: zero for a non-PIE executable, the mapping's base otherwise.
        bias = m.start - tab.offset_to_vaddr(m.offset) if tab.position_independent else 0
        res = s.symbolize(bias + sym.value + 1)
        assert res is not None and (res.symbol, res.offset) == ("Py_BytesMain", 1)
    finally:
        child.communicate(b"")


def test_symbolizer_deleted_library(tmp_path: Path) -> None:
    """A library deleted while mapped (an upgrade in place) still symbolises."""
    lib = tmp_path / "libuuidcopy.so"
    lib.write_bytes(Path(elf.resolve_library("libuuid.so.1")).read_bytes())
    code = (
        "import ctypes, sys\n"
        f"lib = ctypes.CDLL({str(lib)!r})\n"
        "print(ctypes.cast(lib.uuid_generate, ctypes.c_void_p).value, flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        addr = int(child.stdout.readline())
        lib.unlink()
        s = elf.Symbolizer(child.pid)
        m = s.mapping(addr)
        assert m is not None and m.path.endswith(" (deleted)")
        res = s.symbolize(addr + 4)
        assert res == elf.Resolved(str(lib), "uuid_generate", 4)
    finally:
        child.communicate("")


def test_symtab_of_unstripped_file(tmp_path: Path) -> None:
    """A .symtab (here added by objcopy to a stripped binary) is read beside .dynsym."""
    out = tmp_path / "true_with_symtab"
    subprocess.run(
        [
            "objcopy",
            "--add-symbol",
            "pybpf_probe_here=.text:0x20,global,function",
            "/bin/true",
            str(out),
        ],
        check=True,
    )
    text_sec = next(ln for ln in readelf("-S", str(out)).splitlines() if " .text " in ln)
    text_addr = int(text_sec.split(".text")[1].split()[1], 16)
    sym = elf.find_symbol(out, "pybpf_probe_here")
    assert (sym.value, sym.type, sym.bind, sym.dynamic) == (
        text_addr + 0x20, elf.SymType.FUNC, elf.SymBind.GLOBAL, False
    )  # fmt: skip
    assert any(s.dynamic for s in elf.symbols(out))  # .dynsym still read too
    expect = next(
        o + sym.value - v for o, v, sz in _load_segments(str(out)) if v <= sym.value < v + sz
    )
    assert elf.symbol_offset(out, "pybpf_probe_here") == expect
