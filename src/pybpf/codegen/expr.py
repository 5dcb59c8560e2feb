# mypy: disable-error-code="no-any-return"
"""Expressions: integers, strings, builtins, operators, tuples and field access."""

from __future__ import annotations

from typing import Any

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, R6
from pybpf.codegen.frame import CodegenError, Val
from pybpf.codegen.helpers import Helper
from pybpf.lang import ast
from pybpf.passes.types import (
    INT64,
    ArrayType,
    BoolType,
    BufferType,
    IntType,
    OpaqueIdType,
    RecordType,
    StringType,
    StructType,
    TupleType,
    Type,
)

# The mixins run as methods of ProbeGen; mypy cannot express a mixin's self type across
# this import cycle, so ``self`` is typed loosely here and checked through ProbeGen's tests.
Gen = Any

_ARITH = {
    "+": AluOp.ADD,
    "-": AluOp.SUB,
    "*": AluOp.MUL,
    "/": AluOp.DIV,
    "%": AluOp.MOD,
    "&": AluOp.AND,
    "|": AluOp.OR,
    "^": AluOp.XOR,
    "<<": AluOp.LSH,
    ">>": AluOp.RSH,
}
# (unsigned, signed) jump ops for each comparison.
_CMP = {
    "==": (JmpOp.JEQ, JmpOp.JEQ),
    "!=": (JmpOp.JNE, JmpOp.JNE),
    "<": (JmpOp.JLT, JmpOp.JSLT),
    "<=": (JmpOp.JLE, JmpOp.JSLE),
    ">": (JmpOp.JGT, JmpOp.JSGT),
    ">=": (JmpOp.JGE, JmpOp.JSGE),
}
_SWAP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

M64 = (1 << 64) - 1


def _signed(t: Type | None) -> bool:
    return isinstance(t, IntType) and t.signed


def fold(op: str, a: int, b: int, signed: bool) -> int | None:
    """Constant-fold ``a op b`` with 64-bit wrap-around (None when not foldable)."""
    ua, ub = a & M64, b & M64
    if op in _CMP:
        x, y = (a, b) if signed else (ua, ub)
        return int(
            {
                "==": x == y,
                "!=": x != y,
                "<": x < y,
                "<=": x <= y,
                ">": x > y,
                ">=": x >= y,
            }[op]
        )
    if op in ("/", "%") and b == 0:
        return None
    r = {
        "+": lambda: a + b,
        "-": lambda: a - b,
        "*": lambda: a * b,
        "/": lambda: ua // ub,
        "%": lambda: ua % ub,
        "&": lambda: a & b,
        "|": lambda: a | b,
        "^": lambda: a ^ b,
        "<<": lambda: a << (b & 63),
        ">>": lambda: (a >> (b & 63)) if signed else (ua >> (b & 63)),
        "&&": lambda: int(bool(a) and bool(b)),
        "||": lambda: int(bool(a) or bool(b)),
    }.get(op)
    if r is None:
        return None
    v = r() & M64
    return v - (1 << 64) if signed and v >> 63 else v


