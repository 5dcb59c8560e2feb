"""USDT notes and argument specs, checked against readelf -n."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import pytest
from elf_oracle import LIBSTDCXX, PYTHON, readelf

from pybpf import elf
from pybpf.elf.usdt import PT_REGS_OFFSETS


def _oracle(path: str) -> list[tuple[str, str, int, int, int, str]]:
    text = readelf("-n", path)
    pat = re.compile(
        r"Provider: (\S+)\s+Name: (\S+)\s+Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+), "
        r"Semaphore: (0x[0-9a-f]+)\s+Arguments: ?([^\n]*)"
    )
    return [
        (m[1], m[2], int(m[3], 16), int(m[4], 16), int(m[5], 16), m[6].strip())
        for m in pat.finditer(text)
    ]


@pytest.mark.parametrize("path", [PYTHON, LIBSTDCXX])
def test_notes_match_readelf(path: str) -> None:
    expect = _oracle(path)
    assert expect, "the oracle found no probes"
    got = [
        (p.provider, p.name, p.pc, p.base, p.semaphore, p.args_text) for p in elf.usdt_probes(path)
    ]
    assert got == expect


def test_offsets_and_semaphore() -> None:
    probes = {p.name: p for p in elf.usdt_probes(PYTHON)}
    tab = elf.symbol_table(PYTHON)
    p = probes["function__entry"]
    assert p.offset == tab.vaddr_to_offset(p.pc)
    assert p.semaphore and p.semaphore_offset == tab.vaddr_to_offset(p.semaphore)
    # The semaphore lives in .probes: its file offset follows from the section header.
    with elf.ElfFile(PYTHON) as f:
        probes_sec = f.section(".probes")
        assert probes_sec is not None
        assert p.semaphore_offset == p.semaphore - probes_sec.addr + probes_sec.offset
    assert all(not q.semaphore and not q.semaphore_offset for q in elf.usdt_probes(LIBSTDCXX))


def test_prelink_adjustment(tmp_path: Path) -> None:
    """Moving .stapsdt.base (as prelink does) moves every probe's pc by the same amount."""
    copy = tmp_path / "libstdcxx.so"
    shutil.copyfile(LIBSTDCXX, copy)
    with elf.ElfFile(copy) as f:
        idx = next(i for i, s in enumerate(f.sections) if s.name == ".stapsdt.base")
        shoff, shentsize = f._shoff, f._shentsize
    data = bytearray(copy.read_bytes())
    at = shoff + idx * shentsize + 16  # sh_addr of a 64-bit section header
    (addr,) = struct.unpack_from("<Q", data, at)
    struct.pack_into("<Q", data, at, addr + 0x40)
    copy.write_bytes(bytes(data))
    before = elf.usdt_probes(LIBSTDCXX)
    after = elf.usdt_probes(str(copy))
    assert [a.pc - b.pc for a, b in zip(after, before, strict=True)] == [0x40] * len(before)


def test_every_probe_arg_parses() -> None:
    for path in (PYTHON, LIBSTDCXX):
        for p in elf.usdt_probes(path):
            assert len(p.args) == len(p.args_text.split())


CASES = [
    ("-4@%eax", 4, True, elf.ArgKind.REG, "rax", 0, "", 1),
    ("8@%r15", 8, False, elf.ArgKind.REG, "r15", 0, "", 1),
    ("2@%r9w", 2, False, elf.ArgKind.REG, "r9", 0, "", 1),
    ("1@%sil", 1, False, elf.ArgKind.REG, "rsi", 0, "", 1),
    ("8@-8(%rbp)", 8, False, elf.ArgKind.MEM, "rbp", -8, "", 1),
    ("-4@112(%rsp)", 4, True, elf.ArgKind.MEM, "rsp", 112, "", 1),
    ("8@(%rdi)", 8, False, elf.ArgKind.MEM, "rdi", 0, "", 1),
    ("8@0x10(%rax,%rbx,8)", 8, False, elf.ArgKind.SIB, "rax", 16, "rbx", 8),
    ("4@-4(%rax,%rcx)", 4, False, elf.ArgKind.SIB, "rax", -4, "rcx", 1),
    ("4@$5", 4, False, elf.ArgKind.CONST, "", 5, "", 1),
    ("-8@$-1", 8, True, elf.ArgKind.CONST, "", -1, "", 1),
]


@pytest.mark.parametrize("text,size,signed,kind,reg,value,index,scale", CASES)
def test_parse_arg(
    text: str,
    size: int,
    signed: bool,
    kind: elf.ArgKind,
    reg: str,
    value: int,
    index: str,
    scale: int,
) -> None:
    a = elf.parse_arg(text)
    assert (a.size, a.signed, a.kind, a.reg, a.value, a.index, a.scale) == (
        size, signed, kind, reg, value, index, scale
    )  # fmt: skip


def test_rip_relative_symbol() -> None:
    a = elf.parse_arg("8@counter+16(%rip)")
    assert (a.kind, a.reg, a.symbol, a.value) == (elf.ArgKind.MEM, "rip", "counter", 16)


def test_reg_offsets() -> None:
    assert elf.parse_arg("8@%rdi").reg_offset == PT_REGS_OFFSETS["rdi"] == 112
    assert elf.parse_arg("8@(%rax,%rbx,8)").index_offset == 40


@pytest.mark.parametrize("bad", ["3@%eax", "x@%eax", "8@%xyz", "8@$zz", "8@[sp, 8]"])
def test_bad_args(bad: str) -> None:
    with pytest.raises(elf.ElfError, match="USDT argument"):
        elf.parse_arg(bad)
