"""Writing eBPF programs in Python: one function per instruction form, and labels.

Operands follow one rule: a :class:`Reg` (``R0`` .. ``R10``) means "register", a plain
``int`` means "immediate". So ``alu64(AluOp.ADD, R1, R2)`` is ``r1 += r2`` and
``alu64(AluOp.ADD, R1, 2)`` is ``r1 += 2``. Sizes are :class:`~pybpf.asm.opcodes.Size`
members or the names ``"u8" "u16" "u32" "u64"`` (also ``"b" "h" "w" "dw"``).

The functions return :class:`~pybpf.asm.insn.Insn` values with numeric offsets. For jumps to
places not yet known, use :class:`ProgramBuilder`::

    b = ProgramBuilder()
    b.emit(mov64_imm(R0, 0))
    b.jmp(JmpOp.JEQ, R1, 0, "out")
    b.emit(mov64_imm(R0, 1))
    b.label("out")
    b.emit(exit_())
    insns = b.build()          # offsets resolved in slots (lddw counts 2)
"""

from __future__ import annotations

from enum import IntEnum

from pybpf.asm.insn import Insn, _s32, slot_offsets
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
from pybpf.errors import AsmError
from pybpf.records import dataclass


class Reg(IntEnum):
    """A register operand (an immediate is a plain ``int``)."""

    R0 = 0
    R1 = 1
    R2 = 2
    R3 = 3
    R4 = 4
    R5 = 5
    R6 = 6
    R7 = 7
    R8 = 8
    R9 = 9
    R10 = 10


R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = Reg
FP = R10
"""The read-only frame pointer."""

SizeLike = Size | str
_SIZE_NAMES = {
    "u8": Size.B, "b": Size.B, "u16": Size.H, "h": Size.H,
    "u32": Size.W, "w": Size.W, "u64": Size.DW, "dw": Size.DW,
}  # fmt: skip


def size_of(size: SizeLike) -> Size:
    """``size`` as a :class:`Size` (accepts the names listed in the module docstring)."""
    if isinstance(size, Size):
        return size
    try:
        return _SIZE_NAMES[size]
    except KeyError:
        raise ValueError(f"unknown access size {size!r}") from None


def _imm32(v: int) -> int:
    # Accept both signed and unsigned 32-bit spellings; store the signed value the
    # decoder would produce so that built and decoded programs compare equal.
    if not -(2**31) <= v < 2**32:
        raise ValueError(f"immediate {v} does not fit in 32 bits")
    return _s32(v)


def _off16(v: int) -> int:
    if not -(2**15) <= v < 2**15:
        raise ValueError(f"offset {v} does not fit in 16 bits")
    return v


# -- ALU ------------------------------------------------------------------------------------
def _alu(cls: Class, op: AluOp, dst: int, src: int, signed: bool) -> Insn:
    off = 1 if signed else 0
    if signed and op not in (AluOp.DIV, AluOp.MOD):
        raise ValueError("only div and mod have signed forms")
    if isinstance(src, Reg):
        return Insn(cls | op | Source.X, dst, int(src), off, 0)
    return Insn(cls | op | Source.K, dst, 0, off, _imm32(src))


def alu64(op: AluOp, dst: int, src: int, *, signed: bool = False) -> Insn:
    """64-bit ``dst op= src`` (src a :class:`Reg` or an immediate); ``signed`` for sdiv/smod."""
    return _alu(Class.ALU64, op, dst, src, signed)


def alu32(op: AluOp, dst: int, src: int, *, signed: bool = False) -> Insn:
    """32-bit ``wdst op= src`` (upper half of dst zeroed)."""
    return _alu(Class.ALU, op, dst, src, signed)


def mov64_imm(dst: int, imm: int) -> Insn:
    """``dst = imm`` (sign-extended 32-bit immediate)."""
    return Insn(Class.ALU64 | AluOp.MOV | Source.K, dst, 0, 0, _imm32(imm))


def mov64_reg(dst: int, src: int) -> Insn:
    """``dst = src``."""
    return Insn(Class.ALU64 | AluOp.MOV | Source.X, dst, src)


