# mypy: disable-error-code="no-any-return"
"""Map access: keys, plain reads and writes, and the aggregations (count, sum, hist ...).

Aggregations live in per-CPU hash maps (no atomics needed) and user space combines the CPUs,
like bpftrace. An aggregation update is one lookup: the value is updated in place when the
key exists, and inserted with ``map_update_elem`` the first time.

Value layouts (u64 slots): count/sum ``[v]``; min/max ``[v, set]``; avg/stats
``[count, total]``; hist/lhist ``[count]`` under the key ``(script key..., u64 bucket)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, R4
from pybpf.codegen.frame import CodegenError, Val
from pybpf.codegen.helpers import Helper
from pybpf.lang import ast
from pybpf.passes.types import (
    INT64,
    UINT64,
    ArrayType,
    IntType,
    RecordType,
    StructType,
    TupleType,
    Type,
)

# The mixins run as methods of ProbeGen; mypy cannot express a mixin's self type across
# this import cycle, so ``self`` is typed loosely here and checked through ProbeGen's tests.
Gen = Any

if TYPE_CHECKING:
    from pybpf.codegen.spec import MapDef


def in_memory(t: Type) -> bool:
    """Whether values of ``t`` are built in memory (strings, tuples, records, structs,
    arrays, even the small ones) rather than in a register."""
    return (
        t.is_string()
        or t.size > 8
        or isinstance(t, TupleType | RecordType | StructType | ArrayType)
    )


class MapGen:
    """Mixin of :class:`ProbeGen`: map operations."""

    # -- keys -----------------------------------------------------------------------------------
    def map_key(self: Gen, m: MapDef, keys: list[ast.Expr], extra: int = 0) -> Val:
        """Build the key of ``m`` in memory (``extra`` bytes reserved after it for a bucket)."""
        if m.key_type is None:
            k = Val("mem", UINT64, reg=FP, off=self.frame.alloc_stack(8), owned=False)
            if not extra:  # a hist/lhist bucket overwrites the whole key
                self.em.sti(8, FP, k.off, 0)
            return k
        size = m.key_size
        kt = m.key_type
        from pybpf.passes.types import StringType

        k = self.alloc_mem(StringType(size))
        self.zero_strings = True
        try:
            if len(keys) == 1:
                if kt.size < size - extra and (kt.is_string() or kt.size > 8):
                    self.zero_mem(k, size - extra)
                elif kt.is_string() or kt.size > 8:
                    pass
                self.store_into(k, 0, keys[0], kt)
            else:
                from pybpf.passes.types import TupleType

                assert isinstance(kt, TupleType)
                self.zero_mem(k, kt.size)
                for sub, off, et in zip(keys, kt.offsets(), kt.elems, strict=True):
                    self.store_into(k, off, sub, et)
        finally:
            self.zero_strings = False
        return k

    def lookup(self: Gen, m: MapDef, key: Val) -> None:
        """``r0 = bpf_map_lookup_elem(m, key)``."""
        self.frame.before_call()
        self.em.ld_map(R1, m.name)
        self.addr_into(R2, key)
        self.frame.call(Helper.MAP_LOOKUP_ELEM)

    def update(self: Gen, m: MapDef, key: Val, value: Val) -> None:
        """``bpf_map_update_elem(m, key, value, BPF_ANY)``."""
        self.frame.before_call()
        self.em.ld_map(R1, m.name)
        self.addr_into(R2, key)
        self.addr_into(R3, value)
        self.em.movi(R4, 0)
        self.frame.call(Helper.MAP_UPDATE_ELEM)

    # -- reads ----------------------------------------------------------------------------------
    def map_read(self: Gen, mexpr: ast.Map, keys: list[ast.Expr]) -> Val:
        """``@m[k]``: the stored value, or zero when the key is missing."""
        m = self.script.map_for(mexpr)
        mark = self.frame.mark()
        key = self.map_key(m, keys)
        vt = m.value_type or INT64
        if m.agg in ("hist", "lhist"):
            raise CodegenError("hist/lhist maps cannot be read in a probe", mexpr.span)
        if not m.agg and in_memory(vt):
            dst = self.alloc_mem(vt)
            self.zero_mem(dst, vt.size)
            self.lookup(m, key)
            miss = self.em.label("miss")
            self.em.jmpi(JmpOp.JEQ, R0, 0, miss)
            src = Val("reg", vt, reg=R0, owned=False)
            src.kind = "mem"
            self.copy_into(dst, src, vt)
            self.em.place(miss)
            return dst
        self.lookup(m, key)
        self.frame.release_to(mark)
        out = self.frame.result_r0(vt if not m.agg else INT64)
        miss = self.em.label("miss")
        self.em.jmpi(JmpOp.JEQ, R0, 0, miss)
        if m.agg == "avg":
            # total / count (count is never zero once the key exists)
            self.em.ldx(8, R1, R0, 0)
            self.em.ldx(8, R0, R0, 8)
            self.em.alu(AluOp.DIV, R0, R1)
        elif isinstance(vt, IntType) and vt.signed and vt.size < 8:
            self.em.ldxs(vt.size, R0, R0, 0)
        else:
            self.em.ldx(vt.size if vt.size in (1, 2, 4, 8) else 8, R0, R0, 0)
        self.em.place(miss)
        return out

    # -- writes ---------------------------------------------------------------------------------
    def map_assign(self: Gen, target: ast.Expr, value: ast.Expr) -> None:
        """``@m[k] = value`` (plain values and aggregation calls)."""
        mexpr, keys = _split(target)
        m = self.script.map_for(mexpr)
        if isinstance(value, ast.Call) and value.name in AGG_FUNCS:
            self.aggregate(m, keys, value)
            return
        mark = self.frame.mark()
        vt = m.value_type or INT64
        if in_memory(vt):
            val = self.alloc_mem(vt)
            if self.typeof(value).size < vt.size or isinstance(vt, TupleType | RecordType):
                self.zero_mem(val, vt.size)  # padding too: the kernel copies every byte
            self.store_into(val, 0, value, vt)
            key = self.map_key(m, keys)
        else:
            v = self.int_value(value)
            key = self.map_key(m, keys)
            val = Val("mem", vt, reg=FP, off=self.frame.alloc_stack(8), owned=False)
            if v.is_imm and -(1 << 31) <= v.imm < (1 << 31):
                self.em.sti(8, FP, val.off, v.imm)
            else:
                self.em.stx(8, FP, val.off, self.frame.reg_of(v, R1))
            self.frame.free(v)
        self.update(m, key, val)
        self.frame.release_to(mark)

    def aggregate(self: Gen, m: MapDef, keys: list[ast.Expr], call: ast.Call) -> None:
        """count/sum/min/max/avg/stats/hist/lhist into map ``m``."""
        mark = self.frame.mark()
        name = call.name
        v: Val | None = None
        if name != "count":
            if not call.args:
                raise CodegenError(f"{name}() needs an argument", call.span)
            v = self.int_value(call.args[0])
            if not v.is_imm:
                v = self.frame.writable(v)
        if name in ("hist", "lhist"):
            assert v is not None
            v = self.bucket(name, v, m.params)
            key = self.map_key(m, keys, extra=8)
            r = self.frame.reg_of(v, R1)
            self.em.stx(8, self.frame.base_of(key, R2), key.off + m.bucket_offset, r)
            self.frame.free(v)
            v = None
        else:
            key = self.map_key(m, keys)
        self.lookup(m, key)
        new = self.em.label("agg_new")
        done = self.em.label("agg_done")
        self.em.jmpi(JmpOp.JEQ, R0, 0, new)
        self._agg_in_place(name, v)
        self.em.ja(done)
        self.em.place(new)
        init = (
            self.alloc_mem(IntType(64, False))
            if m.value_size <= 8
            else self.alloc_mem(_bytes(m.value_size))
        )
        self._agg_initial(name, v, init)
        self.update(m, key, init)
        self.em.place(done)
        if v is not None:
            self.frame.free(v)
        self.frame.release_to(mark)

    def _agg_in_place(self: Gen, name: str, v: Val | None) -> None:
        """Update the value at r0 (per-CPU, so plain loads and stores)."""
        if name in ("count", "hist", "lhist"):
            # An atomic add of 1 is one instruction shorter than load/add/store and also
            # correct for maps declared non-per-CPU.
            self.em.movi(R1, 1)
            self.em.xadd(8, R0, 0, R1)
            return
        assert v is not None
        r = self.frame.reg_of(v, R2)
        if name == "sum":
            self.em.ldx(8, R1, R0, 0)
            self.em.alu(AluOp.ADD, R1, r)
            self.em.stx(8, R0, 0, R1)
        elif name in ("avg", "stats"):
            self.em.ldx(8, R1, R0, 0)
            self.em.alui(AluOp.ADD, R1, 1)
            self.em.stx(8, R0, 0, R1)
            self.em.ldx(8, R1, R0, 8)
            self.em.alu(AluOp.ADD, R1, r)
            self.em.stx(8, R0, 8, R1)
        elif name in ("min", "max"):
            # Per-CPU slots of a key created on another CPU start zeroed with the "set" flag
            # clear: the first value on this CPU is stored without comparing.
            keep = self.em.label("keep")
            store = self.em.label("store")
            self.em.ldx(8, R1, R0, 8)
            self.em.jmpi(JmpOp.JEQ, R1, 0, store)
            self.em.ldx(8, R1, R0, 0)
            op = JmpOp.JSLE if name == "min" else JmpOp.JSGE
            self.em.jmp(op, R1, r, keep)
            self.em.place(store)
            self.em.stx(8, R0, 0, r)
            self.em.sti(8, R0, 8, 1)
            self.em.place(keep)

    def _agg_initial(self: Gen, name: str, v: Val | None, init: Val) -> None:
        """Write the first value of a new key into ``init``."""
        base = FP
        if name in ("count", "hist", "lhist"):
            self.em.sti(8, base, init.off, 1)
            return
        assert v is not None
        if name in ("avg", "stats"):
            self.em.sti(8, base, init.off, 1)
            off = 8
        else:
            off = 0
        if v.is_imm and -(1 << 31) <= v.imm < (1 << 31):
            self.em.sti(8, base, init.off + off, v.imm)
        else:
            self.em.stx(8, base, init.off + off, self.frame.reg_of(v, R1))
        if name in ("min", "max"):
            self.em.sti(8, base, init.off + 8, 1)

    def bucket(self: Gen, name: str, v: Val, params: tuple[int, ...]) -> Val:
        """The hist/lhist bucket index of ``v`` (in v's register)."""
        if v.is_imm:
            return Val("imm", INT64, imm=_bucket_const(name, v.imm, params))
        r = v.reg
        done = self.em.label("bkt_done")
        if name == "lhist":
            lo, hi, step = params
            nb = (hi - lo) // step
            under = self.em.label("under")
            over = self.em.label("over")
            self.em.jmpi(JmpOp.JSLT, r, lo, under)
            self.em.jmpi(JmpOp.JSGE, r, hi, over)
            if lo:
                self.em.alui(AluOp.SUB, r, lo)
            if step != 1:
                self.em.alui(AluOp.DIV, r, step)
            self.em.alui(AluOp.ADD, r, 1)
            self.em.ja(done)
            self.em.place(under)
            self.em.movi(r, 0)
            self.em.ja(done)
            self.em.place(over)
            self.em.movi(r, nb + 1)
            self.em.place(done)
            return v
        k = params[0] if params else 0
        if k == 0:
            # bucket = 0 (v < 0), 1 (v == 0), else 2 + floor(log2(v)), accumulated in R1
            # while v is shifted down in place (v is not needed afterwards).
            self.em.movi(R1, 0)
            self.em.jmpi(JmpOp.JSLT, r, 0, done)
            self.em.movi(R1, 1)
            self.em.jmpi(JmpOp.JEQ, r, 0, done)
            self.em.movi(R1, 2)
            self._log2_steps(r, R1)
            self.em.place(done)
            self.em.mov(r, R1)
            return v
        neg = self.em.label("neg")
        zero = self.em.label("zero")
        self.em.jmpi(JmpOp.JSLT, r, 0, neg)
        self.em.jmpi(JmpOp.JEQ, r, 0, zero)
        # l = floor(log2(v)) in R1 (from a copy); v itself is kept in r for the k bits.
        self.em.movi(R1, 0)
        self.em.mov(R2, r)
        self._log2_steps(R2, R1)
        # exact buckets below 2**k, then 2**k sub-buckets per power of two
        small = self.em.label("small")
        self.em.jmpi(JmpOp.JLT, R1, k, small)
        self.em.mov(R3, R1)
        self.em.alui(AluOp.SUB, R3, k)
        self.em.alu(AluOp.RSH, r, R3)
        self.em.alui(AluOp.AND, r, (1 << k) - 1)
        self.em.alui(AluOp.SUB, R1, k - 1)
        self.em.alui(AluOp.LSH, R1, k)
        self.em.alu(AluOp.ADD, r, R1)
        self.em.alui(AluOp.ADD, r, 1)
        self.em.ja(done)
        self.em.place(small)
        self.em.alui(AluOp.ADD, r, 1)
        self.em.ja(done)
        self.em.place(neg)
        self.em.movi(r, 0)
        self.em.ja(done)
        self.em.place(zero)
        self.em.movi(r, 1)
        self.em.place(done)
        return v

    def _log2_steps(self: Gen, x: int, acc: int) -> None:
        """``acc += floor(log2(x))`` for x > 0 by binary search (x is shifted down; uses R3)."""
        for sh in (32, 16, 8, 4, 2, 1):
            skip = self.em.label("l2")
            if sh == 32:
                # 1 << 32 does not fit an immediate: test the high half instead.
                self.em.mov(R3, x)
                self.em.alui(AluOp.RSH, R3, 32)
                self.em.jmpi(JmpOp.JEQ, R3, 0, skip)
                self.em.mov(x, R3)
            else:
                self.em.jmpi(JmpOp.JLT, x, 1 << sh, skip)
                self.em.alui(AluOp.RSH, x, sh)
            self.em.alui(AluOp.ADD, acc, sh)
            self.em.place(skip)

    # -- other map functions ----------------------------------------------------------------------
    def map_delete(self: Gen, target: ast.Expr, extra_keys: list[ast.Expr]) -> None:
        """``delete(@m[k])`` / ``delete(@m, k)``."""
        mexpr, keys = _split(target)
        m = self.script.map_for(mexpr)
        mark = self.frame.mark()
        key = self.map_key(m, keys or extra_keys)
        self.frame.before_call()
        self.em.ld_map(R1, m.name)
        self.addr_into(R2, key)
        self.frame.call(Helper.MAP_DELETE_ELEM)
        self.frame.release_to(mark)

    def has_key(self: Gen, mexpr: ast.Map, keys: list[ast.Expr]) -> Val:
        """``has_key(@m, k)`` as 0/1."""
        m = self.script.map_for(mexpr)
        key = self.map_key(m, keys)
        self.lookup(m, key)
        out = self.frame.result_r0(INT64)
        yes = self.em.label("hk")
        self.em.jmpi(JmpOp.JEQ, R0, 0, yes)
        self.em.movi(R0, 1)
        self.em.place(yes)
        return out


AGG_FUNCS = frozenset({"count", "sum", "avg", "min", "max", "stats", "hist", "lhist"})


def _split(target: ast.Expr) -> tuple[ast.Map, list[ast.Expr]]:
    if isinstance(target, ast.MapAccess):
        return target.map, target.keys
    if isinstance(target, ast.Map):
        return target, []
    raise CodegenError("expected a map", target.span)


def _bytes(n: int) -> Type:
    from pybpf.passes.types import StringType

    return StringType(n)


def _bucket_const(name: str, v: int, params: tuple[int, ...]) -> int:
    """The bucket of a constant (same rules as the generated code)."""
    if name == "lhist":
        lo, hi, step = params
        if v < lo:
            return 0
        if v >= hi:
            return (hi - lo) // step + 1
        return (v - lo) // step + 1
    k = params[0] if params else 0
    if v < 0:
        return 0
    if v == 0:
        return 1
    lg = v.bit_length() - 1
    if lg < k:
        return v + 1
    return ((lg - k + 1) << k) + ((v >> (lg - k)) & ((1 << k) - 1)) + 1


__all__ = ["AGG_FUNCS", "MapGen"]
