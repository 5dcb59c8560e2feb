"""The disassembler, data first: instructions become :class:`Record` values.

A record holds the slot index, the instruction, its :class:`~pybpf.asm.forms.Form` (None for
an invalid encoding, with the reason in ``error``) and typed operands in ``%r``-dialect
order. Formatters in :mod:`pybpf.asm.fmt` turn records into text.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.asm.forms import Form, InvalidInsn, classify
from pybpf.asm.insn import Insn, iter_slots
from pybpf.asm.opcodes import AluOp, AtomicOp, Class, JmpOp, PseudoSrc, Size
from pybpf.records import dataclass

SIZE_SUFFIX = {Size.B: "b", Size.H: "h", Size.W: "w", Size.DW: "dw"}
ALU_NAMES = {op: op.name.lower() for op in AluOp}
JMP_NAMES = {op: op.name.lower() for op in JmpOp}
ATOMIC_NAMES = {AtomicOp.ADD: "add", AtomicOp.OR: "or", AtomicOp.AND: "and", AtomicOp.XOR: "xor"}


@dataclass(frozen=True, slots=True)
class Register:
    """A register operand."""

    reg: int

    def __str__(self) -> str:
        return f"%r{self.reg}"


@dataclass(frozen=True, slots=True)
class Immediate:
    """An immediate operand; ``hex`` asks for hexadecimal, zero-padded to ``digits``."""

    value: int
    hex: bool = False
    digits: int = 0

    def __str__(self) -> str:
        if self.hex:
            sign = "-" if self.value < 0 else ""
            return f"{sign}0x{abs(self.value):0{self.digits}x}"
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Memory:
    """``[base+off]``."""

    base: int
    off: int

    def __str__(self) -> str:
        return f"[%r{self.base}{self.off:+d}]" if self.off else f"[%r{self.base}]"


@dataclass(frozen=True, slots=True)
class Target:
    """A relative jump or call target in slots; ``dest`` is the absolute slot."""

    rel: int
    dest: int

    def __str__(self) -> str:
        return f"{self.rel:+d}"


@dataclass(frozen=True, slots=True)
class Pseudo:
    """The immediate of a pseudo ``lddw`` (map fd, map value, BTF id, function, map index)."""

    kind: PseudoSrc
    value: int  # low 32 bits: fd / index / id / relative offset
    extra: int  # high 32 bits: value offset for MAP_VALUE and MAP_IDX_VALUE

    def __str__(self) -> str:
        name = self.kind.name.lower()
        value = f"{self.value:+d}" if self.kind == PseudoSrc.FUNC else str(self.value)
        if self.extra or self.kind in (PseudoSrc.MAP_VALUE, PseudoSrc.MAP_IDX_VALUE):
            return f"{name}({value}, {self.extra})"
        return f"{name}({value})"


Operand = Register | Immediate | Memory | Target | Pseudo


@dataclass(frozen=True, slots=True)
class Record:
    """One disassembled instruction."""

    index: int  # slot index
    insn: Insn
    form: Form | None
    mnemonic: str  # %r-dialect mnemonic ("add32", "lock fetch add", ".raw")
    operands: tuple[Operand, ...]
    error: str = ""  # why the encoding is invalid (form is None)

    @property
    def target(self) -> int | None:
        """Absolute slot of a jump or local-call target, if any."""
        for op in self.operands:
            if isinstance(op, Target):
                return op.dest
        return None


def raw_words(insn: Insn) -> list[int]:
    """The instruction's 64-bit little-endian words (the conformance ``-- raw`` notation)."""
    raw = insn.encode()
    return [int.from_bytes(raw[i : i + 8], "little") for i in range(0, len(raw), 8)]


def disassemble(insns: Sequence[Insn]) -> list[Record]:
    """Records for ``insns`` (as :func:`~pybpf.asm.insn.decode` returns them)."""
    return [disassemble_one(insn, slot) for slot, insn in iter_slots(insns)]


def disassemble_one(insn: Insn, index: int = 0, max_reg: int = 10) -> Record:
    """The record of one instruction at slot ``index`` (see :func:`classify` for max_reg)."""
    try:
        form = classify(insn, max_reg)
    except InvalidInsn as e:
        words = tuple(Immediate(w, hex=True, digits=16) for w in raw_words(insn))
        return Record(index, insn, None, ".raw", words, str(e))
    mnemonic, ops = _describe(insn, form, index)
    return Record(index, insn, form, mnemonic, ops)


