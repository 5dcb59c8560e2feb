"""eBPF opcode fields as enums (RFC 9669 section 3), so every constant prints by name."""

from __future__ import annotations

from enum import IntEnum


class Class(IntEnum):
    """Instruction class: the low 3 bits of the opcode."""

    LD = 0x00
    LDX = 0x01
    ST = 0x02
    STX = 0x03
    ALU = 0x04
    JMP = 0x05
    JMP32 = 0x06
    ALU64 = 0x07


class Size(IntEnum):
    """Load/store width: opcode bits 3-4."""

    W = 0x00
    H = 0x08
    B = 0x10
    DW = 0x18

    @property
    def nbytes(self) -> int:
        """Width in bytes."""
        return {Size.W: 4, Size.H: 2, Size.B: 1, Size.DW: 8}[self]


class Mode(IntEnum):
    """Load/store mode: opcode bits 5-7."""

    IMM = 0x00
    ABS = 0x20
    IND = 0x40
    MEM = 0x60
    MEMSX = 0x80
    ATOMIC = 0xC0


class Source(IntEnum):
    """Operand source for ALU and JMP: bit 3 (K = immediate, X = register)."""

    K = 0x00
    X = 0x08


class AluOp(IntEnum):
    """ALU operation: opcode bits 4-7."""

    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90
    XOR = 0xA0
    MOV = 0xB0
    ARSH = 0xC0
    END = 0xD0


class JmpOp(IntEnum):
    """Jump operation: opcode bits 4-7."""

    JA = 0x00
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40
    JNE = 0x50
    JSGT = 0x60
    JSGE = 0x70
    CALL = 0x80
    EXIT = 0x90
    JLT = 0xA0
    JLE = 0xB0
    JSLT = 0xC0
    JSLE = 0xD0
    JCOND = 0xE0
    """``may_goto`` (JMP class, K source, src_reg 0): a kernel extension beyond RFC 9669."""


class AtomicOp(IntEnum):
    """Atomic operation in the imm field of a STX|ATOMIC instruction."""

    ADD = 0x00
    OR = 0x40
    AND = 0x50
    XOR = 0xA0
    FETCH = 0x01
    XCHG = 0xE0 | 0x01
    CMPXCHG = 0xF0 | 0x01


class PseudoSrc(IntEnum):
    """src_reg values of a 64-bit immediate load (``lddw``)."""

    NONE = 0
    MAP_FD = 1
    MAP_VALUE = 2
    BTF_ID = 3
    FUNC = 4
    MAP_IDX = 5
    MAP_IDX_VALUE = 6


class CallKind(IntEnum):
    """src_reg values of a ``call`` instruction."""

    HELPER = 0
    LOCAL = 1
    KFUNC = 2


LDDW = Class.LD | Size.DW | Mode.IMM
"""The opcode of the only two-slot instruction (0x18)."""
