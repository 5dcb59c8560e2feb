# mypy: disable-error-code="no-any-return"
"""Async events: printf, print, exit, time ... written straight into ring-buffer records.

A record is reserved with ``bpf_ringbuf_reserve`` (fixed size per event id), its u64 id and
arguments are written in place (no copy through the stack), and it is submitted without
waking the reader: the reader polls with a short timeout, because a wake-up costs the
producer microseconds (an interrupt-work IPI, a VM exit here), which is most of what
bpftrace's printf costs. The one record that fills the ring past a quarter wakes the
reader early, so a burst is drained before the ring can fill. ``exit`` always wakes. A
failed reservation (ring full) increments the lost-event counter in the globals map,
which user space reports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import R0, R1, R2
from pybpf.codegen.frame import CodegenError, Val
from pybpf.codegen.helpers import RB_AVAIL_DATA, RB_FORCE_WAKEUP, RB_NO_WAKEUP, Helper
from pybpf.lang import ast
from pybpf.passes.types import INT64, BoolType, IntType, Type
from pybpf.runtime.events import HEADER, EventField, EventKind

# The mixins run as methods of ProbeGen; mypy cannot express a mixin's self type across
# this import cycle, so ``self`` is typed loosely here and checked through ProbeGen's tests.
Gen = Any

GLOBAL_LOST = 8
"""Offset of the lost-event counter in the globals map value."""


def _layout(types: list[Type]) -> tuple[tuple[EventField, ...], int]:
    out, off = [], 0
    for t in types:
        a = max(min(t.align, 8), 1)
        off = (off + a - 1) // a * a
        out.append(EventField(t, off))
        off += t.size
    return tuple(out), off


class EventGen:
    """Mixin of :class:`ProbeGen`: ring-buffer events."""

    def emit_event(
        self: Gen,
        kind: EventKind,
        args: list[ast.Expr],
        *,
        wake: bool = False,
        payload: Callable[[Val], None] | None = None,
        payload_size: int = 0,
        **info: object,
    ) -> None:
        """Send one event carrying the values of ``args``.

        ``payload(record)`` instead writes ``payload_size`` bytes of its own after the header
        (``join()``'s strings): the record value's register may only be read through
        ``frame.reg_of`` (it lives in a callee-saved register or a spill slot).
        """
        types = [self.arg_type(a) for a in args]
        fields, size = _layout(types)
        size = max(size, payload_size)
        spec = self.script.events.add(kind, fields, size, **info)
        rec_size = spec.record_size
        self.frame.before_call()
        self.em.ld_map(R1, self.script.ringbuf_name())
        self.em.movi(R2, rec_size)
        self.em.movi(3, 0)
        self.frame.call(Helper.RINGBUF_RESERVE)
        rec = self.frame.result_r0(INT64)
        lost = self.em.label("rb_lost")
        done = self.em.label("rb_done")
        self.em.jmpi(JmpOp.JEQ, R0, 0, lost)
        self.em.sti(4, R0, 0, spec.id)
        self.em.sti(4, R0, 4, 0)
        if args or payload is not None:
            self.frame.before_call()  # the record pointer must survive argument helpers
        if payload is not None:
            payload(rec)
        base = Val("mem", None, reg=rec.reg, off=HEADER, owned=False)
        for a, f in zip(args, fields, strict=True):
            base.reg = rec.reg if rec.kind == "reg" else base.reg
            if rec.kind != "reg":
                base.base_slot = rec.off
                base.reg = -1
            self.store_into(base, f.offset, a, f.type)
        self.frame.before_call()
        if wake:
            self.em.mov(R1, self.frame.reg_of(rec, R1))
            self.em.movi(R2, RB_FORCE_WAKEUP)
        else:
            self.em.ld_map(R1, self.script.ringbuf_name())
            self.em.movi(R2, RB_AVAIL_DATA)
            self.frame.call(Helper.RINGBUF_QUERY)
            self.em.mov(R1, self.frame.reg_of(rec, R1))
            self.em.movi(R2, RB_NO_WAKEUP)
            quiet = self.em.label("rb_quiet")
            # Wake only if this record crossed the mark: 0 <= pending - mark < its length
            # (unsigned, so pending below the mark wraps and stays quiet). A reader that
            # is awake already is never woken again, whatever the rate.
            rec_len = (rec_size + 8 + 7) & ~7  # with the kernel's 8-byte record header
            self.em.alui(AluOp.SUB, R0, self.script.ringbuf_size // 4)
            self.em.jmpi(JmpOp.JGE, R0, rec_len, quiet)
            self.em.movi(R2, RB_FORCE_WAKEUP)
            self.em.place(quiet)
        self.frame.call(Helper.RINGBUF_SUBMIT)
        self.frame.free(rec)
        self.em.ja(done)
        self.em.place(lost)
        self.em.ld_map_value(R1, self.script.globals_name(), GLOBAL_LOST)
        self.em.movi(R2, 1)
        self.em.xadd(8, R1, 0, R2)
        self.em.place(done)

    def arg_type(self: Gen, a: ast.Expr) -> Type:
        """How an argument is stored in an event (integers as 64-bit, keeping signedness)."""
        t = self.typeof(a)
        if isinstance(t, IntType):
            return IntType(64, t.signed)
        if isinstance(t, BoolType):
            return t
        if t.is_integer():
            return INT64
        return t

    # -- the calls --------------------------------------------------------------------------------
    def printf(self: Gen, call: ast.Call, kind: EventKind = EventKind.PRINTF) -> None:
        """``printf(fmt, args...)`` (also errorf/warnf/system)."""
        if not call.args or not isinstance(call.args[0], ast.String):
            raise CodegenError(f"{call.name}() needs a literal format string", call.span)
        fmt = call.args[0].value
        self.emit_event(kind, call.args[1:], fmt=fmt, name=call.name)

    def exit_call(self: Gen, call: ast.Call) -> None:
        """``exit([code])``: tell user space to stop, then end this probe run."""
        args = call.args[:1]
        self.emit_event(EventKind.EXIT, args, wake=True)
        self.em.ja(self.epilogue)

    def print_call(self: Gen, call: ast.Call) -> None:
        """``print(@m[, top[, div]])`` or ``print(value)``."""
        if not call.args:
            raise CodegenError("print() needs an argument", call.span)
        first = call.args[0]
        if isinstance(first, ast.Map):
            nums = [a.value for a in call.args[1:] if isinstance(a, ast.Integer)]
            self.script.map_for(first)
            self.emit_event(
                EventKind.PRINT_MAP,
                [],
                map=first.name,
                top=nums[0] if nums else 0,
                div=nums[1] if len(nums) > 1 else 0,
            )
            return
        self.emit_event(EventKind.PRINT_VALUE, [first])

    def map_event(self: Gen, call: ast.Call, kind: EventKind) -> None:
        """``clear(@m)`` / ``zero(@m)``: done by user space on receipt."""
        if not call.args or not isinstance(call.args[0], ast.Map):
            raise CodegenError(f"{call.name}() needs a map argument", call.span)
        self.script.map_for(call.args[0])
        self.emit_event(kind, [], map=call.args[0].name)

    def time_call(self: Gen, call: ast.Call) -> None:
        """``time([fmt])``."""
        fmt = "%H:%M:%S\n"
        if call.args and isinstance(call.args[0], ast.String):
            fmt = call.args[0].value
        self.emit_event(EventKind.TIME, [], fmt=fmt)


_ = (AluOp,)
__all__ = ["GLOBAL_LOST", "EventGen"]
