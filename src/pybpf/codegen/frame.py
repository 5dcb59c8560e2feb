"""Values, registers and the stack frame of one program being generated.

Integer values live in registers. A helper call clobbers r0-r5, so a value computed into r0
(every helper's result) is *volatile*: it stays there while nothing else is called, and is
moved into a callee-saved register (r6-r9) only when a call is about to be emitted while it
is still live -- no move is emitted when none is needed. When r6-r9 are all taken, the
oldest live value is spilled to an 8-byte stack slot and reloaded when used.

Aggregates (strings, tuples, buffers) are memory values: a base register (the frame pointer,
or a register holding a pointer into scratch memory / a ring-buffer record) plus an offset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.codegen.emit import FP, R0, R6, R7, R8, R9, Emitter
from pybpf.records import dataclass, field

if TYPE_CHECKING:
    from pybpf.passes.types import Type

STACK_LIMIT = 512


class CodegenError(Exception):
    """A construct the generator cannot compile; carries the span for a diagnostic."""

    def __init__(self, message: str, span: object | None = None) -> None:
        super().__init__(message)
        self.span = span


@dataclass(eq=False)
class Val:
    """A value during generation.

    kind ``imm``: a constant (``imm``); ``reg``: an integer in register ``reg``; ``spill``: an
    integer saved at ``fp+off``; ``mem``: bytes at ``reg+off`` (``reg`` may be FP).
    ``owned`` registers are released when the value is freed.
    """

    kind: str
    type: Type | None = None
    imm: int = 0
    reg: int = -1
    off: int = 0
    owned: bool = True
    #: For mem values whose base pointer register was spilled: the slot holding it.
    base_slot: int | None = field(default=None)
    #: Kind-specific data (the tracepoint field of a ``tpfield`` value).
    extra: object = None

    @property
    def is_imm(self) -> bool:
        """A compile-time constant."""
        return self.kind == "imm"


class Frame:
    """Register and stack bookkeeping for one program."""

    def __init__(self, em: Emitter, reserved: tuple[int, ...] = ()) -> None:
        self.em = em
        self.free_regs = [r for r in (R9, R8, R7, R6) if r not in reserved]
        self.live: list[Val] = []  # values holding a register, oldest first
        self.stack_top = 0  # bytes used below fp
        self.max_stack = 0

    # -- stack --------------------------------------------------------------------------------
    def alloc_stack(self, size: int, align: int = 8) -> int:
        """A fresh stack area of ``size`` bytes; returns its (negative) fp offset."""
        top = (self.stack_top + size + align - 1) // align * align
        if top > STACK_LIMIT:
            raise CodegenError(f"BPF stack limit of {STACK_LIMIT} bytes exceeded")
        self.stack_top = top
        self.max_stack = max(self.max_stack, top)
        return -top

    def mark(self) -> int:
        """Current stack depth (give it to :meth:`release_to`)."""
        return self.stack_top

    def release_to(self, mark: int) -> None:
        """Free stack allocated since ``mark``."""
        self.stack_top = mark

    # -- registers ----------------------------------------------------------------------------
    def _take_reg(self) -> int:
        if not self.free_regs:
            self._spill_oldest()
        return self.free_regs.pop()

    def _spill_oldest(self) -> None:
        for v in self.live:
            if v.reg >= R6 and v.kind in ("reg", "mem") and v.reg != FP:
                slot = self.alloc_stack(8)
                self.em.stx(8, FP, slot, v.reg)
                self.free_regs.append(v.reg)
                self.live.remove(v)
                if v.kind == "reg":
                    v.kind, v.off, v.reg = "spill", slot, -1
                else:
                    v.base_slot, v.reg = slot, -1
                return
        raise CodegenError("expression too complex: no register left")

    def new_reg(self, t: Type | None) -> Val:
        """A value in a fresh callee-saved register."""
        v = Val("reg", t, reg=self._take_reg())
        self.live.append(v)
        return v

    def result_r0(self, t: Type | None) -> Val:
        """Wrap a helper's result in r0 as a (volatile) value."""
        v = Val("reg", t, reg=R0)
        self.live.append(v)
        return v

    def track(self, v: Val) -> Val:
        """Start tracking ``v`` (a reg/mem value built by hand) as live."""
        if v.reg not in (FP, -1) and v.owned:
            self.live.append(v)
        return v

    def before_call(self) -> None:
        """Move every live value out of r0-r5 (a call is about to clobber them)."""
        for v in list(self.live):
            if 0 <= v.reg <= 5:
                r = self._take_reg()
                self.em.mov(r, v.reg)
                v.reg = r

    def call(self, helper: int) -> None:
        """Emit a helper call (callers must have called :meth:`before_call` before the args)."""
        self.em.call(helper)

    def reg_of(self, v: Val, scratch: int = R0) -> int:
        """A register holding integer ``v`` (constants and spills are loaded into ``scratch``)."""
        if v.kind == "reg":
            return v.reg
        if v.kind == "imm":
            self.em.movi(scratch, v.imm)
            return scratch
        if v.kind == "spill":
            self.em.ldx(8, scratch, FP, v.off)
            return scratch
        raise CodegenError("internal: memory value used as an integer")

    def base_of(self, v: Val, scratch: int) -> int:
        """The base register of a memory value (reloading a spilled base into ``scratch``)."""
        if v.base_slot is not None:
            self.em.ldx(8, scratch, FP, v.base_slot)
            return scratch
        return v.reg

    def writable(self, v: Val) -> Val:
        """``v`` in an owned register that may be modified in place."""
        if v.kind == "reg" and v.owned:
            return v
        out = self.new_reg(v.type)
        if v.kind == "reg":
            self.em.mov(out.reg, v.reg)
        elif v.kind == "imm":
            self.em.movi(out.reg, v.imm)
        elif v.kind == "spill":
            self.em.ldx(8, out.reg, FP, v.off)
        self.free(v)
        return out

    def free(self, v: Val) -> None:
        """Release the register of ``v`` (if owned)."""
        if v in self.live:
            self.live.remove(v)
            if v.owned and v.reg >= R6 and v.reg != FP:
                self.free_regs.append(v.reg)
        v.kind = "dead" if v.kind != "imm" else v.kind


__all__ = ["STACK_LIMIT", "CodegenError", "Frame", "Val"]
