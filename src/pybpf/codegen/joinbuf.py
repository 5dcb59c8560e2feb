# mypy: disable-error-code="no-any-return"
"""``join(argv[, sep])`` and ``buf(data[, length])``.

``join`` reads up to :data:`JOIN_ARGNUM` ``char *`` from the array and each string (up to
:data:`JOIN_ARGSIZE` bytes) straight into the ring-buffer record: 16 KiB that never touch the
512-byte stack. The reads are unrolled (no loop for the verifier to bound); a NULL entry
ends the array early with an empty slot, which is where user space stops joining.

``buf`` builds a buffer value: a u32 length, then the bytes (zero-filled to the type's
length first, so equal buffers are equal map keys). The length is a literal, an array's
size, or a run-time value clamped (unsigned, like bpftrace) to the type's length. Bytes come
from program memory (string literals, variables, arrays), from the tracepoint record, or
from an address, read with the helper its address space needs.
"""

from __future__ import annotations

from typing import Any

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R1, R2, R3
from pybpf.codegen.frame import CodegenError, Val
from pybpf.codegen.helpers import Helper
from pybpf.codegen.memory import STACK_AGG_MAX
from pybpf.lang import ast
from pybpf.passes import types as T
from pybpf.records import dataclass
from pybpf.runtime.events import HEADER, JOIN_ARGNUM, JOIN_ARGSIZE, EventKind

# The mixins run as methods of ProbeGen (see codegen/expr.py for why ``self`` is loose).
Gen = Any

_LEN = 4
"""Bytes of a buffer's length prefix (the data follows it)."""


@dataclass
class _Source:
    """Where ``buf()`` reads from: an address kept in a stack slot, its space and extent."""

    slot: int
    user: bool
    #: Bytes a value in program memory holds (reads stop there, the rest stays zero);
    #: None for memory outside the program.
    cap: int | None


