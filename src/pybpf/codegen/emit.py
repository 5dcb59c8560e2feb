"""The instruction emitter: labels, spans and map relocations over :class:`pybpf.asm.insn.Insn`.

Every instruction remembers the source span current when it was emitted (``with em.at(span)``)
so that a verifier rejection can be traced back to the script. Jumps name labels; ``finish``
resolves them to slot offsets, drops jumps to the very next instruction and returns the
instructions together with the map relocations (which ``lddw`` refers to which map), which the
loader patches with real fds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pybpf.asm.insn import Insn
from pybpf.asm.opcodes import LDDW, AluOp, Class, JmpOp, Mode, PseudoSrc, Size, Source
from pybpf.records import dataclass, field

R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, FP = range(11)

_SIZES = {1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW}


class Label:
    """A jump target; placed once with :meth:`Emitter.place`."""

    __slots__ = ("name",)

    def __init__(self, name: str = "") -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Label({self.name})"


@dataclass(slots=True)
class _Jump:
    """A jump whose offset is filled in when labels are resolved."""

    insn: Insn
    target: Label


@dataclass(slots=True)
class _Place:
    label: Label


@dataclass
class Code:
    """Finished instructions plus the map each ``lddw`` refers to (by instruction index)."""

    insns: list[Insn]
    map_relocs: dict[int, str] = field(default_factory=dict)
    #: Slot offsets where callback subprograms start (they need BTF func_info to load).
    functions: list[int] = field(default_factory=list)

    def slots(self) -> int:
        """Program length in 8-byte slots (what the kernel counts)."""
        return sum(i.slots for i in self.insns)


def _fits32(v: int) -> bool:
    return -(1 << 31) <= v < (1 << 31)


class Emitter:
    """Builds one program's instructions."""

    def __init__(self) -> None:
        self._items: list[Insn | _Jump | _Place] = []
        self._relocs: dict[int, str] = {}
        self._functions: list[Label] = []
        self.span: object | None = None

    # -- bookkeeping --------------------------------------------------------------------------
    @contextmanager
    def at(self, span: object | None) -> Iterator[None]:
        """Instructions emitted inside carry ``span`` (kept when ``span`` is None)."""
        old = self.span
        if span is not None:
            self.span = span
        try:
            yield
        finally:
            self.span = old

    def emit(self, insn: Insn) -> None:
        """Append one instruction (tagged with the current span)."""
        self._items.append(insn.with_span(self.span) if insn.span is None else insn)

    def label(self, name: str = "") -> Label:
        """A fresh label."""
        return Label(name)

    def place(self, label: Label) -> None:
        """Make ``label`` refer to the next instruction."""
        self._items.append(_Place(label))

    # -- instruction helpers ------------------------------------------------------------------
    def mov(self, dst: int, src: int) -> None:
        """``dst = src`` (register), omitted when they are the same register."""
        if dst != src:
            self.emit(Insn(Class.ALU64 | AluOp.MOV | Source.X, dst, src))

    def movi(self, dst: int, imm: int) -> None:
        """``dst = imm``: a one-slot move when it fits, else ``lddw``."""
        imm = _sext64(imm)
        if _fits32(imm):
            self.emit(Insn(Class.ALU64 | AluOp.MOV | Source.K, dst, 0, 0, imm))
        else:
            self.emit(Insn(LDDW, dst, 0, 0, imm & 0xFFFF_FFFF_FFFF_FFFF))

    def alu(self, op: AluOp, dst: int, src: int, *, w32: bool = False) -> None:
        """``dst op= src`` (register operand)."""
        cls = Class.ALU if w32 else Class.ALU64
        self.emit(Insn(cls | op | Source.X, dst, src))

    def alui(self, op: AluOp, dst: int, imm: int, *, w32: bool = False, scratch: int = -1) -> None:
        """``dst op= imm``; an immediate too wide for 32 bits goes through ``scratch``."""
        imm = _sext64(imm)
        if not _fits32(imm):
            if scratch < 0:
                raise ValueError("64-bit immediate needs a scratch register")
            self.movi(scratch, imm)
            self.alu(op, dst, scratch, w32=w32)
            return
        cls = Class.ALU if w32 else Class.ALU64
        self.emit(Insn(cls | op | Source.K, dst, 0, 0, imm))

    def neg(self, dst: int) -> None:
        """``dst = -dst``."""
        self.emit(Insn(Class.ALU64 | AluOp.NEG, dst))

    def ldx(self, size: int, dst: int, base: int, off: int) -> None:
        """``dst = *(uN *)(base + off)``."""
        self.emit(Insn(Class.LDX | _SIZES[size] | Mode.MEM, dst, base, off))

    def ldxs(self, size: int, dst: int, base: int, off: int) -> None:
        """Sign-extending load (``MEMSX``) of 1, 2 or 4 bytes."""
        if size == 8:
            self.ldx(8, dst, base, off)
        else:
            self.emit(Insn(Class.LDX | _SIZES[size] | Mode.MEMSX, dst, base, off))

    def stx(self, size: int, base: int, off: int, src: int) -> None:
        """``*(uN *)(base + off) = src``."""
        self.emit(Insn(Class.STX | _SIZES[size] | Mode.MEM, base, src, off))

    def sti(self, size: int, base: int, off: int, imm: int) -> None:
        """``*(uN *)(base + off) = imm`` (imm is sign-extended 32 bits)."""
        self.emit(Insn(Class.ST | _SIZES[size] | Mode.MEM, base, 0, off, imm))

    def xadd(self, size: int, base: int, off: int, src: int) -> None:
        """Atomic ``*(uN *)(base + off) += src``."""
        self.emit(Insn(Class.STX | _SIZES[size] | Mode.ATOMIC, base, src, off, 0))

    def call(self, helper: int) -> None:
        """Call helper number ``helper`` (clobbers r0-r5)."""
        # A plain int, not the Helper member: a cached compiled script then loads without
        # creating the Helper enum (200 members, ~1 ms).
        self.emit(Insn(Class.JMP | JmpOp.CALL, 0, 0, 0, int(helper)))

    def exit(self) -> None:
        """``exit``."""
        self.emit(Insn(Class.JMP | JmpOp.EXIT))

    def ld_map(self, dst: int, name: str) -> None:
        """``dst = &map`` (an ``lddw`` with a map-fd relocation to ``name``)."""
        ins = Insn(LDDW, dst, PseudoSrc.MAP_FD, 0, 0, self.span)
        self._relocs[id(ins)] = name
        self._items.append(ins)

    def ld_map_value(self, dst: int, name: str, off: int) -> None:
        """``dst = &map.value[off]`` (direct value access into an array map's first entry)."""
        ins = Insn(LDDW, dst, PseudoSrc.MAP_VALUE, 0, off << 32, self.span)
        self._relocs[id(ins)] = name
        self._items.append(ins)

    def ld_func(self, dst: int, target: Label) -> None:
        """``dst = &subprogram`` (``lddw`` with BPF_PSEUDO_FUNC; callbacks of helpers)."""
        self._items.append(_Jump(Insn(LDDW, dst, PseudoSrc.FUNC, 0, 0, span=self.span), target))

    def jmp(self, op: JmpOp, dst: int, src: int, target: Label, *, w32: bool = False) -> None:
        """``if dst op src goto target`` (register operand)."""
        cls = Class.JMP32 if w32 else Class.JMP
        self._items.append(_Jump(Insn(cls | op | Source.X, dst, src, span=self.span), target))

    def jmpi(self, op: JmpOp, dst: int, imm: int, target: Label, *, w32: bool = False) -> None:
        """``if dst op imm goto target`` (imm must fit 32 bits)."""
        cls = Class.JMP32 if w32 else Class.JMP
        self._items.append(_Jump(Insn(cls | op | Source.K, dst, 0, 0, imm, span=self.span), target))

    def ja(self, target: Label) -> None:
        """``goto target``."""
        self._items.append(_Jump(Insn(Class.JMP | JmpOp.JA, span=self.span), target))

    def join(self, other: Emitter) -> Emitter:
        """Append ``other``'s instructions (labels and relocations included); returns self."""
        self._items.extend(other._items)
        self._relocs.update(other._relocs)
        self._functions.extend(other._functions)
        return self

    def elide_ctx_copy(self) -> None:
        """Drop ``r6 = r1`` at the entry when the context is only read before r1 changes.

        The generator keeps the context in r6 whenever a probe reads it; when every read
        happens in straight-line code before the first call (or write to r1), reading r1
        directly is the same and saves the copy (and ``r1 = r6`` becomes nothing).
        """
        items = self._items
        first = next((i for i, it in enumerate(items) if not isinstance(it, _Place)), None)
        if first is None:
            return
        entry = items[first]
        mov_x = Class.ALU64 | AluOp.MOV | Source.X
        if not (
            isinstance(entry, Insn) and entry.opcode == mov_x and entry.dst == 6 and entry.src == 1
        ):
            return
        uses: list[int] = []
        boundary = len(items)
        for i in range(first + 1, len(items)):
            it = items[i]
            if not isinstance(it, Insn):
                boundary = i
                break
            reads6 = it.src == 6 and it.opcode != LDDW
            if reads6 or (it.dst == 6 and not it.is_call):
                uses.append(i)
            if (
                it.is_call
                or it.is_exit
                or ((it.dst == 1 and not it.is_mem) or (it.cls == Class.LDX and it.dst == 1))
            ):
                boundary = i + 1  # this instruction still sees the context in r1
                break
        later = any(
            (isinstance(it, Insn | _Jump))
            and (
                (it if isinstance(it, Insn) else it.insn).src == 6
                or (it if isinstance(it, Insn) else it.insn).dst == 6
            )
            and not (isinstance(it, Insn) and it.opcode == LDDW and it.src != 0 and it.dst != 6)
            for it in items[boundary:]
        )
        # Writes to r1 before the boundary other than ``r1 = r6`` end the window too.
        if later or any(items[i].dst == 6 for i in uses if isinstance(items[i], Insn)):  # type: ignore[union-attr]
            return
        for i in uses:
            it = items[i]
            assert isinstance(it, Insn)
            items[i] = Insn(
                it.opcode, it.dst, 1 if it.src == 6 else it.src, it.off, it.imm, it.span
            )
        out = [it for k, it in enumerate(items) if k != first]
        self._items = [
            it
            for it in out
            if not (isinstance(it, Insn) and it.opcode == mov_x and it.dst == it.src)
        ]

    def function(self, label: Label) -> None:
        """Place ``label`` as the entry of a subprogram."""
        self._functions.append(label)
        self.place(label)

    # -- finishing ----------------------------------------------------------------------------
    def finish(self) -> Code:
        """Resolve labels and return the program (unreachable code removed: the verifier
        rejects it, and ``exit()``/``return`` leave dead code behind them)."""
        self._items = self._reachable()
        items = self._drop_trivial_jumps()
        # Slot position of every item and every label.
        pos: dict[int, int] = {}
        slot = 0
        label_slot: dict[int, int] = {}
        for idx, it in enumerate(items):
            if isinstance(it, _Place):
                label_slot[id(it.label)] = slot
                continue
            pos[idx] = slot
            slot += (it.insn if isinstance(it, _Jump) else it).slots
        out: list[Insn] = []
        relocs: dict[int, str] = {}
        for idx, it in enumerate(items):
            if isinstance(it, _Place):
                continue
            if isinstance(it, _Jump):
                tgt = label_slot.get(id(it.target))
                if tgt is None:
                    raise ValueError(f"label {it.target.name or '?'} never placed")
                off = tgt - pos[idx] - 1
                if it.insn.opcode == LDDW:  # a function reference: the offset goes in imm
                    ins = Insn(LDDW, it.insn.dst, it.insn.src, 0, off, it.insn.span)
                else:
                    ins = Insn(
                        it.insn.opcode, it.insn.dst, it.insn.src, off, it.insn.imm, it.insn.span
                    )
                out.append(ins)
            else:
                if id(it) in self._relocs:
                    relocs[len(out)] = self._relocs[id(it)]
                out.append(it)
        funcs = sorted(label_slot[id(f)] for f in self._functions if id(f) in label_slot)
        return Code(out, relocs, funcs)

    def _reachable(self) -> list[Insn | _Jump | _Place]:
        items = self._items
        where = {id(it.label): i for i, it in enumerate(items) if isinstance(it, _Place)}
        seen = [False] * len(items)
        todo = [0] if items else []
        while todo:
            i = todo.pop()
            while i < len(items) and not seen[i]:
                seen[i] = True
                it = items[i]
                if isinstance(it, _Jump):
                    tgt = where.get(id(it.target))
                    if tgt is None:
                        raise ValueError(f"label {it.target.name or '?'} never placed")
                    todo.append(tgt)
                    if it.insn.opcode == Class.JMP | JmpOp.JA:
                        break
                    if it.insn.opcode == LDDW:  # a subprogram: reachable, but not a branch
                        i += 1
                        continue
                elif isinstance(it, Insn) and it.is_exit:
                    break
                i += 1
        return [it for i, it in enumerate(items) if seen[i]]

    def _drop_trivial_jumps(self) -> list[Insn | _Jump | _Place]:
        """Remove ``goto L`` when L is placed right after it (only labels between)."""
        items = self._items
        out: list[Insn | _Jump | _Place] = []
        for i, it in enumerate(items):
            if isinstance(it, _Jump) and it.insn.opcode == Class.JMP | JmpOp.JA:
                j = i + 1
                trivial = False
                while j < len(items) and isinstance(items[j], _Place):
                    if items[j].label is it.target:  # type: ignore[union-attr]
                        trivial = True
                        break
                    j += 1
                if trivial:
                    continue
            out.append(it)
        return out


def _sext64(v: int) -> int:
    v &= 0xFFFF_FFFF_FFFF_FFFF
    return v - (1 << 64) if v & (1 << 63) else v


__all__ = [
    "FP",
    "R0",
    "R1",
    "R2",
    "R3",
    "R4",
    "R5",
    "R6",
    "R7",
    "R8",
    "R9",
    "Code",
    "Emitter",
    "Label",
]
