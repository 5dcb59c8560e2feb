# mypy: disable-error-code="no-any-return"
"""Memory values: where strings, tuples and big keys live, and copying them around.

Small aggregates (up to :data:`STACK_AGG_MAX` bytes) go on the BPF stack. Larger ones go
into the per-CPU scratch map (one array entry per CPU): its pointer is looked up once in the
program prologue and kept in the stack slot :data:`SCRATCH_SLOT`, so no register is pinned
to it. ``str()`` results are ``max_strlen`` bytes (1024 by default, like bpftrace) and so
normally live in scratch memory, never on the 512-byte stack.
"""

from __future__ import annotations

from typing import Any

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, R4
from pybpf.codegen.frame import CodegenError, Val
from pybpf.codegen.helpers import Helper
from pybpf.lang import ast
from pybpf.lang.literals import literal_bytes
from pybpf.passes.types import (
    INT64,
    ArrayType,
    PointerType,
    RecordType,
    StringType,
    StructType,
    TupleType,
    Type,
)

# The mixins run as methods of ProbeGen; mypy cannot express a mixin's self type across
# this import cycle, so ``self`` is typed loosely here and checked through ProbeGen's tests.
Gen = Any

STACK_AGG_MAX = 64
SCRATCH_SLOT = -8
"""fp offset of the saved scratch-memory pointer."""