def _w(insn: Insn) -> str:
    return "32" if insn.opcode & 0x07 in (Class.ALU, Class.JMP32) else ""


def _describe(insn: Insn, form: Form, index: int) -> tuple[str, tuple[Operand, ...]]:
    d, s = Register(insn.dst), Register(insn.src)
    nxt = index + insn.slots
    size = SIZE_SUFFIX[Size(insn.opcode & 0x18)]
    if form in (Form.ALU_IMM, Form.ALU_REG):
        name = ("s" if insn.off == 1 else "") + ALU_NAMES[AluOp(insn.opcode & 0xF0)]
        src: Operand = s if form == Form.ALU_REG else Immediate(insn.imm)
        return name + _w(insn), (d, src)
    if form == Form.MOVSX:
        return f"movsx{insn.off}{'32' if _w(insn) else '64'}", (d, s)
    if form == Form.NEG:
        return "neg" + _w(insn), (d,)
    if form == Form.ENDIAN:
        return ("be" if insn.opcode & 0x08 else "le") + str(insn.imm), (d,)
    if form == Form.BSWAP:
        return f"bswap{insn.imm}", (d,)
    if form == Form.LDDW:
        imm = insn.imm & 0xFFFF_FFFF_FFFF_FFFF
        if insn.src == PseudoSrc.NONE:
            return "lddw", (d, Immediate(imm, hex=True))
        lo, hi = _s32(imm & 0xFFFF_FFFF), _s32(imm >> 32)
        return "lddw", (d, Pseudo(PseudoSrc(insn.src), lo, hi))
    if form == Form.LD_ABS:
        return "ldabs" + size, (Immediate(insn.imm),)
    if form == Form.LD_IND:
        return "ldind" + size, (s, Immediate(insn.imm))
    if form == Form.LDX:
        return "ldx" + size, (d, Memory(insn.src, insn.off))
    if form == Form.LDXSX:
        return "ldxs" + size, (d, Memory(insn.src, insn.off))
    if form == Form.ST:
        return "st" + size, (Memory(insn.dst, insn.off), Immediate(insn.imm))
    if form == Form.STX:
        return "stx" + size, (Memory(insn.dst, insn.off), s)
    if form == Form.ATOMIC:
        return _atomic_name(insn), (Memory(insn.dst, insn.off), s)
    if form == Form.JA:
        return "ja", (Target(insn.off, nxt + insn.off),)
    if form == Form.GOTOL:
        return "ja32", (Target(insn.imm, nxt + insn.imm),)
    if form == Form.MAY_GOTO:
        return "may_goto", (Target(insn.off, nxt + insn.off),)
    if form in (Form.JMP_IMM, Form.JMP_REG):
        src2: Operand = s if form == Form.JMP_REG else Immediate(insn.imm)
        name = JMP_NAMES[JmpOp(insn.opcode & 0xF0)] + _w(insn)
        return name, (d, src2, Target(insn.off, nxt + insn.off))
    if form == Form.CALL_HELPER:
        return "call", (Immediate(insn.imm),)
    if form == Form.CALL_LOCAL:
        return "call local", (Target(insn.imm, nxt + insn.imm),)
    if form == Form.CALL_KFUNC:
        extra = (Immediate(insn.off),) if insn.off else ()
        return "call kfunc", (Immediate(insn.imm), *extra)
    if form == Form.CALLX:
        return "call", (d,)
    return "exit", ()


def _atomic_name(insn: Insn) -> str:
    sfx = "32" if insn.opcode & 0x18 == Size.W else ""
    if insn.imm == AtomicOp.XCHG:
        return "lock xchg" + sfx
    if insn.imm == AtomicOp.CMPXCHG:
        return "lock cmpxchg" + sfx
    fetch = "fetch " if insn.imm & AtomicOp.FETCH else ""
    return f"lock {fetch}{ATOMIC_NAMES[AtomicOp(insn.imm & 0xF0)]}{sfx}"


def _s32(v: int) -> int:
    return v - (1 << 32) if v >= 1 << 31 else v


__all__ = [
    "Immediate",
    "Memory",
    "Operand",
    "Pseudo",
    "Record",
    "Register",
    "Target",
    "disassemble",
    "disassemble_one",
    "raw_words",
]