class ExprGen:
    """Mixin of :class:`ProbeGen`: expression code."""

    def expr(self: Gen, e: ast.Expr) -> Val:
        """Generate ``e``; the result is a :class:`Val` the caller must free."""
        with self.em.at(e.span):
            return self._expr(e)

    def _expr(self: Gen, e: ast.Expr) -> Val:
        t = self.typeof(e)
        if isinstance(e, ast.Integer):
            return Val("imm", t, imm=e.value)
        if isinstance(e, ast.Boolean):
            return Val("imm", t, imm=int(e.value))
        if isinstance(e, ast.String):
            return self.string_literal(e.value, t)
        if isinstance(e, ast.Builtin):
            return self.builtin(e, t)
        if isinstance(e, ast.Variable):
            return self.read_var(e)
        if isinstance(e, ast.Map):
            return self.map_read(e, [])
        if isinstance(e, ast.MapAccess):
            return self.map_read(e.map, e.keys)
        if isinstance(e, ast.Binary):
            return self.binary(e, t)
        if isinstance(e, ast.Unary):
            return self.unary(e, t)
        if isinstance(e, ast.Ternary):
            return self.ternary(e, t)
        if isinstance(e, ast.Cast):
            return self.cast(e, t)
        if isinstance(e, ast.Call):
            return self.call_expr(e, t)
        if isinstance(e, ast.FieldAccess):
            return self.field_access(e, t)
        if isinstance(e, ast.TupleAccess):
            return self.tuple_access(e, t)
        if isinstance(e, ast.Index):
            return self.index_expr(e, t)
        if isinstance(e, ast.Tuple | ast.Record):
            return self.tuple_value(e, t)
        if isinstance(e, ast.IncDec):
            return self.incdec(e)
        if isinstance(e, ast.Sizeof):
            return Val("imm", t, imm=self.sizeof(e))
        if isinstance(e, ast.Offsetof):
            return Val("imm", t, imm=self.offsetof(e))
        if isinstance(e, ast.ParamCount | ast.PositionalParam):
            raise CodegenError("positional parameter not substituted", e.span)
        raise CodegenError(f"{type(e).__name__.lower()} expressions are not supported", e.span)

    # -- integers -----------------------------------------------------------------------------
    def int_value(self: Gen, e: ast.Expr) -> Val:
        """Generate an integer-valued expression (booleans and pointers included)."""
        v = self.expr(e)
        if v.kind == "mem":
            raise CodegenError("expected an integer here", e.span)
        return v

    def binary(self: Gen, e: ast.Binary, t: Type) -> Val:
        """Arithmetic, comparisons and the short-circuit operators."""
        if e.op in ("&&", "||"):
            return self.logical(e, t)
        lt, rt = self.typeof(e.left), self.typeof(e.right)
        if e.op in ("==", "!=") and (lt.is_string() or rt.is_string()):
            return self.str_compare(e)
        signed = _signed(lt) or _signed(rt) if e.op in _CMP else _signed(t) or _signed(lt)
        left = self.int_value(e.left)
        if not left.is_imm and self.has_call(e.right):
            self.frame.before_call()
        right = self.int_value(e.right)
        if left.is_imm and right.is_imm:
            r = fold(e.op, left.imm, right.imm, signed)
            if r is not None:
                return Val("imm", t, imm=r)
        if e.op in _CMP:
            return self.compare(e.op, left, right, signed, t)
        op = _ARITH.get(e.op)
        if op is None:
            raise CodegenError(f"operator {e.op} is not supported", e.span)
        if op is AluOp.RSH and signed:
            op = AluOp.ARSH
        if op in (AluOp.DIV, AluOp.MOD) and signed:
            # bpftrace divides signed values as signed; BPF's sdiv/smod use off=1.
            return self._signed_divmod(op, left, right, t)
        dst = self.frame.writable(left)
        dst.type = t
        if right.is_imm and -(1 << 31) <= right.imm < (1 << 31):
            self.em.alui(op, dst.reg, right.imm)
        else:
            self.em.alu(op, dst.reg, self.frame.reg_of(right, R1))
        self.frame.free(right)
        return dst

    def _signed_divmod(self: Gen, op: AluOp, left: Val, right: Val, t: Type) -> Val:
        from pybpf.asm.insn import Insn
        from pybpf.asm.opcodes import Class, Source

        dst = self.frame.writable(left)
        dst.type = t
        src = self.frame.reg_of(right, R1)
        self.em.emit(Insn(Class.ALU64 | op | Source.X, dst.reg, src, 1, 0))
        self.frame.free(right)
        return dst

    def compare(self: Gen, op: str, left: Val, right: Val, signed: bool, t: Type) -> Val:
        """``left op right`` as 0/1."""
        if left.is_imm:
            left, right, op = right, left, _SWAP[op]
        dst = self.frame.writable(left)
        jop = _CMP[op][1 if signed else 0]
        true = self.em.label("cmp_true")
        done = self.em.label("cmp_done")
        if right.is_imm and -(1 << 31) <= right.imm < (1 << 31):
            self.em.jmpi(jop, dst.reg, right.imm, true)
        else:
            self.em.jmp(jop, dst.reg, self.frame.reg_of(right, R1), true)
        self.frame.free(right)
        self.em.movi(dst.reg, 0)
        self.em.ja(done)
        self.em.place(true)
        self.em.movi(dst.reg, 1)
        self.em.place(done)
        dst.type = t
        return dst

    def logical(self: Gen, e: ast.Binary, t: Type) -> Val:
        """Short-circuit ``&&`` / ``||`` producing 0/1."""
        left = self.int_value(e.left)
        if left.is_imm:
            if (e.op == "&&") != bool(left.imm):
                return Val("imm", t, imm=int(bool(left.imm)))
            right = self.int_value(e.right)
            if right.is_imm:
                return Val("imm", t, imm=int(bool(right.imm)))
            return self.to_bool(right, t)
        dst = self.frame.writable(left)
        short = self.em.label("sc")
        done = self.em.label("sc_done")
        self.em.jmpi(JmpOp.JEQ if e.op == "&&" else JmpOp.JNE, dst.reg, 0, short)
        if self.has_call(e.right):
            self.frame.before_call()
        right = self.int_value(e.right)
        r = self.frame.reg_of(right, R1)
        self.em.movi(dst.reg, 1)
        self.em.jmpi(JmpOp.JNE, r, 0, done)
        self.frame.free(right)
        self.em.movi(dst.reg, 0)
        self.em.ja(done)
        self.em.place(short)
        self.em.movi(dst.reg, 0 if e.op == "&&" else 1)
        self.em.place(done)
        dst.type = t
        return dst

    def to_bool(self: Gen, v: Val, t: Type) -> Val:
        """``v != 0`` as 0/1."""
        return self.compare("!=", v, Val("imm", INT64, imm=0), False, t)

    def unary(self: Gen, e: ast.Unary, t: Type) -> Val:
        """``-x``, ``~x``, ``!x`` and ``*ptr``."""
        if e.op == "*":
            if isinstance(t, StructType | ArrayType):
                return self.kernel_read(e, t)
            return self.deref(e.operand, t)
        v = self.int_value(e.operand)
        if v.is_imm:
            x = {"-": -v.imm, "~": ~v.imm, "!": int(not v.imm)}.get(e.op)
            if x is not None:
                return Val("imm", t, imm=x)
        if e.op == "!":
            return self.compare("==", v, Val("imm", INT64, imm=0), False, t)
        dst = self.frame.writable(v)
        if e.op == "-":
            self.em.neg(dst.reg)
        elif e.op == "~":
            self.em.alui(AluOp.XOR, dst.reg, -1)
        else:
            raise CodegenError(f"unary {e.op} is not supported", e.span)
        dst.type = t
        return dst

    def ternary(self: Gen, e: ast.Ternary, t: Type) -> Val:
        """``c ? a : b`` for integers (strings and tuples are copied into a shared slot)."""
        cond = self.int_value(e.cond)
        if cond.is_imm:
            return self.expr(e.then if cond.imm else e.else_)
        other = self.em.label("tern_else")
        done = self.em.label("tern_done")
        c = self.frame.reg_of(cond, R1)
        self.em.jmpi(JmpOp.JEQ, c, 0, other)
        self.frame.free(cond)
        if t.is_string() or isinstance(t, TupleType | RecordType):
            dst = self.alloc_mem(t)
            self.copy_into(dst, self.expr(e.then), t)
            self.em.ja(done)
            self.em.place(other)
            self.copy_into(dst, self.expr(e.else_), t)
            self.em.place(done)
            return dst
        self.frame.before_call()
        dst = self.frame.new_reg(t)
        a = self.int_value(e.then)
        self.em.mov(dst.reg, self.frame.reg_of(a, dst.reg))
        self.frame.free(a)
        self.em.ja(done)
        self.em.place(other)
        b = self.int_value(e.else_)
        self.em.mov(dst.reg, self.frame.reg_of(b, dst.reg))
        self.frame.free(b)
        self.em.place(done)
        return dst

    def cast(self: Gen, e: ast.Cast, t: Type) -> Val:
        """Integer casts truncate (and sign-extend for signed targets)."""
        from pybpf.passes.types import INT_NAMES

        ts = e.type_spec
        if not ts.tag and not ts.pointer and ts.array is None and ts.name in INT_NAMES:
            t = INT_NAMES[ts.name]
            e.type = t
        v = self.int_value(e.expr)
        if not isinstance(t, IntType) or t.bits == 64:
            v.type = t
            return v
        if v.is_imm:
            x = v.imm & ((1 << t.bits) - 1)
            if t.signed and x >> (t.bits - 1):
                x -= 1 << t.bits
            return Val("imm", t, imm=x)
        dst = self.frame.writable(v)
        self.narrow(dst.reg, t)
        dst.type = t
        return dst

    def narrow(self: Gen, reg: int, t: IntType) -> None:
        """Truncate ``reg`` to ``t``'s width (sign-extending when signed)."""
        sh = 64 - t.bits
        self.em.alui(AluOp.LSH, reg, sh)
        self.em.alui(AluOp.ARSH if t.signed else AluOp.RSH, reg, sh)

    def deref(self: Gen, ptr: ast.Expr, t: Type) -> Val:
        """``*p``: read an integer through a pointer with the right probe_read helper."""
        pt = self.typeof(ptr)
        p = self.int_value(ptr)
        size = t.size if t.size in (1, 2, 4, 8) else 8
        slot = self.frame.alloc_stack(8)
        self.frame.before_call()
        self.em.sti(8, FP, slot, 0)
        self.em.mov(R1, FP)
        self.em.alui(AluOp.ADD, R1, slot)
        self.em.movi(R2, size)
        self.em.mov(R3, self.frame.reg_of(p, R3))
        self.frame.free(p)
        user = self._user(pt, ptr)
        self.frame.call(Helper.PROBE_READ_USER if user else Helper.PROBE_READ_KERNEL)
        out = self.frame.new_reg(t)
        if _signed(t):
            self.em.ldxs(size, out.reg, FP, slot)
        else:
            self.em.ldx(size, out.reg, FP, slot)
        return out

    # -- builtins -----------------------------------------------------------------------------
    def builtin(self: Gen, e: ast.Builtin, t: Type) -> Val:
        """Builtin variables."""
        name = e.name
        simple = {
            "nsecs": Helper.KTIME_GET_NS,
            "cpu": Helper.GET_SMP_PROCESSOR_ID,
            "rand": Helper.GET_PRANDOM_U32,
            "cgroup": Helper.GET_CURRENT_CGROUP_ID,
            "curtask": Helper.GET_CURRENT_TASK,
            "jiffies": Helper.JIFFIES64,
        }
        if name in simple:
            self.frame.before_call()
            self.frame.call(simple[name])
            return self.frame.result_r0(t)
        if name in ("pid", "tid", "uid", "gid"):
            self.frame.before_call()
            self.frame.call(
                Helper.GET_CURRENT_PID_TGID
                if name in ("pid", "tid")
                else Helper.GET_CURRENT_UID_GID
            )
            if name in ("pid", "gid"):
                self.em.alui(AluOp.RSH, R0, 32)
            else:
                self.em.alu(AluOp.MOV, R0, R0, w32=True)
            return self.frame.result_r0(t)
        if name == "elapsed":
            self.frame.before_call()
            self.frame.call(Helper.KTIME_GET_NS)
            v = self.frame.result_r0(t)
            self.em.ld_map_value(R1, self.script.globals_name(), 0)
            self.em.ldx(8, R1, R1, 0)
            self.em.alu(AluOp.SUB, R0, R1)
            return v
        if name == "ncpus":
            return Val("imm", t, imm=self.script.ncpus)
        if name == "comm":
            dst = self.alloc_mem(StringType(16))
            self.frame.before_call()
            self.em.mov(R1, self.frame.base_of(dst, R1))
            self.em.alui(AluOp.ADD, R1, dst.off)
            self.em.movi(R2, 16)
            self.frame.call(Helper.GET_CURRENT_COMM)
            return dst
        if name == "probe":
            return Val("imm", OpaqueIdType("probe"), imm=self.probe_id)
        if name in ("args", "ctx"):
            return Val("reg", t, reg=R6, owned=False)
        if name == "func":
            return self.func_builtin(t)
        if name in ("kstack", "ustack"):
            return self.stack_value(t, name == "ustack")
        if name == "retval" or (name.startswith("arg") and name[3:].isdigit()):
            return self.reg_arg(name, t)
        raise CodegenError(f"builtin {name} is not supported", e.span)

    def func_builtin(self: Gen, t: Type) -> Val:
        """``func`` for uprobes: the probed function's address (``bpf_get_func_ip``)."""
        self.frame.before_call()
        self.em.mov(R1, R6)
        self.frame.call(Helper.GET_FUNC_IP)
        return self.frame.result_r0(t)

    def reg_arg(self: Gen, name: str, t: Type) -> Val:
        """``argN``/``retval`` read from the saved registers (x86-64 ``struct pt_regs``)."""
        offs = {"arg0": 112, "arg1": 104, "arg2": 96, "arg3": 88, "arg4": 72, "arg5": 64}
        off = 80 if name == "retval" else offs.get(name)
        if off is None:
            raise CodegenError(f"builtin {name} is not available")
        v = self.frame.new_reg(t)
        self.em.ldx(8, v.reg, R6, off)
        return v

    # -- fields and tuples --------------------------------------------------------------------
    def field_access(self: Gen, e: ast.FieldAccess, t: Type) -> Val:
        """``args.f`` / ``args->f`` from the tracepoint record, and record fields."""
        if self.is_ctx_args(e.expr):
            return self.ctx_arg_field(e, t)
        if isinstance(e.expr, ast.Builtin) and e.expr.name == "args":
            return self.tp_field(e, t)
        base_t = self.typeof(e.expr)
        if isinstance(base_t, RecordType):
            names = list(base_t.names)
            if e.field not in names:
                raise CodegenError(f"record has no field {e.field}", e.span)
            idx = names.index(e.field)
            return self.elem_of(self.expr(e.expr), base_t.offsets()[idx], base_t.elems[idx])
        if self.is_kernel_place(e):
            return self.kernel_read(e, t)
        if isinstance(base_t, StructType):
            return self.struct_value_field(e, t)
        raise CodegenError("field access is only supported on args and records", e.span)

    def tp_field(self: Gen, e: ast.FieldAccess, t: Type) -> Val:
        """A tracepoint record field read from the context (r6)."""
        f = self.tp_fields.get(e.field)
        if f is None:
            raise CodegenError(f"tracepoint has no field '{e.field}'", e.span)
        if f.data_loc or (f.is_array and f.type.endswith("char")):
            # Strings in the record: a __data_loc locator or an inline char array.
            return Val("tpfield", t, reg=R6, off=f.offset, owned=False, extra=f)
        v = self.frame.new_reg(t)
        size = f.size if f.size in (1, 2, 4, 8) else 8
        self.em.ldx(size, v.reg, R6, f.offset)
        if f.signed and size < 8:
            self.narrow(v.reg, IntType(size * 8, True))
        return v

    def tuple_access(self: Gen, e: ast.TupleAccess, t: Type) -> Val:
        """``$t.N``."""
        if isinstance(e.expr, ast.Variable):
            home = self.lookup_var(e.expr.name)
            if home is not None and home.kind == "kv":
                from pybpf.codegen.foreach import kv_elem

                return kv_elem(self, home, e.index, e)
        tt = self.typeof(e.expr)
        if not isinstance(tt, TupleType | RecordType):
            raise CodegenError("not a tuple", e.span)
        agg = self.expr(e.expr)
        # A map value has the map's (integer-widened) layout; the Val's type says which.
        if isinstance(agg.type, TupleType | RecordType) and len(agg.type.elems) == len(tt.elems):
            tt = agg.type
        offs = tt.offsets()
        return self.elem_of(agg, offs[e.index], tt.elems[e.index])

    def elem_of(self: Gen, agg: Val, off: int, t: Type) -> Val:
        """The element at ``off`` of an in-memory aggregate."""
        if t.is_string() or isinstance(t, TupleType | RecordType | BufferType):
            agg.off += off
            agg.type = t
            return agg
        base = self.frame.base_of(agg, R1)
        v = self.frame.new_reg(t)
        size = t.size if t.size in (1, 2, 4, 8) else 8
        if _signed(t):
            self.em.ldxs(size, v.reg, base, agg.off + off)
        else:
            self.em.ldx(size, v.reg, base, agg.off + off)
        self.frame.free(agg)
        return v

    def tuple_value(self: Gen, e: ast.Tuple | ast.Record, t: Type) -> Val:
        """Build a tuple/record in memory."""
        assert isinstance(t, TupleType | RecordType)
        dst = self.alloc_mem(t)
        elems = e.elems if isinstance(e, ast.Tuple) else [f.value for f in e.fields]
        self.zero_mem(dst, t.size)
        for sub, off, et in zip(elems, t.offsets(), t.elems, strict=True):
            self.store_into(dst, off, sub, et)
        return dst

    def sizeof(self: Gen, e: ast.Sizeof) -> int:
        """``sizeof(type)`` / ``sizeof(expr)`` (the front end folds most; this is the rest)."""
        from pybpf.codegen.ctypes_layout import typespec_size

        if e.value is not None:
            return e.value  # folded by the front end (which also knows DWARF structs)
        if isinstance(e.arg, ast.TypeSpec):
            size = typespec_size(e.arg, self.script.program)
            if size is None:
                size = self.btf_sizeof(e.arg)
            if size is None:
                raise CodegenError(f"unknown type {e.arg}", e.span)
            return size
        return int(self.typeof(e.arg).size)

    def offsetof(self: Gen, e: ast.Offsetof) -> int:
        """``offsetof(struct S, a.b)`` for structs defined in the script."""
        from pybpf.codegen.ctypes_layout import field_offset

        if e.value is not None:
            return e.value
        off = None
        if isinstance(e.arg, ast.TypeSpec):
            off = field_offset(e.arg, e.path, self.script.program)
        if off is None:
            off = self.btf_offsetof(e)
        if off is None:
            raise CodegenError(f"unknown field {'.'.join(e.path)} of {e.arg}", e.span)
        return off

    def has_call(self: Gen, e: ast.Node) -> bool:
        """True when generating ``e`` may emit a helper call (conservative)."""
        for n in ast.walk(e):
            if isinstance(
                n, ast.Call | ast.Map | ast.MapAccess | ast.Tuple | ast.Record | ast.Index
            ):
                return True
            if isinstance(n, ast.Builtin) and n.name not in ("args", "ctx", "probe", "ncpus"):
                return True
            if isinstance(n, ast.String | ast.Unary) or (
                isinstance(n, ast.FieldAccess) and not isinstance(n.expr, ast.Builtin)
            ):
                return True
        return False

    def is_bool(self: Gen, t: Type) -> bool:
        """Booleans print as true/false."""
        return isinstance(t, BoolType)


__all__ = ["ExprGen", "fold"]
_ = R6