class JoinBufGen:
    """Mixin of :class:`ProbeGen`: ``join`` and ``buf``."""

    # -- join ---------------------------------------------------------------------------------
    def join_call(self: Gen, c: ast.Call) -> None:
        """``join(argv[, sep])``: the strings of a ``char *[]`` as one line of output."""
        if not c.args:
            raise CodegenError("join() needs an array argument", c.span)
        sep = c.args[1].value if len(c.args) > 1 and isinstance(c.args[1], ast.String) else " "
        user = self.user_pointer(c.args[0])
        arr = self.int_value(c.args[0])
        arr_slot = self.frame.alloc_stack(8)
        self._store_slot(arr_slot, arr)
        ptr_slot = self.frame.alloc_stack(8)

        def payload(rec: Val) -> None:
            done = self.em.label("join_done")
            for i in range(JOIN_ARGNUM):
                self._join_arg(rec, i, arr_slot, ptr_slot, user, done)
            self.em.place(done)

        self.emit_event(
            EventKind.JOIN, [], payload=payload, payload_size=JOIN_ARGNUM * JOIN_ARGSIZE, sep=sep
        )

    def _join_arg(
        self: Gen, rec: Val, i: int, arr_slot: int, ptr_slot: int, user: bool, done: Any
    ) -> None:
        """Slot ``i`` of the record: ``argv[i]``'s string, or empty (and stop) at NULL."""
        off = HEADER + i * JOIN_ARGSIZE
        self.frame.before_call()
        self.em.mov(R1, FP)
        self.em.alui(AluOp.ADD, R1, ptr_slot)
        self.em.movi(R2, 8)
        self.em.ldx(8, R3, FP, arr_slot)
        if i:
            self.em.alui(AluOp.ADD, R3, 8 * i)
        # A failed read zero-fills the slot: an unreadable array reads as NULL.
        self.frame.call(Helper.PROBE_READ_USER if user else Helper.PROBE_READ_KERNEL)
        self.em.ldx(8, R3, FP, ptr_slot)
        present = self.em.label("join_arg")
        self.em.jmpi(JmpOp.JNE, R3, 0, present)
        self.em.sti(1, self.frame.reg_of(rec, R1), off, 0)
        self.em.ja(done)
        self.em.place(present)
        base = self.frame.reg_of(rec, R1)
        if base != R1:
            self.em.mov(R1, base)
        self.em.alui(AluOp.ADD, R1, off)
        self.em.movi(R2, JOIN_ARGSIZE)
        # An unreadable string is zero-filled by the helper: an empty slot ends the join.
        self.frame.call(Helper.PROBE_READ_USER_STR if user else Helper.PROBE_READ_KERNEL_STR)

    def _store_slot(self: Gen, slot: int, v: Val) -> None:
        """Save integer ``v`` in stack slot ``slot`` and free it."""
        if v.is_imm and -(1 << 31) <= v.imm < (1 << 31):
            self.em.sti(8, FP, slot, v.imm)
        else:
            self.em.stx(8, FP, slot, self.frame.reg_of(v, R1))
        self.frame.free(v)

    # -- buf ----------------------------------------------------------------------------------
    def buf_call(
        self: Gen, c: ast.Call, dest: T.Type | None = None, into: Val | None = None
    ) -> Val:
        """``buf(data[, length])`` into ``into`` (or fresh memory) as type ``dest``."""
        own = self.typeof(c)
        if not isinstance(own, T.BufferType) or not c.args:
            raise CodegenError("buf() needs a data argument", c.span)
        t = dest if isinstance(dest, T.BufferType) and dest.length >= own.length else own
        n, len_slot = self._buf_length(c, own.length)
        src = self._buf_source(c.args[0])
        dst = into if into is not None else self.alloc_mem(t)
        dst.type = t
        self._zero_exact(dst, _LEN, t.size - _LEN)
        if n is not None:
            self.em.sti(4, self.frame.base_of(dst, R1), dst.off, n)
            size = n if src.cap is None else min(n, src.cap)
            if size:
                self.frame.before_call()
                self.em.movi(R2, size)
                self._buf_read(dst, src)
            return dst
        self.frame.before_call()
        self.em.ldx(8, R2, FP, len_slot)
        self._clamp(R2, own.length)
        self.em.stx(4, self.frame.base_of(dst, R1), dst.off, R2)
        if src.cap is not None and src.cap < own.length:
            self._clamp(R2, src.cap)
        self._buf_read(dst, src)
        return dst

    def _buf_length(self: Gen, c: ast.Call, limit: int) -> tuple[int | None, int]:
        """The constant length (else None and the stack slot holding the run-time one)."""
        if len(c.args) < 2:
            return limit, 0
        v = self.int_value(c.args[1])
        if v.is_imm:
            # Unsigned, like bpftrace: a negative length is huge and clamps to the limit.
            return min(v.imm & ((1 << 64) - 1), limit), 0
        slot = self.frame.alloc_stack(8)
        self._store_slot(slot, v)
        return None, slot

    def _buf_source(self: Gen, arg: ast.Expr) -> _Source:
        """Evaluate ``buf``'s data argument to an address saved on the stack."""
        slot = self.frame.alloc_stack(8)
        at = self.typeof(arg)
        aggregate = isinstance(at, T.ArrayType | T.StringType | T.StructType)
        # Memory outside the program is read for the whole length, past the field's end if
        # asked, as bpftrace does; only the program's own values are bounded by their size.
        if aggregate and self._tp_field_addr(arg):
            self.em.stx(8, FP, slot, R3)
            return _Source(slot, False, None)
        if aggregate and self.is_kernel_place(arg):
            # An array member behind a pointer: read it where it is, not through a copy.
            p = self.place(arg)
            r = self.frame.reg_of(p.base, R3)
            self.em.stx(8, FP, slot, r)
            self.frame.free(p.base)
            if p.off:
                self.em.ldx(8, R3, FP, slot)
                self.em.alui(AluOp.ADD, R3, p.off)
                self.em.stx(8, FP, slot, R3)
            return _Source(slot, p.user, None)
        v = self.expr(arg)
        if v.kind == "mem":
            cap = v.type.size if v.type is not None else None
            self.addr_into(R3, v)
            self.em.stx(8, FP, slot, R3)
            self.frame.free(v)
            return _Source(slot, False, cap)
        user = self.user_pointer(arg)
        self._store_slot(slot, v)
        return _Source(slot, user, None)

    def _tp_field_addr(self: Gen, arg: ast.Expr) -> bool:
        """``args.f`` of an array (or ``__data_loc``) tracepoint field: r3 = its address."""
        if not (
            isinstance(arg, ast.FieldAccess)
            and isinstance(arg.expr, ast.Builtin)
            and arg.expr.name == "args"
        ):
            return False
        f = self.tp_fields.get(arg.field)
        if f is None or not (f.data_loc or f.is_array):
            return False
        if f.data_loc:
            self.em.ldx(4, R3, 6, f.offset)
            self.em.alui(AluOp.AND, R3, 0xFFFF)
            self.em.alu(AluOp.ADD, R3, 6)
        else:
            self.em.mov(R3, 6)
            self.em.alui(AluOp.ADD, R3, f.offset)
        return True

    def _buf_read(self: Gen, dst: Val, src: _Source) -> None:
        """probe_read(dst data, r2 bytes, source); the caller has done ``before_call``."""
        self.addr_into(R1, dst)
        self.em.alui(AluOp.ADD, R1, _LEN)
        self.em.ldx(8, R3, FP, src.slot)
        self.frame.call(Helper.PROBE_READ_USER if src.user else Helper.PROBE_READ_KERNEL)

    def _clamp(self: Gen, reg: int, limit: int) -> None:
        """``reg = min(reg, limit)`` unsigned (the verifier learns the bound on both paths)."""
        ok = self.em.label("buf_len_ok")
        self.em.jmpi(JmpOp.JLE, reg, limit, ok)
        self.em.movi(reg, limit)
        self.em.place(ok)

    def _zero_exact(self: Gen, dst: Val, off: int, size: int) -> None:
        """Zero exactly ``size`` bytes at ``dst + off`` (a neighbouring field may follow)."""
        if size > STACK_AGG_MAX:
            # probe_read_kernel from NULL fails and zero-fills: one call for any size.
            self.frame.before_call()
            self.addr_into(R1, dst)
            self.em.alui(AluOp.ADD, R1, off)
            self.em.movi(R2, size)
            self.em.movi(R3, 0)
            self.frame.call(Helper.PROBE_READ_KERNEL)
            return
        base = self.frame.base_of(dst, R1)
        at, end = dst.off + off, dst.off + off + size
        while at < end:
            # Natural alignment: the verifier insists on it for stack stores.
            w = next(w for w in (8, 4, 2, 1) if at % w == 0 and at + w <= end)
            self.em.sti(w, base, at, 0)
            at += w


__all__ = ["JoinBufGen"]
