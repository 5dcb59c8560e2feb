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

import importlib

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

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.asm.assembler import assemble, detect_dialect
    from pybpf.asm.builder import ProgramBuilder, Reg
    from pybpf.asm.disasm import Record, disassemble
    from pybpf.asm.fmt import format_c, format_rfmt, format_xlated
    from pybpf.asm.forms import Form, InvalidInsn, classify, is_valid

# The assembler, disassembler and formatters are imported on first use: the loader and
# the tracer need only Insn and the opcodes, and start-up time is a feature.
_LAZY = {
    "assemble": "assembler",
    "detect_dialect": "assembler",
    "ProgramBuilder": "builder",
    "Reg": "builder",
    "Record": "disasm",
    "disassemble": "disasm",
    "format_c": "fmt",
    "format_rfmt": "fmt",
    "format_xlated": "fmt",
    "Form": "forms",
    "InvalidInsn": "forms",
    "classify": "forms",
    "is_valid": "forms",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pybpf.asm' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pybpf.asm.{module}"), name)
    globals()[name] = value
    return value


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
