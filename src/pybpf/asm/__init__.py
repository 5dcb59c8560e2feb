"""The eBPF instruction set: typed instructions, encoding, assembler, disassembler, helpers."""

from __future__ import annotations

from pybpf.asm.insn import DecodeError, Insn, decode, encode
from pybpf.asm.opcodes import (
    LDDW,
    AluOp,
    AtomicOp,
    CallKind,
    Class,
    JmpOp,
    Mode,
    PseudoSrc,
    Size,
    Source,
)

__all__ = [
    "LDDW",
    "AluOp",
    "AtomicOp",
    "CallKind",
    "Class",
    "DecodeError",
    "Insn",
    "JmpOp",
    "Mode",
    "PseudoSrc",
    "Size",
    "Source",
    "decode",
    "encode",
]
