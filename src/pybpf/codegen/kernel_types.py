# mypy: disable-error-code="no-any-return"
"""Kernel types: field access through BTF struct pointers, arrays, bitfields, casts.

An expression such as ``curtask->parent->pid`` is compiled as a chain of *places*: the
address of a member is the pointer value plus the member's byte offset, and every pointer
member crossed on the way is read with ``bpf_probe_read_kernel`` (``_user`` for user-space
pointers) into an 8-byte stack slot.  Reading through the helper, rather than direct loads,
keeps the program valid for every program type (tracepoints, perf events, BEGIN) and makes
a NULL or stale pointer read as zero instead of a verifier rejection.

``.`` on an embedded struct (``$t->se.on_rq``), anonymous members, ``[i]`` on arrays and
pointers, ``*p`` of a struct pointer, and bitfields (shift and mask after the read) all
reduce to the same place arithmetic.  Char arrays are copied whole into a string value.
"""

from __future__ import annotations

from typing import Any

from pybpf.asm.opcodes import AluOp
from pybpf.codegen.emit import FP, R1, R2, R3
from pybpf.codegen.frame import CodegenError, Val
from pybpf.codegen.helpers import Helper
from pybpf.lang import ast
from pybpf.passes import types as T

# The mixins run as methods of ProbeGen (see codegen/expr.py for why ``self`` is loose).
Gen = Any


class Place:
    """The address of a value in kernel (or user) memory: ``base`` register value + ``off``."""

    def __init__(self, base: Val, off: int, type_: T.Type, user: bool, bits: tuple[int, int]):
        self.base = base
        self.off = off
        self.type = type_
        self.user = user
        #: (bit offset inside the byte at ``off``, bit size) for bitfields, else (0, 0).
        self.bits = bits


def _target(t: T.Type) -> T.Type:
    """What a pointer points at (``void *`` indexes bytes, like bpftrace)."""
    assert isinstance(t, T.PointerType)
    return T.UINT8 if isinstance(t.target, T.VoidType) else t.target


_BTF: list[object] = []


def _btf_types() -> Any:
    """The kernel's BTF as front-end types (converted lazily, once per process)."""
    if not _BTF:
        from pybpf.btf import vmlinux
        from pybpf.passes.btftypes import BtfTypes

        _BTF.append(BtfTypes(vmlinux()))
    return _BTF[0]


def spec_type(ts: ast.TypeSpec) -> T.Type | None:
    """The kernel type a :class:`TypeSpec` names (``struct task_struct``, ``pid_t``, ...)."""
    if ts.tag == "enum":
        base: T.Type | None = T.UINT32
    else:
        try:
            b = _btf_types()
        except Exception:  # no kernel BTF: the caller reports an unknown type
            return None
        base = b.struct(ts.name, ts.tag) if ts.tag in ("struct", "union") else b.named(ts.name)
    if base is None:
        return None
    if ts.array is not None:
        base = T.ArrayType(base, ts.array)
    return T.UINT64 if ts.pointer else base


