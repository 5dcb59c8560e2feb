"""The instruction as a typed value, and its wire encoding (RFC 9669 section 3).

An :class:`Insn` is one logical instruction. ``lddw`` (opcode 0x18) is one ``Insn`` with a
64-bit ``imm`` that encodes to two 8-byte slots; every other instruction is one slot. Jump
offsets and ``call local`` immediates count *slots*, as the kernel does.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence

from pybpf.asm.opcodes import LDDW, AluOp, Class, JmpOp, Mode, Size, Source
from pybpf.records import dataclass, field, replace

_SLOT = struct.Struct("<BBhi")


@dataclass(frozen=True, slots=True)
class Insn:
    """One eBPF instruction.

    ``imm`` is signed 32-bit for ordinary instructions and signed-or-unsigned 64-bit for
    ``lddw`` (stored as given; encoding masks it). ``span`` is an optional source location
    (whatever the producer uses -- a script span, an assembly line); it takes no part in
    equality so that programs compare by their bytes.
    """

    opcode: int
    dst: int = 0
    src: int = 0
    off: int = 0
    imm: int = 0
    span: object | None = field(default=None, compare=False, hash=False, repr=False)

    # -- decoded fields -------------------------------------------------------------------
    @property
    def cls(self) -> Class:
        """Instruction class."""
        return Class(self.opcode & 0x07)

    @property
    def is_wide(self) -> bool:
        """True for ``lddw``, the one two-slot instruction."""
        return self.opcode == LDDW

    @property
    def slots(self) -> int:
        """How many 8-byte slots this instruction occupies."""
        return 2 if self.opcode == LDDW else 1

    @property
    def is_alu(self) -> bool:
        """ALU or ALU64 class."""
        return self.opcode & 0x07 in (Class.ALU, Class.ALU64)

    @property
    def is_jmp(self) -> bool:
        """JMP or JMP32 class (including call and exit)."""
        return self.opcode & 0x07 in (Class.JMP, Class.JMP32)

    @property
    def is_mem(self) -> bool:
        """A load or store (LD other than lddw, LDX, ST, STX)."""
        return self.opcode & 0x07 in (Class.LDX, Class.ST, Class.STX) or (
            self.opcode & 0x07 == Class.LD and self.opcode != LDDW
        )

    @property
    def alu_op(self) -> AluOp:
        """ALU operation (only meaningful for ALU classes)."""
        return AluOp(self.opcode & 0xF0)

    @property
    def jmp_op(self) -> JmpOp:
        """Jump operation (only meaningful for JMP classes)."""
        return JmpOp(self.opcode & 0xF0)

    @property
    def source(self) -> Source:
        """K (immediate) or X (register) operand for ALU and JMP."""
        return Source(self.opcode & 0x08)

    @property
    def size(self) -> Size:
        """Access width for loads and stores."""
        return Size(self.opcode & 0x18)

    @property
    def mode(self) -> Mode:
        """Addressing mode for loads and stores."""
        return Mode(self.opcode & 0xE0)

    @property
    def is_exit(self) -> bool:
        """``exit``."""
        return self.opcode == Class.JMP | JmpOp.EXIT

    @property
    def is_call(self) -> bool:
        """Any ``call`` (helper, local, kfunc or callx)."""
        return self.opcode & 0xF7 == Class.JMP | JmpOp.CALL

    @property
    def is_branch(self) -> bool:
        """A jump that uses ``off`` (or ``imm`` for ``gotol``) as a target."""
        if not self.is_jmp:
            return False
        op = self.opcode & 0xF0
        return op not in (JmpOp.CALL, JmpOp.EXIT)

    def with_span(self, span: object | None) -> Insn:
        """The same instruction remembering ``span``."""
        return replace(self, span=span)

    # -- encoding -------------------------------------------------------------------------
    def encode(self) -> bytes:
        """Little-endian wire bytes: 8, or 16 for ``lddw``."""
        regs = (self.src & 0x0F) << 4 | (self.dst & 0x0F)
        off = _s16(self.off)
        if self.opcode == LDDW:
            imm = self.imm & 0xFFFF_FFFF_FFFF_FFFF
            lo, hi = _s32(imm & 0xFFFF_FFFF), _s32(imm >> 32)
            return _SLOT.pack(self.opcode, regs, off, lo) + _SLOT.pack(0, 0, 0, hi)
        return _SLOT.pack(self.opcode & 0xFF, regs, off, _s32(self.imm))


def _s16(v: int) -> int:
    v &= 0xFFFF
    return v - 0x1_0000 if v & 0x8000 else v


def _s32(v: int) -> int:
    v &= 0xFFFF_FFFF
    return v - 0x1_0000_0000 if v & 0x8000_0000 else v


class DecodeError(ValueError):
    """Bytes that are not a whole number of instructions (or a truncated ``lddw``)."""


def decode_slot(raw: bytes, pos: int = 0) -> tuple[int, int, int, int, int]:
    """One raw slot: (opcode, dst, src, off, imm) with off and imm signed."""
    op, regs, off, imm = _SLOT.unpack_from(raw, pos)
    return op, regs & 0x0F, regs >> 4, off, imm


def decode(raw: bytes) -> list[Insn]:
    """Decode wire bytes into instructions, merging each ``lddw`` pair.

    The second slot of ``lddw`` contributes only its ``imm`` (the high 32 bits); its other
    fields are reserved and ignored here -- the verifier is the place that checks them.
    """
    if len(raw) % 8:
        raise DecodeError(f"program length {len(raw)} is not a multiple of 8")
    out: list[Insn] = []
    pos = 0
    while pos < len(raw):
        op, dst, src, off, imm = decode_slot(raw, pos)
        if op == LDDW:
            if pos + 16 > len(raw):
                raise DecodeError(f"lddw at slot {pos // 8} is missing its second half")
            hi = decode_slot(raw, pos + 8)[4]
            out.append(Insn(op, dst, src, off, (hi & 0xFFFF_FFFF) << 32 | (imm & 0xFFFF_FFFF)))
            pos += 16
        else:
            out.append(Insn(op, dst, src, off, imm))
            pos += 8
    return out


def encode(insns: Iterable[Insn]) -> bytes:
    """Concatenated wire bytes of ``insns``."""
    return b"".join(i.encode() for i in insns)


def slot_offsets(insns: Sequence[Insn]) -> list[int]:
    """Slot index of each instruction (``lddw`` takes two slots)."""
    out, n = [], 0
    for i in insns:
        out.append(n)
        n += i.slots
    return out


def iter_slots(insns: Iterable[Insn]) -> Iterator[tuple[int, Insn]]:
    """(slot index, instruction) pairs."""
    n = 0
    for i in insns:
        yield n, i
        n += i.slots


__all__ = ["DecodeError", "Insn", "decode", "decode_slot", "encode", "iter_slots", "slot_offsets"]