def mov32_imm(dst: int, imm: int) -> Insn:
    """``wdst = imm``."""
    return Insn(Class.ALU | AluOp.MOV | Source.K, dst, 0, 0, _imm32(imm))


def mov32_reg(dst: int, src: int) -> Insn:
    """``wdst = wsrc`` (zero-extends)."""
    return Insn(Class.ALU | AluOp.MOV | Source.X, dst, src)


def movsx64(dst: int, src: int, bits: int) -> Insn:
    """``dst = (s8|s16|s32) src``: sign-extend the low ``bits`` of src to 64 bits."""
    if bits not in (8, 16, 32):
        raise ValueError(f"movsx64 width {bits} is not 8, 16 or 32")
    return Insn(Class.ALU64 | AluOp.MOV | Source.X, dst, src, bits)


def movsx32(dst: int, src: int, bits: int) -> Insn:
    """``wdst = (s8|s16) wsrc``."""
    if bits not in (8, 16):
        raise ValueError(f"movsx32 width {bits} is not 8 or 16")
    return Insn(Class.ALU | AluOp.MOV | Source.X, dst, src, bits)


def neg64(dst: int) -> Insn:
    """``dst = -dst``."""
    return Insn(Class.ALU64 | AluOp.NEG, dst)


def neg32(dst: int) -> Insn:
    """``wdst = -wdst``."""
    return Insn(Class.ALU | AluOp.NEG, dst)


def endian(dst: int, bits: int, *, big: bool) -> Insn:
    """``dst = be16/be32/be64 dst`` (``big``) or ``le..``: convert to that byte order."""
    if bits not in (16, 32, 64):
        raise ValueError(f"byte-order width {bits} is not 16, 32 or 64")
    return Insn(Class.ALU | AluOp.END | (Source.X if big else Source.K), dst, 0, 0, bits)


def bswap(dst: int, bits: int) -> Insn:
    """``dst = bswap16/32/64 dst``: unconditional byte swap (ALU64|END)."""
    if bits not in (16, 32, 64):
        raise ValueError(f"bswap width {bits} is not 16, 32 or 64")
    return Insn(Class.ALU64 | AluOp.END, dst, 0, 0, bits)


# -- 64-bit immediates ----------------------------------------------------------------------
def ld_imm64(dst: int, imm: int, pseudo: PseudoSrc = PseudoSrc.NONE) -> Insn:
    """``lddw``: ``dst = imm`` (64 bits, two slots); ``pseudo`` gives imm a special meaning."""
    if not -(2**63) <= imm < 2**64:
        raise ValueError(f"immediate {imm} does not fit in 64 bits")
    return Insn(LDDW, dst, int(pseudo), 0, imm & 0xFFFF_FFFF_FFFF_FFFF)


def ld_map_fd(dst: int, fd: int) -> Insn:
    """``dst = map`` by fd (src 1); the kernel turns it into the map's address."""
    return ld_imm64(dst, fd, PseudoSrc.MAP_FD)


def ld_map_value(dst: int, fd: int, off: int = 0) -> Insn:
    """``dst = &map[0] + off`` for array maps (src 2): fd in the low half, off in the high."""
    return ld_imm64(dst, (off & 0xFFFF_FFFF) << 32 | fd & 0xFFFF_FFFF, PseudoSrc.MAP_VALUE)


def ld_map_idx(dst: int, idx: int) -> Insn:
    """``dst = map`` by index into the fd_array given at load (src 5)."""
    return ld_imm64(dst, idx, PseudoSrc.MAP_IDX)


def ld_map_idx_value(dst: int, idx: int, off: int = 0) -> Insn:
    """Like :func:`ld_map_value` with a map index (src 6)."""
    return ld_imm64(dst, (off & 0xFFFF_FFFF) << 32 | idx & 0xFFFF_FFFF, PseudoSrc.MAP_IDX_VALUE)


