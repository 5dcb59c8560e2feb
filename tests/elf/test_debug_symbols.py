"""Symbols of separate debug files: found by build-id (checked) or by ``.gnu_debuglink``
(CRC-checked), merged into the binary's table for uprobe lookups, wildcards and ``-l``.
Oracles: readelf/nm on the debug files, and objcopy building them."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from elf_oracle import LIBC, readelf

from pybpf import elf
from pybpf.elf import debugfile
from pybpf.elf.symbols import SymbolTable

SOURCE = r"""
#define N __attribute__((noipa))
static N int hidden_one(int x) { return x * 3; }
static N int hidden_two(int x) { return x + 5; }
N int exported_fn(int x) { return hidden_one(x) + hidden_two(x); }
int main(int argc, char **argv) { (void)argv; return exported_fn(argc) == 0; }
"""


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A binary, its debug file beside it (debuglink) and stripped copies."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    d = tmp_path_factory.mktemp("dbgsyms")
    (d / "t.c").write_text(SOURCE)
    full = d / "full"
    subprocess.run(["gcc", "-g", "-O1", "-o", str(full), str(d / "t.c")], check=True)
    dbg = d / "t.debug"
    subprocess.run(["objcopy", "--only-keep-debug", str(full), str(dbg)], check=True)
    linked = d / "linked"
    subprocess.run(["objcopy", "--strip-all", f"--add-gnu-debuglink={dbg}", str(full),
                    str(linked)], check=True)  # fmt: skip
    bare = d / "bare"
    subprocess.run(["objcopy", "--strip-all", str(full), str(bare)], check=True)
    return {"full": full, "debug": dbg, "linked": linked, "bare": bare}


def nm_functions(path: Path | str) -> dict[str, int]:
    """Function symbols (t/T/i) of ``path`` as nm reports them: name -> address."""
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTiW" and int(parts[0], 16):
            found[parts[2]] = int(parts[0], 16)
    return found


def test_debuglink_section_and_crc(build: dict[str, Path]) -> None:
    with elf.ElfFile(build["linked"]) as f:
        link = debugfile.debuglink(f)
        assert link == ("t.debug", zlib.crc32(build["debug"].read_bytes()))
        assert debugfile.find_debug_file(f) == str(build["debug"])
    with elf.ElfFile(build["bare"]) as f:
        assert debugfile.debuglink(f) is None and debugfile.find_debug_file(f) is None


def test_debuglink_symbols_merged(build: dict[str, Path]) -> None:
    tab = elf.symbol_table(build["linked"])
    assert tab.debug_path == str(build["debug"])
    names = elf.function_names(build["linked"])
    assert {"hidden_one", "hidden_two", "exported_fn", "main"} <= set(names)
    assert names == sorted(set(names))
    # The stripped file names none of them itself; the debug file's addresses are used.
    assert not [s for s in elf.symbols(build["linked"]) if s.name == "hidden_one"]
    expect = nm_functions(build["full"])
    for name in ("hidden_one", "hidden_two", "exported_fn"):
        sym = elf.find_symbol(build["linked"], name)
        assert sym.value == expect[name] and sym.size > 0
        assert elf.symbol_offset(build["linked"], name) == elf.symbol_offset(build["full"], name)
    assert [s.name for s in elf.match_symbols(build["linked"], "hidden_*")] == [
        "hidden_one",
        "hidden_two",
    ]
    # Without a debug file, a stripped binary has no static functions at all.
    assert elf.function_names(build["bare"]) == []
    with pytest.raises(elf.SymbolNotFoundError):
        elf.symbol_offset(build["bare"], "hidden_one")


def test_debuglink_with_wrong_crc_is_ignored(build: dict[str, Path], tmp_path: Path) -> None:
    shutil.copy(build["linked"], tmp_path / "linked")
    # Same name, other contents: the CRC in the link no longer matches.
    (tmp_path / "t.debug").write_bytes(build["debug"].read_bytes() + b"\0")
    tab = elf.symbol_table(tmp_path / "linked")
    assert tab.debug_path is None and tab.functions() == []
    # In the .debug/ directory beside it, with the right CRC: found.
    (tmp_path / "t.debug").unlink()
    (tmp_path / ".debug").mkdir()
    shutil.copy(build["debug"], tmp_path / ".debug" / "t.debug")
    with elf.ElfFile(tmp_path / "linked") as f:
        assert debugfile.find_debug_file(f) == str(tmp_path / ".debug" / "t.debug")


def test_debug_file_by_build_id(
    build: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hexid = elf.build_id(build["full"])
    assert hexid
    root = tmp_path / "debug"
    dbg = root / ".build-id" / hexid[:2] / f"{hexid[2:]}.debug"
    dbg.parent.mkdir(parents=True)
    shutil.copy(build["debug"], dbg)
    monkeypatch.setattr(debugfile, "DEBUG_DIRS", (str(root),))
    with elf.ElfFile(build["bare"]) as f:
        assert debugfile.find_debug_file(f) == str(dbg)
        tab = SymbolTable.from_elf(f)
    assert "hidden_two" in tab.functions()
    # A file under the build-id name whose own build-id differs is not trusted.
    subprocess.run(["objcopy", "--remove-section=.note.gnu.build-id", str(build["debug"]),
                    str(dbg)], check=True)  # fmt: skip
    with elf.ElfFile(build["bare"]) as f:
        assert debugfile.find_debug_file(f) is None


def _libc_debug_functions() -> set[str]:
    """Named FUNC/IFUNC symbols with an address in libc's debug file, per readelf."""
    with elf.ElfFile(LIBC) as f:
        path = debugfile.find_debug_file(f)
    if path is None:
        pytest.skip("libc6-dbg is not installed")
    names = set()
    for line in readelf("-s", path).splitlines():
        p = line.split()
        if len(p) >= 8 and p[3] in ("FUNC", "IFUNC") and int(p[1], 16):
            names.add(p[7])
    return names


def test_libc_functions_are_the_union_of_dynsym_and_debug_symtab() -> None:
    dyn = set()
    for line in readelf("--dyn-syms", LIBC).splitlines():
        p = line.split()
        if len(p) >= 8 and p[3] in ("FUNC", "IFUNC") and int(p[1], 16):
            dyn.add(p[7].split("@")[0])
    expect = {n for n in dyn | _libc_debug_functions() if ".part." not in n}
    got = elf.function_names(LIBC)
    assert set(got) == expect and got == sorted(got)
    # A local function only the debug file names, at its debug-file address.
    assert "__libc_start_call_main" not in dyn and "__libc_start_call_main" in got
    addr = next(int(ln.split()[1], 16) for ln in readelf("--dyn-syms", LIBC).splitlines()
                if ln.endswith(" getpid@@GLIBC_2.2.5"))  # fmt: skip
    assert elf.find_symbol(LIBC, "getpid").value == addr
    assert len(elf.match_symbols(LIBC, "str*")) > len([n for n in dyn if re.match(r"str", n)])
