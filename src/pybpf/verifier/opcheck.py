"""Per-instruction validity: known opcodes, reserved fields zero, registers in range.

Messages follow the kernel verifier's wording (``unknown opcode 8f``, ``BPF_ALU uses reserved
fields``). The VM runs the same check when it prepares a program, so an instruction the
verifier would call malformed never runs anywhere.
"""

from __future__ import annotations

from pybpf.asm.insn import Insn

_ALU_OPS = frozenset(range(0x00, 0xD0, 0x10))
_COND_OPS = frozenset((0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xA0, 0xB0, 0xC0, 0xD0))
_ATOMIC_IMMS = frozenset((0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xA0, 0xA1, 0xE1, 0xF1))
_PSEUDO_LDDW = frozenset((0, 1, 2, 4, 5, 6))
CALLX = 0x8D
"""``call %reg``: the VM runs it (conformance suite); the kernel has no such instruction."""


def check_insn(insn: Insn, allow_callx: bool = False) -> str | None:
    """Why ``insn`` is malformed, or None when it is well formed."""
    op = insn.opcode
    if insn.dst > 10 or insn.src > 10:
        return f"R{max(insn.dst, insn.src)} is invalid"
    cls = op & 0x07
    if cls in (0x04, 0x07):
        return _check_alu(insn, cls == 0x07)
    if cls in (0x05, 0x06):
        return _check_jmp(insn, cls == 0x06, allow_callx)
    if cls == 0x00:
        if op != 0x18:
            return f"unknown opcode {op:02x}"
        if insn.off != 0 or insn.src not in _PSEUDO_LDDW:
            return "invalid bpf_ld_imm64 insn"
        return None
    if cls == 0x01:
        mode, size = op & 0xE0, op & 0x18
        if mode not in (0x60, 0x80) or (mode == 0x80 and size == 0x18):
            return f"unknown opcode {op:02x}"
        return "BPF_LDX uses reserved fields" if insn.imm != 0 else None
    if cls == 0x02:
        if op & 0xE0 != 0x60:
            return f"unknown opcode {op:02x}"
        return "BPF_ST uses reserved fields" if insn.src != 0 else None
    # STX
    mode, size = op & 0xE0, op & 0x18
    if mode == 0x60:
        return "BPF_STX uses reserved fields" if insn.imm != 0 else None
    if mode == 0xC0 and size in (0x00, 0x18):
        if insn.imm not in _ATOMIC_IMMS:
            return f"BPF_ATOMIC uses invalid atomic opcode {insn.imm & 0xFF:02x}"
        return None
    return f"unknown opcode {op:02x}"


def _check_alu(insn: Insn, is64: bool) -> str | None:
    op = insn.opcode & 0xF0
    x = insn.opcode & 0x08
    if op == 0xD0:
        if is64 and x:
            return f"unknown opcode {insn.opcode:02x}"
        if insn.src or insn.off or insn.imm not in (16, 32, 64):
            return "BPF_END uses reserved fields"
        return None
    if op not in _ALU_OPS:
        return f"unknown opcode {insn.opcode:02x}"
    if op == 0x80:
        if x or insn.src or insn.off or insn.imm:
            return "BPF_NEG uses reserved fields"
        return None
    if op == 0xB0:
        offs = (0, 8, 16, 32) if is64 else (0, 8, 16)
        if x:
            bad = insn.imm != 0 or insn.off not in offs
        else:
            bad = insn.src != 0 or insn.off != 0
        return "BPF_MOV uses reserved fields" if bad else None
    allowed_off = (0, 1) if op in (0x30, 0x90) else (0,)
    if insn.off not in allowed_off:
        return "BPF_ALU uses reserved fields"
    if x:
        return "BPF_ALU uses reserved fields" if insn.imm != 0 else None
    return "BPF_ALU uses reserved fields" if insn.src != 0 else None


def _check_jmp(insn: Insn, is32: bool, allow_callx: bool) -> str | None:
    op = insn.opcode & 0xF0
    x = insn.opcode & 0x08
    if op == 0x00:
        if x or insn.src or insn.dst:
            return "BPF_JA uses reserved fields"
        if is32:
            return "BPF_JA uses reserved fields" if insn.off else None
        return "BPF_JA uses reserved fields" if insn.imm else None
    if op == 0x80 and not is32:
        if x:
            if not allow_callx:
                return "BPF_CALL uses reserved fields"
            return "BPF_CALL uses reserved fields" if insn.off or insn.src else None
        if insn.off or insn.dst or insn.src not in (0, 1, 2):
            return "BPF_CALL uses reserved fields"
        return None
    if op == 0x90 and not is32:
        if x or insn.src or insn.dst or insn.off or insn.imm:
            return "BPF_EXIT uses reserved fields"
        return None
    if op not in _COND_OPS:
        return f"unknown opcode {insn.opcode:02x}"
    if x:
        return "BPF_JMP/JMP32 uses reserved fields" if insn.imm else None
    return "BPF_JMP/JMP32 uses reserved fields" if insn.src else None


__all__ = ["CALLX", "check_insn"]