def ld_btf_id(dst: int, btf_id: int) -> Insn:
    """``dst = &kernel_variable`` named by its BTF id (src 3)."""
    return ld_imm64(dst, btf_id, PseudoSrc.BTF_ID)


def ld_func(dst: int, rel: int) -> Insn:
    """``dst = address of the subprogram`` ``rel`` slots after the next instruction (src 4).

    ``rel`` is a signed 32-bit value in the low half; the high half stays zero.
    """
    return ld_imm64(dst, _imm32(rel) & 0xFFFF_FFFF, PseudoSrc.FUNC)


def ld_abs(size: SizeLike, imm: int) -> Insn:
    """Legacy packet load ``r0 = *(size *)skb[imm]``."""
    return Insn(Class.LD | Mode.ABS | size_of(size), 0, 0, 0, _imm32(imm))


def ld_ind(size: SizeLike, src: int, imm: int) -> Insn:
    """Legacy packet load ``r0 = *(size *)skb[src + imm]``."""
    return Insn(Class.LD | Mode.IND | size_of(size), 0, src, 0, _imm32(imm))


# -- memory ---------------------------------------------------------------------------------
def ldx(size: SizeLike, dst: int, src: int, off: int = 0) -> Insn:
    """``dst = *(size *)(src + off)`` (zero-extending)."""
    return Insn(Class.LDX | Mode.MEM | size_of(size), dst, src, _off16(off))


def ldxsx(size: SizeLike, dst: int, src: int, off: int = 0) -> Insn:
    """``dst = *(s8|s16|s32 *)(src + off)`` (sign-extending)."""
    sz = size_of(size)
    if sz == Size.DW:
        raise ValueError("there is no sign-extending 64-bit load")
    return Insn(Class.LDX | Mode.MEMSX | sz, dst, src, _off16(off))


def stx(size: SizeLike, dst: int, src: int, off: int = 0) -> Insn:
    """``*(size *)(dst + off) = src``."""
    return Insn(Class.STX | Mode.MEM | size_of(size), dst, src, _off16(off))


def st_imm(size: SizeLike, dst: int, off: int, imm: int) -> Insn:
    """``*(size *)(dst + off) = imm``."""
    return Insn(Class.ST | Mode.MEM | size_of(size), dst, 0, _off16(off), _imm32(imm))


def atomic(size: SizeLike, op: int, dst: int, src: int, off: int = 0) -> Insn:
    """Atomic ``op`` on ``*(size *)(dst + off)`` with ``src`` (u32 or u64 only).

    ``op`` is an :class:`AtomicOp` value: ADD/OR/AND/XOR, optionally ``| AtomicOp.FETCH``
    (old value into src), XCHG, or CMPXCHG (compares with r0, old value into r0).
    """
    sz = size_of(size)
    if sz not in (Size.W, Size.DW):
        raise ValueError("atomic operations are 32 or 64 bits wide")
    return Insn(Class.STX | Mode.ATOMIC | sz, dst, src, _off16(off), int(op))


# -- control flow ---------------------------------------------------------------------------
def jmp(op: JmpOp, dst: int, src: int, off: int) -> Insn:
    """``if dst op src goto +off`` (64-bit compare; src a :class:`Reg` or an immediate)."""
    return _cond(Class.JMP, op, dst, src, off)


def jmp32(op: JmpOp, dst: int, src: int, off: int) -> Insn:
    """``if wdst op src goto +off`` (32-bit compare)."""
    return _cond(Class.JMP32, op, dst, src, off)


def _cond(cls: Class, op: JmpOp, dst: int, src: int, off: int) -> Insn:
    if op in (JmpOp.JA, JmpOp.CALL, JmpOp.EXIT, JmpOp.JCOND):
        raise ValueError(f"{op.name} is not a conditional jump")
    if isinstance(src, Reg):
        return Insn(cls | op | Source.X, dst, int(src), _off16(off))
    return Insn(cls | op | Source.K, dst, 0, _off16(off), _imm32(src))


def ja(off: int) -> Insn:
    """``goto +off`` (16-bit offset)."""
    return Insn(Class.JMP | JmpOp.JA, 0, 0, _off16(off))


