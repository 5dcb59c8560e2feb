# mypy: disable-error-code="no-any-return"
"""String functions: strncmp, strcontains, ntop, pton (folded when arguments are constant)."""

from __future__ import annotations

from typing import Any

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, R4
from pybpf.codegen.frame import CodegenError, Val
from pybpf.lang import ast
from pybpf.lang.literals import literal_bytes
from pybpf.output.values import AF_INET, AF_INET6
from pybpf.passes.types import INT64, UINT8, ArrayType, InetType, Type

# The mixins run as methods of ProbeGen (see expr.py for why ``self`` is loosely typed).
Gen = Any


def _lit(e: ast.Expr) -> bytes | None:
    return literal_bytes(e.value) if isinstance(e, ast.String) else None


def pton_bytes(e: ast.Call) -> bytes:
    """``pton("addr")`` at compile time: 4 bytes for IPv4, 16 for IPv6."""
    text = e.args[0].value if e.args and isinstance(e.args[0], ast.String) else None
    if text is None:
        raise CodegenError("pton() needs a string literal", e.span)
    import socket  # compile time, and only for pton(): the module is slow to import

    for fam in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(fam, text)
        except OSError:
            continue
    raise CodegenError(f"pton(): invalid address '{text}'", e.span)


class StringGen:
    """Mixin of :class:`ProbeGen`: string functions."""

    def strncmp(self: Gen, c: ast.Call) -> Val:
        """``strncmp(a, b, n)``: 0 when the first n bytes (or up to a NUL) match, else 1."""
        if len(c.args) != 3 or not isinstance(c.args[2], ast.Integer):
            raise CodegenError("strncmp() needs a literal length", c.span)
        n = c.args[2].value
        a, b = _lit(c.args[0]), _lit(c.args[1])
        if a is not None and b is not None:
            return Val("imm", INT64, imm=int(a[:n].split(b"\0")[0] != b[:n].split(b"\0")[0]))
        ta, tb = self.typeof(c.args[0]), self.typeof(c.args[1])
        n = min(n, ta.size, tb.size)
        va, vb = self.expr(c.args[0]), self.expr(c.args[1])
        res = self.frame.new_reg(INT64)
        differ, done = self.em.label("ncmp_ne"), self.em.label("ncmp_eq")
        for i in range(n):
            self.em.ldx(1, R4, self.frame.base_of(va, R4), va.off + i)
            self.em.ldx(1, R0, self.frame.base_of(vb, R0), vb.off + i)
            self.em.jmp(JmpOp.JNE, R4, R0, differ)
            self.em.jmpi(JmpOp.JEQ, R4, 0, done)
        self.em.place(done)
        self.em.movi(res.reg, 0)
        end = self.em.label("ncmp_end")
        self.em.ja(end)
        self.em.place(differ)
        self.em.movi(res.reg, 1)
        self.em.place(end)
        self.frame.free(va)
        self.frame.free(vb)
        return res

    def strcontains(self: Gen, c: ast.Call) -> Val:
        """``strcontains(haystack, needle)`` (the needle must be a literal unless both are)."""
        hay, needle = _lit(c.args[0]), _lit(c.args[1])
        if needle is None:
            raise CodegenError("strcontains() needs a literal needle", c.span)
        if hay is not None:
            return Val("imm", INT64, imm=int(needle in hay))
        if not needle:
            return Val("imm", INT64, imm=1)
        t = self.typeof(c.args[0])
        h = self.expr(c.args[0])
        res = self.frame.new_reg(INT64)
        found, done = self.em.label("sc_found"), self.em.label("sc_done")
        last = min(t.size, 256) - len(needle)
        # Unrolled scan: at each start position compare the needle's bytes.
        for i in range(max(last + 1, 0)):
            nxt = self.em.label("sc_next")
            self.em.ldx(1, R1, self.frame.base_of(h, R1), h.off + i)
            self.em.jmpi(JmpOp.JEQ, R1, 0, done)
            for j, ch in enumerate(needle):
                self.em.ldx(1, R1, self.frame.base_of(h, R1), h.off + i + j)
                self.em.jmpi(JmpOp.JNE, R1, ch, nxt)
            self.em.ja(found)
            self.em.place(nxt)
        self.em.place(done)
        self.em.movi(res.reg, 0)
        end = self.em.label("sc_end")
        self.em.ja(end)
        self.em.place(found)
        self.em.movi(res.reg, 1)
        self.em.place(end)
        self.frame.free(h)
        return res

    def pton(self: Gen, c: ast.Call) -> Val:
        """``pton("addr")``: the address bytes (an array), built at compile time."""
        raw = pton_bytes(c)
        t = ArrayType(UINT8, len(raw))
        c.type = t
        dst = self.alloc_mem(t)
        padded = raw + b"\0" * (-len(raw) % 8)
        for o in range(0, len(padded), 4):
            self.em.sti(
                4, FP, dst.off + o, int.from_bytes(padded[o : o + 4], "little", signed=True)
            )
        return dst

    def ntop(self: Gen, c: ast.Call, t: Type) -> Val:
        """``ntop(addr)``: family and address bytes (IPv4 from an integer or 4 bytes)."""
        arg = c.args[-1]
        at = self.typeof(arg)
        if isinstance(arg, ast.Call) and arg.name == "pton":
            at = ArrayType(UINT8, len(pton_bytes(arg)))
        dst = self.alloc_mem(InetType())
        dst.type = InetType()
        self.zero_mem(dst, 24)
        if at.is_string() and at.size in (4, 16) and self.is_kernel_place(arg):
            # BTF byte arrays (``__u8 u6_addr8[16]``) are typed as strings: same bytes.
            at = ArrayType(UINT8, at.size)
        if at.size in (4, 16) and self.tp_array_into(arg, dst, 8):
            family = AF_INET6 if at.size == 16 else AF_INET
        elif isinstance(at, ArrayType):
            family = AF_INET6 if at.size == 16 else AF_INET
            src = (
                self.pton(arg)
                if isinstance(arg, ast.Call) and arg.name == "pton"
                else self.expr(arg)
            )
            sub = Val("mem", at, reg=dst.reg, off=dst.off + 8, owned=False, base_slot=dst.base_slot)
            self.copy_into(sub, src, at)
        else:
            family = AF_INET
            v = self.int_value(arg)
            base = self.frame.base_of(dst, R2)
            if v.is_imm:
                self.em.sti(
                    4,
                    base,
                    dst.off + 8,
                    v.imm & 0xFFFFFFFF if v.imm < 1 << 31 else v.imm - (1 << 32),
                )
            else:
                self.em.stx(4, base, dst.off + 8, self.frame.reg_of(v, R3))
            self.frame.free(v)
        self.em.sti(8, self.frame.base_of(dst, R2), dst.off, family)
        return dst


_ = AluOp
__all__ = ["StringGen", "pton_bytes"]
