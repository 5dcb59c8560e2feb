"""Damaged ELF files give ElfError (one clear line), never an exception from deep inside."""

from __future__ import annotations

import tempfile
from pathlib import Path

from elf_oracle import LIBSTDCXX
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf import elf
from pybpf.elf.usdt import read_probes

# The headers, section table and notes of a small binary are where damage matters.
SMALL = Path("/bin/true").read_bytes()


def _exercise(path: str) -> None:
    try:
        with elf.ElfFile(path) as f:
            tab = elf.SymbolTable.from_elf(f)
            f.is_pie  # noqa: B018 -- evaluated for its parsing
            read_probes(f)
        for s in tab.symbols[:50]:
            try:
                tab.vaddr_to_offset(s.value)
            except elf.ElfError:
                pass
        tab.lookup(0x1000)
        tab.match("*")
    except elf.ElfError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, len(SMALL) - 1), st.integers(0, 255)), min_size=1, max_size=8
    ),
    st.booleans(),
)
def test_fuzzed_elf(flips: list[tuple[int, int]], header_only: bool) -> None:
    data = bytearray(SMALL)
    for off, val in flips:
        # Half the runs aim at the ELF header and program headers, the densest structure.
        data[off % 256 if header_only else off] = val
    with tempfile.NamedTemporaryFile(suffix=".elf") as tmp:
        tmp.write(bytes(data))
        tmp.flush()
        _exercise(tmp.name)


def test_truncations() -> None:
    data = Path(LIBSTDCXX).read_bytes()
    with tempfile.NamedTemporaryFile() as tmp:
        for cut in (0, 10, 63, 64, 100, 4096, len(data) // 2):
            tmp.seek(0)
            tmp.truncate()
            tmp.write(data[:cut])
            tmp.flush()
            _exercise(tmp.name)
