"""The eBPF instruction set: typed instructions, encoding, assembler, disassembler, helpers.

Public entry points (see docs/asm.md):

- :class:`Insn`, :func:`encode`, :func:`decode` -- the wire format
- :mod:`pybpf.asm.builder` -- constructors per form and :class:`ProgramBuilder` (labels)
- :func:`assemble` -- text in the ``%r`` or C-like dialect to instructions
- :func:`disassemble` -- instructions to :class:`Record` values; :mod:`pybpf.asm.fmt` prints them
- :mod:`pybpf.asm.helpers` -- helper ids, names and signatures
- :func:`classify` -- the :class:`Form` of an instruction, or why it has none
"""

from __future__ import annotations

from pybpf.asm.assembler import assemble, detect_dialect
from pybpf.asm.builder import ProgramBuilder, Reg
from pybpf.asm.disasm import Record, disassemble
from pybpf.asm.fmt import format_c, format_rfmt, format_xlated
from pybpf.asm.forms import Form, InvalidInsn, classify, is_valid
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
    "Form",
    "Insn",
    "InvalidInsn",
    "JmpOp",
    "Mode",
    "ProgramBuilder",
    "PseudoSrc",
    "Record",
    "Reg",
    "Size",
    "Source",
    "assemble",
    "classify",
    "decode",
    "detect_dialect",
    "disassemble",
    "encode",
    "format_c",
    "format_rfmt",
    "format_xlated",
    "is_valid",
]
