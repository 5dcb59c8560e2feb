"""Every instruction form of RFC 9669 (plus the kernel's ``may_goto``), and which fields each uses.

:func:`classify` names the form of an :class:`~pybpf.asm.insn.Insn` and checks that the
fields the form does not use are zero, as RFC 9669 requires ("unused fields ... MUST be
set to zero"). The disassembler prints only valid forms by name; the VM and the verifier
can use the same check to reject reserved encodings.
"""

from __future__ import annotations

from enum import Enum

from pybpf.asm.insn import Insn
from pybpf.asm.opcodes import LDDW, AluOp, AtomicOp, CallKind, Class, JmpOp, Mode, PseudoSrc, Size


class Form(Enum):
    """The shape of an instruction: which operands it has and how it reads them."""

    ALU_IMM = "alu_imm"  # dst op= imm (ALU or ALU64), incl. sdiv/smod (off 1)
    ALU_REG = "alu_reg"  # dst op= src, incl. sdiv/smod (off 1)
    MOVSX = "movsx"  # dst = (sN) src: MOV|X with off 8/16/32
    NEG = "neg"  # dst = -dst
    ENDIAN = "endian"  # le/be (ALU|END, source bit picks the order)
    BSWAP = "bswap"  # unconditional byte swap (ALU64|END|K)
    LDDW = "lddw"  # 64-bit immediate load, src = PseudoSrc
    LD_ABS = "ld_abs"  # legacy packet load r0 = *(size *)skb[imm]
    LD_IND = "ld_ind"  # legacy packet load r0 = *(size *)skb[src + imm]
    LDX = "ldx"  # dst = *(size *)(src + off)
    LDXSX = "ldxsx"  # sign-extending load (MEMSX)
    ST = "st"  # *(size *)(dst + off) = imm
    STX = "stx"  # *(size *)(dst + off) = src
    ATOMIC = "atomic"  # STX|ATOMIC, operation in imm
    JA = "ja"  # goto +off
    GOTOL = "gotol"  # JMP32|JA: goto +imm
    JMP_IMM = "jmp_imm"  # if dst op imm goto +off
    JMP_REG = "jmp_reg"  # if dst op src goto +off
    CALL_HELPER = "call_helper"  # imm = helper id
    CALL_LOCAL = "call_local"  # src 1, imm = relative slot offset of the callee
    CALL_KFUNC = "call_kfunc"  # src 2, imm = BTF id, off = BTF fd index
    CALLX = "callx"  # JMP|CALL|X, dst holds the target
    EXIT = "exit"
    MAY_GOTO = "may_goto"  # JMP|JCOND, src 0 (kernel extension)


class InvalidInsn(ValueError):
    """An encoding that is no instruction form, or that sets a reserved field."""


_ATOMIC_IMMS = frozenset(
    {
        AtomicOp.ADD,
        AtomicOp.OR,
        AtomicOp.AND,
        AtomicOp.XOR,
        AtomicOp.ADD | AtomicOp.FETCH,
        AtomicOp.OR | AtomicOp.FETCH,
        AtomicOp.AND | AtomicOp.FETCH,
        AtomicOp.XOR | AtomicOp.FETCH,
        AtomicOp.XCHG,
        AtomicOp.CMPXCHG,
    }
)
_CONDS = frozenset(JmpOp) - {JmpOp.JA, JmpOp.CALL, JmpOp.EXIT, JmpOp.JCOND}


def _zero(insn: Insn, *names: str) -> None:
    for name in names:
        if getattr(insn, name):
            raise InvalidInsn(f"opcode 0x{insn.opcode:02x}: reserved field {name} is not zero")


def _alu(insn: Insn) -> Form:
    op = insn.opcode & 0xF0
    if op not in AluOp.__members__.values():
        raise InvalidInsn(f"unknown ALU operation in opcode 0x{insn.opcode:02x}")
    x = insn.opcode & 0x08
    is64 = insn.cls == Class.ALU64
    if op == AluOp.END:
        _zero(insn, "src", "off")
        if insn.imm not in (16, 32, 64):
            raise InvalidInsn(f"byte swap width {insn.imm} is not 16, 32 or 64")
        if is64 and x:
            raise InvalidInsn("opcode 0xdf (ALU64|END|X) is not defined")
        return Form.BSWAP if is64 else Form.ENDIAN
    if op == AluOp.NEG:
        if x:
            raise InvalidInsn(f"opcode 0x{insn.opcode:02x}: neg takes no source register")
        _zero(insn, "src", "off", "imm")
        return Form.NEG
    off_ok = {0, 1} if op in (AluOp.DIV, AluOp.MOD) else {0}
    if op == AluOp.MOV and x:
        off_ok = {0, 8, 16, 32} if is64 else {0, 8, 16}
    if insn.off not in off_ok:
        raise InvalidInsn(f"opcode 0x{insn.opcode:02x}: offset {insn.off} is not allowed")
    if x:
        _zero(insn, "imm")
        return Form.MOVSX if op == AluOp.MOV and insn.off else Form.ALU_REG
    _zero(insn, "src")
    return Form.ALU_IMM


