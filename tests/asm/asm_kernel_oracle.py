"""Real oracles for the disassembler: the kernel's verifier log and bpftool's xlated dump.

Used by the kernel tests (live comparison) and by tests/testdata/asm/capture.py, which
stores the same observations as goldens for the tests that run without a kernel.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pybpf.asm import Insn, assemble
from pybpf.asm.fmt import kallsyms_resolver

XLATED_DIR = Path(__file__).resolve().parents[1] / "testdata" / "asm" / "xlated"
PROGRAMS = ("alu_jmp", "mem_atomic", "maps_helpers", "v4_forms")
"""Sources in XLATED_DIR; each loads as a socket filter."""

_VLOG_LINE = re.compile(r"^(\d+): \(([0-9a-f]{2})\) (.*?)(?:\s+; .*)?$")


@dataclass(frozen=True)
class Observation:
    """What the kernel and bpftool said about one loaded program."""

    insns: list[Insn]  # what we loaded
    xlated: bytes  # the kernel's translated program
    bpftool: str  # `bpftool prog dump xlated id N`
    verifier: dict[int, str]  # slot -> the kernel's text of the *original* instruction
    calls: dict[int, str]  # translated call imm -> kallsyms name (bpftool's resolution)


def source(name: str, map_fd: int = 0) -> str:
    """The program text with ``{map_fd}`` filled in."""
    return (XLATED_DIR / f"{name}.s").read_text().replace("{map_fd}", str(map_fd))


def parse_verifier_log(log: str) -> dict[int, str]:
    """slot -> instruction text, from a log_level 2 verifier log (first sighting wins)."""
    out: dict[int, str] = {}
    for line in log.splitlines():
        m = _VLOG_LINE.match(line)
        if m:
            out.setdefault(int(m.group(1)), f"({m.group(2)}) {m.group(3)}")
    return out


def observe(name: str) -> Observation:
    """Load program ``name``, and collect the verifier log, xlated bytes and bpftool's dump."""
    from pybpf.bpf import Map, MapSpec, Program, ProgSpec
    from pybpf.bpf.syscall import MapType, ProgType

    with Map.create(MapSpec(MapType.ARRAY, 4, 8, 1, name="asm_golden")) as m:
        insns = assemble(source(name, m.fd), "c")
        spec = ProgSpec(ProgType.SOCKET_FILTER, tuple(insns), name=f"asm_{name}"[:15])
        with Program.load(spec, log_level=2) as prog:
            xlated = prog.info(xlated=True).xlated or b""
            dump = subprocess.run(
                ["bpftool", "prog", "dump", "xlated", "id", str(prog.id)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            log = prog.verifier_log
    with open("/proc/kallsyms", encoding="utf-8") as f:
        resolve = kallsyms_resolver(f.read())
    from pybpf.asm import decode

    calls = {}
    for insn in decode(xlated):
        if insn.is_call and insn.src == 0 and not insn.opcode & 0x08:
            sym = resolve(insn)
            if sym is not None:
                calls[insn.imm] = sym
    return Observation(insns, xlated, dump, parse_verifier_log(log), calls)


def xlated_from_json(entries: list[dict[str, object]]) -> bytes:
    """Program bytes from ``bpftool -j prog dump xlated id N opcodes``.

    Each entry's ``opcodes`` has code, src_reg, dst_reg, off (2 bytes) and imm (4 bytes,
    or 12 for lddw: imm, the next slot's first 4 bytes, the next slot's imm).
    """
    raw = bytearray()
    for e in entries:
        o = e["opcodes"]
        assert isinstance(o, dict)
        raw += bytes([int(o["code"], 16), int(o["src_reg"], 16) << 4 | int(o["dst_reg"], 16)])
        raw += bytes(int(x, 16) for x in o["off"])
        raw += bytes(int(x, 16) for x in o["imm"])
    return bytes(raw)