def gotol(imm: int) -> Insn:
    """``gotol +imm``: JMP32|JA with a 32-bit offset in imm."""
    return Insn(Class.JMP32 | JmpOp.JA, 0, 0, 0, _imm32(imm))


def may_goto(off: int) -> Insn:
    """``may_goto +off`` (kernel extension: bounded-loop escape hatch)."""
    return Insn(Class.JMP | JmpOp.JCOND, 0, 0, _off16(off))


def call(helper: int | str) -> Insn:
    """Call a helper by id or by name (``"bpf_map_lookup_elem"`` or ``"map_lookup_elem"``)."""
    if isinstance(helper, str):
        from pybpf.asm.helpers import helper_id

        hid = helper_id(helper)
        if hid is None:
            raise ValueError(f"unknown helper {helper!r}")
        helper = hid
    return Insn(Class.JMP | JmpOp.CALL, 0, CallKind.HELPER, 0, _imm32(helper))


def call_local(rel: int) -> Insn:
    """Call the subprogram ``rel`` slots after this instruction's successor (src 1)."""
    return Insn(Class.JMP | JmpOp.CALL, 0, CallKind.LOCAL, 0, _imm32(rel))


def call_kfunc(btf_id: int, btf_fd_idx: int = 0) -> Insn:
    """Call a kernel function by BTF id (src 2); ``off`` selects a module BTF."""
    return Insn(Class.JMP | JmpOp.CALL, 0, CallKind.KFUNC, _off16(btf_fd_idx), _imm32(btf_id))


def callx(reg: int) -> Insn:
    """Indirect call: JMP|CALL|X with the target in ``reg`` (dst field)."""
    return Insn(Class.JMP | JmpOp.CALL | Source.X, reg)


def exit_() -> Insn:
    """``exit``: return r0."""
    return Insn(Class.JMP | JmpOp.EXIT)


# -- labels ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourcePos:
    """A place in assembly text; builders given one report label errors there."""

    line: int
    col: int
    source: str = ""


@dataclass(slots=True)
class _Item:
    insn: Insn
    target: str | None  # label whose slot fixes up the insn, if any
    field: str  # "off" or "imm"
    pos: SourcePos | None
    target_pos: SourcePos | None = None  # where label errors point (default: pos)