def _jmp(insn: Insn) -> Form:
    op = insn.opcode & 0xF0
    x = insn.opcode & 0x08
    is32 = insn.cls == Class.JMP32
    if op == JmpOp.JA:
        if x:
            raise InvalidInsn(f"opcode 0x{insn.opcode:02x} (JA|X) is not defined")
        if is32:
            _zero(insn, "dst", "src", "off")
            return Form.GOTOL
        _zero(insn, "dst", "src", "imm")
        return Form.JA
    if op in (JmpOp.CALL, JmpOp.EXIT, JmpOp.JCOND) and is32:
        raise InvalidInsn(f"opcode 0x{insn.opcode:02x} is not defined in class JMP32")
    if op == JmpOp.EXIT:
        if x:
            raise InvalidInsn("opcode 0x9d (EXIT|X) is not defined")
        _zero(insn, "dst", "src", "off", "imm")
        return Form.EXIT
    if op == JmpOp.CALL:
        return _call(insn, bool(x))
    if op == JmpOp.JCOND:
        if x or insn.src:
            raise InvalidInsn(f"opcode 0x{insn.opcode:02x}: only may_goto (src 0) is defined")
        _zero(insn, "dst", "imm")
        return Form.MAY_GOTO
    if op not in _CONDS:
        raise InvalidInsn(f"unknown jump operation in opcode 0x{insn.opcode:02x}")
    if x:
        _zero(insn, "imm")
        return Form.JMP_REG
    _zero(insn, "src")
    return Form.JMP_IMM


def _call(insn: Insn, x: bool) -> Form:
    if x:
        _zero(insn, "src", "off", "imm")
        return Form.CALLX
    if insn.src == CallKind.HELPER:
        _zero(insn, "dst", "off")
        return Form.CALL_HELPER
    if insn.src == CallKind.LOCAL:
        _zero(insn, "dst", "off")
        return Form.CALL_LOCAL
    if insn.src == CallKind.KFUNC:
        _zero(insn, "dst")
        return Form.CALL_KFUNC
    raise InvalidInsn(f"call with src {insn.src} is not defined")


def _ld(insn: Insn) -> Form:
    if insn.opcode == LDDW:
        _zero(insn, "off")
        if insn.src not in PseudoSrc.__members__.values():
            raise InvalidInsn(f"lddw with src {insn.src} is not defined")
        return Form.LDDW
    mode, size = insn.opcode & 0xE0, insn.opcode & 0x18
    if mode in (Mode.ABS, Mode.IND) and size != Size.DW:
        _zero(insn, "dst", "off")
        if mode == Mode.ABS:
            _zero(insn, "src")
            return Form.LD_ABS
        return Form.LD_IND
    raise InvalidInsn(f"opcode 0x{insn.opcode:02x} is not defined in class LD")


def _mem(insn: Insn) -> Form:
    cls, mode, size = insn.cls, insn.opcode & 0xE0, insn.opcode & 0x18
    if cls == Class.LDX and mode in (Mode.MEM, Mode.MEMSX):
        if mode == Mode.MEMSX and size == Size.DW:
            raise InvalidInsn("sign-extending 64-bit load (opcode 0x99) is not defined")
        _zero(insn, "imm")
        return Form.LDX if mode == Mode.MEM else Form.LDXSX
    if cls == Class.ST and mode == Mode.MEM:
        _zero(insn, "src")
        return Form.ST
    if cls == Class.STX and mode == Mode.MEM:
        _zero(insn, "imm")
        return Form.STX
    if cls == Class.STX and mode == Mode.ATOMIC and size in (Size.W, Size.DW):
        if insn.imm not in _ATOMIC_IMMS:
            raise InvalidInsn(f"atomic operation 0x{insn.imm & 0xFFFFFFFF:x} is not defined")
        return Form.ATOMIC
    raise InvalidInsn(f"opcode 0x{insn.opcode:02x} is not defined")


def classify(insn: Insn, max_reg: int = 10) -> Form:
    """The form of ``insn``; raises :class:`InvalidInsn` (with the reason) if it has none.

    Registers above ``max_reg`` are rejected too: the ISA has eleven (the kernel uses r11
    internally in translated programs; pass ``max_reg=11`` to read those).
    """
    if insn.dst > max_reg or insn.src > max_reg:
        raise InvalidInsn(f"opcode 0x{insn.opcode:02x}: register number above r10")
    cls = insn.opcode & 0x07
    if cls in (Class.ALU, Class.ALU64):
        return _alu(insn)
    if cls in (Class.JMP, Class.JMP32):
        return _jmp(insn)
    if cls == Class.LD:
        return _ld(insn)
    return _mem(insn)


def is_valid(insn: Insn) -> bool:
    """True if ``insn`` is a defined form with its reserved fields zero."""
    try:
        classify(insn)
    except InvalidInsn:
        return False
    return True


__all__ = ["Form", "InvalidInsn", "classify", "is_valid"]