class KernelTypesGen:
    """Mixin of :class:`ProbeGen`: kernel memory reached through typed pointers."""

    def is_kernel_place(self: Gen, e: ast.Expr) -> bool:
        """True when ``e`` names memory behind a pointer (so it is read, not computed)."""
        if isinstance(e, ast.FieldAccess):
            bt = self.typeof(e.expr)
            if isinstance(bt, T.PointerType):
                return True
            return isinstance(bt, T.StructType) and self.is_kernel_place(e.expr)
        if isinstance(e, ast.Index):
            bt = self.typeof(e.expr)
            if isinstance(bt, T.PointerType):
                return True
            return isinstance(bt, T.ArrayType | T.StringType) and self.is_kernel_place(e.expr)
        if isinstance(e, ast.Unary) and e.op == "*":
            return isinstance(self.typeof(e.operand), T.PointerType)
        return False

    def place(self: Gen, e: ast.Expr) -> Place:
        """The address of ``e`` (which :meth:`is_kernel_place` accepted)."""
        if isinstance(e, ast.Unary):
            pt = self.typeof(e.operand)
            user = self._user(pt, e.operand)
            return Place(self.int_value(e.operand), 0, _target(pt), user, (0, 0))
        if isinstance(e, ast.FieldAccess):
            return self._field_place(e)
        assert isinstance(e, ast.Index)
        return self._index_place(e)

    def _user(self: Gen, pt: T.Type, e: ast.Expr | None = None) -> bool:
        """Whether pointer ``e`` (of type ``pt``) points into user memory.

        Explicitly user pointers are; in user-space probes (uprobes, syscall tracepoints)
        so is every other pointer, as in bpftrace, except pointers to kernel (BTF) structs
        and those derived from ``curtask``: casts and script structs carry no space.
        """
        if not isinstance(pt, T.PointerType):
            return False
        if pt.space is T.AddrSpace.USER:
            return True
        target = pt.target
        kernel = isinstance(target, T.StructType) and target.origin == "btf"
        if not self.user_space_default or e is None or kernel:
            return False
        root: ast.Expr = e
        while isinstance(root, ast.FieldAccess | ast.Index | ast.Cast | ast.Unary):
            root = root.operand if isinstance(root, ast.Unary) else root.expr
        return not (isinstance(root, ast.Builtin) and root.name == "curtask")

    def _field_place(self: Gen, e: ast.FieldAccess) -> Place:
        bt = self.typeof(e.expr)
        if isinstance(bt, T.PointerType):
            st = bt.target
            p = Place(self.int_value(e.expr), 0, st, self._user(bt, e.expr), (0, 0))
        else:
            p = self.place(e.expr)
            st = p.type
        if not isinstance(st, T.StructType):
            raise CodegenError(f"'{st}' is not a struct or union", e.span)
        f = st.field(e.field)
        if f is None:
            raise CodegenError(f"'{st}' has no field named '{e.field}'", e.span)
        p.off += f.offset
        p.type = f.type
        p.bits = (f.bit_offset, f.bit_size) if f.bit_size else (0, 0)
        return p

    def _index_place(self: Gen, e: ast.Index) -> Place:
        bt = self.typeof(e.expr)
        if isinstance(bt, T.PointerType):
            elem = _target(bt)
            p = Place(self.int_value(e.expr), 0, elem, self._user(bt, e.expr), (0, 0))
        else:
            p = self.place(e.expr)
            elem = bt.elem if isinstance(bt, T.ArrayType) else T.INT8
        size = max(elem.size, 1)
        idx = self.int_value(e.index)
        if idx.is_imm:
            p.off += idx.imm * size
        else:
            # A run-time index: base += index * size (the helper read tolerates any address).
            base = self.frame.writable(p.base)
            r = self.frame.writable(idx)
            if size != 1:
                self.em.alui(AluOp.MUL, r.reg, size)
            self.em.alu(AluOp.ADD, base.reg, r.reg)
            self.frame.free(r)
            p.base = base
        p.type = elem
        return p

    def struct_value_field(self: Gen, e: ast.FieldAccess, t: T.Type) -> Val:
        """``$v.f`` of a struct value held by the program (a copy read earlier)."""
        st = self.typeof(e.expr)
        assert isinstance(st, T.StructType)
        f = st.field(e.field)
        if f is None:
            raise CodegenError(f"'{st}' has no field named '{e.field}'", e.span)
        if isinstance(f.type, T.StructType | T.ArrayType):
            agg = self.expr(e.expr)
            agg.off += f.offset
            agg.type = f.type
            return agg
        if not f.bit_size:
            return self.elem_of(self.expr(e.expr), f.offset, f.type)
        agg = self.expr(e.expr)
        base = self.frame.base_of(agg, R1)
        v = self.frame.new_reg(t)
        # The bytes the bitfield spans, little-endian, then shifted and masked like a read.
        nbytes = (f.bit_offset + f.bit_size + 7) // 8
        self.em.movi(v.reg, 0)
        for i in reversed(range(nbytes)):
            self.em.alui(AluOp.LSH, v.reg, 8)
            self.em.ldx(1, R2, base, agg.off + f.offset + i)
            self.em.alu(AluOp.OR, v.reg, R2)
        self.frame.free(agg)
        self.em.alui(AluOp.LSH, v.reg, 64 - f.bit_offset - f.bit_size)
        self.em.alui(AluOp.ARSH if T.is_signed(f.type) else AluOp.RSH, v.reg, 64 - f.bit_size)
        return v

    # -- reading --------------------------------------------------------------------------------
    def kernel_read(self: Gen, e: ast.Expr, t: T.Type) -> Val:
        """The value of place expression ``e``."""
        p = self.place(e)
        if isinstance(p.type, T.StringType | T.ArrayType | T.StructType):
            return self._read_mem(p, e)
        if p.bits[1]:
            return self._read_bitfield(p, t)
        size = p.type.size if p.type.size in (1, 2, 4, 8) else 8
        slot = self.frame.alloc_stack(8)
        self._probe_read(p, FP, slot, size)
        out = self.frame.new_reg(t)
        signed = T.is_signed(p.type)
        (self.em.ldxs if signed and size < 8 else self.em.ldx)(size, out.reg, FP, slot)
        return out

    def _probe_read(self: Gen, p: Place, base: int, off: int, size: int) -> None:
        """``probe_read(base+off, size, p)``; frees ``p.base``."""
        self.frame.before_call()
        self.em.mov(R3, self.frame.reg_of(p.base, R3))
        self.frame.free(p.base)
        if p.off:
            self.em.alui(AluOp.ADD, R3, p.off)
        self.em.mov(R1, base)
        self.em.alui(AluOp.ADD, R1, off)
        self.em.movi(R2, size)
        self.frame.call(Helper.PROBE_READ_USER if p.user else Helper.PROBE_READ_KERNEL)

    def _read_bitfield(self: Gen, p: Place, t: T.Type) -> Val:
        """A bitfield: read the bytes it spans into a zeroed slot, then shift it out."""
        bit, nbits = p.bits
        nbytes = (bit + nbits + 7) // 8
        slot = self.frame.alloc_stack(8)
        self.em.sti(8, FP, slot, 0)
        self._probe_read(p, FP, slot, nbytes)
        out = self.frame.new_reg(t)
        self.em.ldx(8, out.reg, FP, slot)
        self.em.alui(AluOp.LSH, out.reg, 64 - bit - nbits)
        signed = T.is_signed(p.type)
        self.em.alui(AluOp.ARSH if signed else AluOp.RSH, out.reg, 64 - nbits)
        return out

    def _read_mem(self: Gen, p: Place, e: ast.Expr) -> Val:
        """Copy an aggregate member (char array, array, struct) into a memory value."""
        t = p.type
        if t.size <= 0:
            raise CodegenError(f"cannot read a value of type '{t}'", e.span)
        # Copied whole, like bpftrace: a string value is bounded by its length anyway, and
        # byte arrays typed as strings (``__u8 addr[16]``) must keep their last byte.
        dst = self.alloc_mem(t)
        self.frame.before_call()
        self.addr_into(R1, dst)
        n = t.size
        self.em.mov(R3, self.frame.reg_of(p.base, R3))
        self.frame.free(p.base)
        if p.off:
            self.em.alui(AluOp.ADD, R3, p.off)
        self.em.movi(R2, n)
        self.frame.call(Helper.PROBE_READ_USER if p.user else Helper.PROBE_READ_KERNEL)
        return dst

    def index_expr(self: Gen, e: ast.Index, t: T.Type) -> Val:
        """``a[i]``: kernel memory through a pointer or array member, or a string's byte."""
        if self.is_kernel_place(e):
            return self.kernel_read(e, t)
        idx = self.int_value(e.index)
        bt = self.typeof(e.expr)
        if not idx.is_imm or not isinstance(bt, T.StringType | T.ArrayType):
            raise CodegenError("only constant indexes of in-program values are supported", e.span)
        size = bt.elem.size if isinstance(bt, T.ArrayType) else 1
        if not 0 <= idx.imm < bt.size // max(size, 1):
            raise CodegenError(f"index {idx.imm} is out of bounds", e.index.span)
        return self.elem_of(self.expr(e.expr), idx.imm * size, t)

    # -- sizeof / offsetof on kernel types ------------------------------------------------------
    def btf_sizeof(self: Gen, ts: ast.TypeSpec) -> int | None:
        """``sizeof`` of a written type the script does not define, from kernel BTF."""
        t = spec_type(ts)
        return None if t is None else t.size

    def btf_offsetof(self: Gen, e: ast.Offsetof) -> int | None:
        """``offsetof(struct S, a.b)`` / ``offsetof(expr, a)`` through BTF struct layouts."""
        t = spec_type(e.arg) if isinstance(e.arg, ast.TypeSpec) else self.typeof(e.arg)
        if isinstance(t, T.PointerType) and not isinstance(e.arg, ast.TypeSpec):
            t = t.target
        total = 0
        for name in e.path:
            f = t.field(name) if isinstance(t, T.StructType) else None
            if f is None:
                return None
            total += f.offset
            t = f.type
        return total

    def bswap_call(self: Gen, c: ast.Call, t: T.Type) -> Val:
        """``bswap(x)``: reverse the bytes of ``x`` at its type's width (network ports)."""
        import sys

        from pybpf.asm.builder import endian

        arg = c.args[0]
        bits = max(self.typeof(arg).size * 8, 8)
        v = self.int_value(arg)
        if bits == 8 or bits not in (16, 32, 64):
            v.type = t
            return v
        if v.is_imm:
            raw = (v.imm & ((1 << bits) - 1)).to_bytes(bits // 8, "little")
            return Val("imm", t, imm=int.from_bytes(raw, "big"))
        dst = self.frame.writable(v)
        # "to big endian" swaps on a little-endian host and zero-extends from ``bits``.
        self.em.emit(endian(dst.reg, bits, big=sys.byteorder == "little"))
        dst.type = t
        return dst

    def tp_array_into(self: Gen, arg: ast.Expr, dst: Val, off: int) -> bool:
        """Copy tracepoint array field ``args.f`` to ``dst+off`` byte by byte (True if done).

        Record arrays sit at any offset (``__u8 saddr[4]`` at 34), and the verifier rejects
        unaligned context loads wider than a byte.
        """
        if not (isinstance(arg, ast.FieldAccess) and isinstance(arg.expr, ast.Builtin)):
            return False
        f = self.tp_fields.get(arg.field) if arg.expr.name == "args" else None
        if f is None or not f.is_array or f.data_loc:
            return False
        for i in range(f.size):
            self.em.ldx(1, R1, 6, f.offset + i)
            self.em.stx(1, self.frame.base_of(dst, R2), dst.off + off + i, R1)
        return True

    # -- probe arguments held in the context ------------------------------------------------------
    def ctx_arg_field(self: Gen, e: ast.FieldAccess, t: T.Type) -> Val:
        """``args.name`` of a raw tracepoint / tp_btf / fentry: the u64 slot of the context."""
        st = self.typeof(e.expr)
        if isinstance(st, T.PointerType):
            st = st.target
        assert isinstance(st, T.StructType)
        f = st.field(e.field)
        if f is None:
            raise CodegenError(f"probe has no argument '{e.field}'", e.span)
        v = self.frame.new_reg(t)
        self.em.ldx(8, v.reg, 6, f.offset)
        if isinstance(t, T.IntType) and t.bits < 64:
            self.narrow(v.reg, t)
        return v

    def is_ctx_args(self: Gen, e: ast.Expr) -> bool:
        """``args`` of a probe whose arguments are the context's u64 slots."""
        if not (isinstance(e, ast.Builtin) and e.name == "args"):
            return False
        st = self.typeof(e)
        if isinstance(st, T.PointerType):
            st = st.target
        return isinstance(st, T.StructType) and st.origin == "args"


_ = R2
__all__ = ["KernelTypesGen", "Place"]