class MemGen:
    """Mixin of :class:`ProbeGen`: memory values."""

    def alloc_mem(self: Gen, t: Type, *, force_scratch: bool = False) -> Val:
        """Space for a value of type ``t`` (stack when small, else scratch memory)."""
        size = max((t.size + 7) // 8 * 8, 8)
        if size <= STACK_AGG_MAX and not force_scratch:
            return Val("mem", t, reg=FP, off=self.frame.alloc_stack(size), owned=False)
        off = self.scratch_alloc(size)
        return Val("mem", t, reg=-1, off=off, owned=False, base_slot=SCRATCH_SLOT)

    def scratch_alloc(self: Gen, size: int) -> int:
        """Bytes of scratch memory for this program run (bump allocation)."""
        self.uses_scratch = True
        off = self.scratch_top
        self.scratch_top += size
        self.script.need_scratch(self.scratch_top)
        return off

    def addr_into(self: Gen, reg: int, v: Val) -> None:
        """``reg = address of memory value v``."""
        base = self.frame.base_of(v, reg)
        self.em.mov(reg, base)
        if v.off:
            self.em.alui(AluOp.ADD, reg, v.off)

    def zero_mem(self: Gen, v: Val, size: int) -> None:
        """Zero ``size`` bytes of memory value ``v``."""
        size = (size + 7) // 8 * 8
        if size <= STACK_AGG_MAX:
            base = self.frame.base_of(v, R1)
            for o in range(0, size, 8):
                self.em.sti(8, base, v.off + o, 0)
            return
        # probe_read_kernel of a NULL source fails and zero-fills its destination:
        # one call instead of size/8 stores.
        self.frame.before_call()
        self.addr_into(R1, v)
        self.em.movi(R2, size)
        self.em.movi(R3, 0)
        self.frame.call(Helper.PROBE_READ_KERNEL)

    def copy_into(self: Gen, dst: Val, src: Val, t: Type) -> None:
        """Copy aggregate ``src`` into ``dst`` (``t.size`` bytes); frees ``src``."""
        size = t.size
        if src.kind == "tpfield":
            self.read_str_into(dst, src, size)
            return
        if src.type is not None and 0 < src.type.size < size:
            # A shorter value (string[4] into string[16]): copy it and zero the rest.
            self.zero_mem(dst, size)
            size = src.type.size
        if size <= STACK_AGG_MAX:
            for o in range(0, size - size % 8, 8):
                self.em.ldx(8, R1, self.frame.base_of(src, R1), src.off + o)
                self.em.stx(8, self.frame.base_of(dst, R2), dst.off + o, R1)
            for o in range(size - size % 8, size):
                self.em.ldx(1, R1, self.frame.base_of(src, R1), src.off + o)
                self.em.stx(1, self.frame.base_of(dst, R2), dst.off + o, R1)
        else:
            self.frame.before_call()
            self.addr_into(R1, dst)
            self.em.movi(R2, size)
            self.addr_into(R3, src)
            self.frame.call(Helper.PROBE_READ_KERNEL)
        self.frame.free(src)

    def store_into(self: Gen, dst: Val, off: int, e: ast.Expr, t: Type) -> None:
        """Evaluate ``e`` and store it at ``dst + off`` as type ``t``."""
        if isinstance(t, TupleType | RecordType) and self.store_tuple(dst, off, e, t):
            return
        aggregate = isinstance(t, StructType | ArrayType | TupleType | RecordType)
        if t.is_string() or t.size not in (1, 2, 4, 8) or aggregate:
            sub = Val(
                "mem", t, reg=dst.reg, off=dst.off + off, owned=False, base_slot=dst.base_slot
            )
            if isinstance(e, ast.Call) and e.name == "str":
                self.str_call(e, t, into=sub)
                return
            if isinstance(e, ast.Call) and e.name == "buf":
                self.buf_call(e, t, into=sub)
                return
            if isinstance(e, ast.Builtin) and e.name == "comm" and t.size >= 16:
                self.frame.before_call()
                self.addr_into(R1, sub)
                self.em.movi(R2, 16)
                self.frame.call(Helper.GET_CURRENT_COMM)
                return
            src = self.expr(e)
            self.copy_into(sub, src, t)
            return
        v = self.int_value(e)
        r = self.frame.reg_of(v, R1)
        base = self.frame.base_of(dst, R2)
        if v.is_imm and -(1 << 31) <= v.imm < (1 << 31):
            self.em.sti(t.size, base, dst.off + off, v.imm)
        else:
            self.em.stx(t.size, base, dst.off + off, r)
        self.frame.free(v)

    def store_tuple(self: Gen, dst: Val, off: int, e: ast.Expr, t: TupleType | RecordType) -> bool:
        """Store tuple ``e`` laid out as ``t`` when its own layout differs (map values widen
        integers to 64 bits); False when a plain copy does (same layout)."""
        st = self.typeof(e)
        if not isinstance(st, TupleType | RecordType) or len(st.elems) != len(t.elems):
            return False
        if isinstance(e, ast.Tuple | ast.Record):
            if st.elems == t.elems:
                return False
            elems = e.elems if isinstance(e, ast.Tuple) else [f.value for f in e.fields]
            for sub, o, et in zip(elems, t.offsets(), t.elems, strict=True):
                self.store_into(dst, off + o, sub, et)
            return True
        # A map read yields the map's (widened) layout, which the Val's type tells.
        src = self.expr(e)
        if isinstance(src.type, TupleType | RecordType) and len(src.type.elems) == len(t.elems):
            st = src.type
        if st.elems == t.elems:
            into = Val(
                "mem", t, reg=dst.reg, off=dst.off + off, owned=False, base_slot=dst.base_slot
            )
            self.copy_into(into, src, t)
            return True
        self.convert_tuple(dst, off, src, 0, st, t)
        self.frame.free(src)
        return True

    def convert_tuple(
        self: Gen,
        dst: Val,
        doff: int,
        src: Val,
        soff: int,
        st: TupleType | RecordType,
        t: TupleType | RecordType,
    ) -> None:
        """Copy tuple ``src`` (layout ``st``) into ``dst`` (layout ``t``) element by element:
        integers are re-sized (sign-extended when signed), the rest copied."""
        from pybpf.passes.types import IntType

        for so, se, do, de in zip(st.offsets(), st.elems, t.offsets(), t.elems, strict=True):
            if isinstance(se, TupleType | RecordType) and isinstance(de, TupleType | RecordType):
                self.convert_tuple(dst, doff + do, src, soff + so, se, de)
            elif se.is_integer() and de.is_integer() and de.size in (1, 2, 4, 8):
                base = self.frame.base_of(src, R1)
                if isinstance(se, IntType) and se.signed and se.size < 8:
                    self.em.ldxs(se.size, R1, base, src.off + soff + so)
                else:
                    self.em.ldx(se.size, R1, base, src.off + soff + so)
                self.em.stx(de.size, self.frame.base_of(dst, R2), dst.off + doff + do, R1)
            else:
                for o in range(min(se.size, de.size)):
                    self.em.ldx(1, R1, self.frame.base_of(src, R1), src.off + soff + so + o)
                    self.em.stx(1, self.frame.base_of(dst, R2), dst.off + doff + do + o, R1)

    def string_literal(self: Gen, s: str, t: Type) -> Val:
        """A string constant materialised in memory (zero-padded to ``t.size``)."""
        data = literal_bytes(s)
        size = max(t.size, len(data) + 1)
        dst = self.alloc_mem(StringType(size))
        raw = data + b"\0" * ((size + 7) // 8 * 8 - len(data))
        base = self.frame.base_of(dst, R1)
        for o in range(0, len(raw), 4):
            self.em.sti(4, base, dst.off + o, int.from_bytes(raw[o : o + 4], "little", signed=True))
        dst.type = StringType(size)
        return dst

    # -- str() ----------------------------------------------------------------------------------
    def str_call(self: Gen, e: ast.Call, t: Type, into: Val | None = None) -> Val:
        """``str(ptr[, n])``: read a NUL-terminated string into memory."""
        size = t.size
        dst = into if into is not None else self.alloc_mem(t)
        arg = e.args[0]
        src = self.expr(arg)
        if self.zero_strings:
            self.zero_mem(dst, size)
        if src.kind == "mem":
            self.copy_into(dst, src, t)
            return dst
        limit: Val | None = None
        if len(e.args) > 1 and not isinstance(e.args[1], ast.Integer):
            limit = self.int_value(e.args[1])
        self.read_str_into(dst, src, size, user=self.user_pointer(arg), limit=limit)
        return dst

    def user_pointer(self: Gen, arg: ast.Expr) -> bool:
        """Whether a pointer argument points into user memory."""
        t = self.typeof(arg)
        if isinstance(t, PointerType):
            return t.space.value == "user"
        return self.user_space_default

    def read_str_into(
        self: Gen, dst: Val, src: Val, size: int, user: bool = False, limit: Val | None = None
    ) -> None:
        """probe_read_*_str from a pointer value, or a string field of the tracepoint record."""
        self.frame.before_call()
        if src.kind == "tpfield":
            f = src.extra
            if getattr(f, "data_loc", False):
                self.em.ldx(4, R3, R6_CTX, src.off)
                self.em.alui(AluOp.AND, R3, 0xFFFF)
                self.em.alu(AluOp.ADD, R3, R6_CTX)
            else:
                self.em.mov(R3, R6_CTX)
                self.em.alui(AluOp.ADD, R3, src.off)
            helper = Helper.PROBE_READ_KERNEL_STR
        else:
            self.em.mov(R3, self.frame.reg_of(src, R3))
            self.frame.free(src)
            helper = Helper.PROBE_READ_USER_STR if user else Helper.PROBE_READ_KERNEL_STR
        if limit is not None:
            lim = self.frame.reg_of(limit, R2)
            self.em.mov(R2, lim)
            self.em.alui(AluOp.ADD, R2, 1)
            ok = self.em.label("lim_ok")
            self.em.jmpi(JmpOp.JLE, R2, size, ok)
            self.em.movi(R2, size)
            self.em.place(ok)
            self.frame.free(limit)
        else:
            self.em.movi(R2, size)
        self.addr_into(R1, dst)
        self.frame.call(helper)

    # -- string comparison ----------------------------------------------------------------------
    def str_compare(self: Gen, e: ast.Binary) -> Val:
        """``a == b`` / ``a != b`` on strings: an unrolled byte compare up to the first NUL."""
        lt, rt = self.typeof(e.left), self.typeof(e.right)
        n = min(lt.size, rt.size)
        if n > 256:
            n = 256
        a = self.expr(e.left)
        b = self.expr(e.right)
        res = self.frame.new_reg(INT64)
        differ = self.em.label("str_ne")
        done = self.em.label("str_done")
        for i in range(n):
            self.em.ldx(1, R4, self.frame.base_of(a, R4), a.off + i)
            self.em.ldx(1, R0, self.frame.base_of(b, R0), b.off + i)
            self.em.jmp(JmpOp.JNE, R4, R0, differ)
            self.em.jmpi(JmpOp.JEQ, R4, 0, done) if i < n - 1 else None
        self.em.place(done)
        self.em.movi(res.reg, 1 if e.op == "==" else 0)
        end = self.em.label("str_end")
        self.em.ja(end)
        self.em.place(differ)
        self.em.movi(res.reg, 0 if e.op == "==" else 1)
        self.em.place(end)
        self.frame.free(a)
        self.frame.free(b)
        return res


R6_CTX = 6
_ = R0
__all__ = ["SCRATCH_SLOT", "STACK_AGG_MAX", "CodegenError", "MemGen"]