class ProgramBuilder:
    """An instruction list with symbolic labels; :meth:`build` resolves them in slots.

    Branch targets are either label names (``str``) or numeric relative offsets (``int``).
    A label names the slot of the next instruction emitted after :meth:`label`.
    """

    def __init__(self) -> None:
        self._items: list[_Item] = []
        self._labels: dict[str, int] = {}  # label -> index into _items
        self._label_pos: dict[str, SourcePos | None] = {}
        self._fresh = 0

    def __len__(self) -> int:
        """Number of instructions emitted so far (lddw counts once)."""
        return len(self._items)

    def emit(self, *insns: Insn, pos: SourcePos | None = None) -> ProgramBuilder:
        """Append instructions as they are (numeric offsets, if any, stay untouched)."""
        for insn in insns:
            self._items.append(_Item(insn, None, "off", pos))
        return self

    def emit_to(
        self,
        insn: Insn,
        target: str | int,
        pos: SourcePos | None = None,
        target_pos: SourcePos | None = None,
    ) -> None:
        """Append a branch, call-local or lddw-func whose relative target is ``target``.

        The relative field is ``imm`` for ``gotol``, ``call local`` and ``lddw`` (src 4),
        ``off`` otherwise.
        """
        wide = insn.opcode in (Class.JMP32 | JmpOp.JA, Class.JMP | JmpOp.CALL, LDDW)
        field = "imm" if wide else "off"
        if isinstance(target, int):
            self._items.append(_Item(_set(insn, field, target), None, field, pos))
        else:
            self._items.append(_Item(insn, target, field, pos, target_pos))

    def label(self, name: str, pos: SourcePos | None = None) -> str:
        """Place ``name`` before the next instruction; returns the name."""
        if name in self._labels:
            where = self._label_pos.get(name)
            before = f" (first defined on line {where.line})" if where else ""
            raise _error(f"label '{name}' defined twice{before}", pos)
        self._labels[name] = len(self._items)
        self._label_pos[name] = pos
        return name

    def has_label(self, name: str) -> bool:
        """True once ``name`` has been placed."""
        return name in self._labels

    def new_label(self, hint: str = "L") -> str:
        """A fresh label name (not yet placed) that no other call returns."""
        self._fresh += 1
        return f".{hint}{self._fresh}"

    # Conveniences for the common branch forms.
    def jmp(self, op: JmpOp, dst: int, src: int, target: str | int) -> None:
        """``if dst op src goto target`` (64-bit compare)."""
        self.emit_to(jmp(op, dst, src, 0), target)

    def jmp32(self, op: JmpOp, dst: int, src: int, target: str | int) -> None:
        """``if wdst op src goto target`` (32-bit compare)."""
        self.emit_to(jmp32(op, dst, src, 0), target)

    def ja(self, target: str | int) -> None:
        """``goto target``."""
        self.emit_to(ja(0), target)

    def gotol(self, target: str | int) -> None:
        """``gotol target`` (32-bit reach)."""
        self.emit_to(gotol(0), target)

    def call_local(self, target: str | int) -> None:
        """Call the subprogram at ``target``."""
        self.emit_to(call_local(0), target)

    def ld_func(self, dst: int, target: str | int) -> None:
        """``dst = &subprogram`` at ``target`` (for bpf_loop and friends)."""
        self.emit_to(ld_func(dst, 0), target)

    def build(self) -> list[Insn]:
        """The instructions with every label resolved to a slot-relative offset."""
        slots = slot_offsets([it.insn for it in self._items])
        end = slots[-1] + self._items[-1].insn.slots if self._items else 0
        out: list[Insn] = []
        for idx, it in enumerate(self._items):
            insn = it.insn.with_span(it.pos) if it.pos is not None else it.insn
            if it.target is not None:
                where = self._labels.get(it.target)
                tpos = it.target_pos or it.pos
                if where is None:
                    raise _error(f"unknown label '{it.target}'", tpos)
                dest = slots[where] if where < len(slots) else end
                # Jumps count from the next instruction; an lddw of a function counts from
                # its second slot (the kernel's rule: target = pc + 1 + imm).
                rel = dest - (slots[idx] + (1 if it.insn.opcode == LDDW else it.insn.slots))
                limit = 2**15 if it.field == "off" else 2**31
                if not -limit <= rel < limit:
                    raise _error(f"jump to '{it.target}' is out of range ({rel} slots)", tpos)
                insn = _set(insn, it.field, rel)
            out.append(insn)
        return out


def _set(insn: Insn, field: str, value: int) -> Insn:
    from pybpf.records import replace

    if insn.opcode == LDDW:
        # A relative target lives in the low 32 bits; the high half is kept as it was.
        value = insn.imm & ~0xFFFF_FFFF | value & 0xFFFF_FFFF
    return replace(insn, **{field: value})


def _error(msg: str, pos: SourcePos | None) -> AsmError:
    if pos is None:
        return AsmError(msg)
    return AsmError(msg, pos.line, pos.col, pos.source)


__all__ = [
    "FP", "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10",
    "AtomicOp", "ProgramBuilder", "Reg", "SourcePos",
    "alu32", "alu64", "atomic", "bswap", "call", "call_kfunc", "call_local", "callx",
    "endian", "exit_", "gotol", "ja", "jmp", "jmp32", "ld_abs", "ld_btf_id", "ld_func",
    "ld_imm64", "ld_ind", "ld_map_fd", "ld_map_idx", "ld_map_idx_value", "ld_map_value",
    "ldx", "ldxsx", "may_goto", "mov32_imm", "mov32_reg", "mov64_imm", "mov64_reg",
    "movsx32", "movsx64", "neg32", "neg64", "size_of", "st_imm", "stx",
]  # fmt: skip
