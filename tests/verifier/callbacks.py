"""Hand-assembled ``bpf_for_each_map_elem`` programs shared by the VM and verifier tests."""

from __future__ import annotations

from pybpf.asm import Insn, assemble

# Sums the values of the map at fd {fd} through a callback until one equals 30; returns
# sum * 256 + elements visited (r0 stays within 32 bits, as test_run reports it).
SUM = """
    mov %r1, 0
    stxdw [%r10-8], %r1
    lddw %r1, map_fd({fd})
    lddw %r2, func(cb)
    mov %r3, %r10
    add %r3, -8
    mov %r4, 0
    call 164
    ldxdw %r1, [%r10-8]
    lsh %r1, 8
    add %r0, %r1
    exit
cb:
    ldxdw %r1, [%r3+0]
    ldxdw %r2, [%r4+0]
    add %r2, %r1
    stxdw [%r4+0], %r2
    mov %r0, 0
    jne %r1, 30, out
    mov %r0, 1
out:
    exit
"""

_READ = "    ldxdw %r1, [%r3+0]\n"
BROKEN = {
    "write_past_value": SUM.replace(_READ, _READ + "    stxdw [%r3+4], %r1\n"),
    "returns_7": SUM.replace("    mov %r0, 1\nout", "    mov %r0, 7\nout"),
    "writes_key": SUM.replace(_READ, _READ + "    stxw [%r2+0], %r1\n"),
}
"""Callbacks both verifiers must reject."""


def program(text: str, fd: int) -> list[Insn]:
    """``text`` assembled against the map at ``fd``."""
    return assemble(text.replace("{fd}", str(fd)), "rfmt")


def callback_slots(insns: list[Insn]) -> list[int]:
    """Entry slots of the ``lddw func`` targets (what BTF func_info must list)."""
    out, slot = [], 0
    for i in insns:
        if i.opcode == 0x18 and i.src == 4:
            lo = i.imm & 0xFFFF_FFFF
            out.append(slot + 1 + (lo - (1 << 32) if lo >> 31 else lo))
        slot += 2 if i.opcode == 0x18 else 1
    return sorted(set(out))


__all__ = ["BROKEN", "SUM", "callback_slots", "program"]
