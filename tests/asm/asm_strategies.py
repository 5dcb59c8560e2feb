"""Hypothesis strategies: every valid instruction form, with arbitrary operands."""

from __future__ import annotations

from hypothesis import strategies as st

from pybpf.asm import AluOp, AtomicOp, Insn, JmpOp, PseudoSrc, Size
from pybpf.asm import builder as b

regs = st.integers(0, 10)
imm32 = st.integers(-(2**31), 2**31 - 1)
off16 = st.integers(-(2**15), 2**15 - 1)
sizes = st.sampled_from(list(Size))
plain_alu = st.sampled_from([op for op in AluOp if op not in (AluOp.NEG, AluOp.END)])
conds = st.sampled_from(
    [op for op in JmpOp if op not in (JmpOp.JA, JmpOp.CALL, JmpOp.EXIT, JmpOp.JCOND)]
)
atomic_ops = st.sampled_from(
    [AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR]
    + [op | AtomicOp.FETCH for op in (AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR)]
    + [AtomicOp.XCHG, AtomicOp.CMPXCHG]
)


def _src(draw: st.DrawFn) -> int:
    return draw(st.one_of(regs.map(b.Reg), imm32))


@st.composite
def alu(draw: st.DrawFn) -> Insn:
    make = draw(st.sampled_from([b.alu64, b.alu32]))
    op = draw(plain_alu)
    signed = op in (AluOp.DIV, AluOp.MOD) and draw(st.booleans())
    return make(op, draw(regs), _src(draw), signed=signed)


@st.composite
def jump(draw: st.DrawFn) -> Insn:
    make = draw(st.sampled_from([b.jmp, b.jmp32]))
    return make(draw(conds), draw(regs), _src(draw), draw(off16))


@st.composite
def lddw(draw: st.DrawFn) -> Insn:
    kind = draw(st.sampled_from(list(PseudoSrc)))
    return b.ld_imm64(draw(regs), draw(st.integers(0, 2**64 - 1)), kind)


@st.composite
def memory(draw: st.DrawFn) -> Insn:
    size, d, s, off = draw(sizes), draw(regs), draw(regs), draw(off16)
    kind = draw(st.sampled_from(["ldx", "ldxsx", "stx", "st", "atomic", "abs", "ind"]))
    if kind == "ldxsx" and size != Size.DW:
        return b.ldxsx(size, d, s, off)
    if kind == "stx":
        return b.stx(size, d, s, off)
    if kind == "st":
        return b.st_imm(size, d, off, draw(imm32))
    if kind == "atomic":
        return b.atomic(draw(st.sampled_from([Size.W, Size.DW])), draw(atomic_ops), d, s, off)
    if kind in ("abs", "ind") and size != Size.DW:
        return b.ld_abs(size, draw(imm32)) if kind == "abs" else b.ld_ind(size, s, draw(imm32))
    return b.ldx(size, d, s, off)


@st.composite
def unary(draw: st.DrawFn) -> Insn:
    d, s = draw(regs), draw(regs)
    return draw(
        st.sampled_from(
            [
                b.neg64(d),
                b.neg32(d),
                b.mov64_reg(d, s),
                b.mov32_reg(d, s),
                b.movsx64(d, s, draw(st.sampled_from([8, 16, 32]))),
                b.movsx32(d, s, draw(st.sampled_from([8, 16]))),
                b.endian(d, draw(st.sampled_from([16, 32, 64])), big=draw(st.booleans())),
                b.bswap(d, draw(st.sampled_from([16, 32, 64]))),
            ]
        )
    )


@st.composite
def control(draw: st.DrawFn) -> Insn:
    return draw(
        st.sampled_from(
            [
                b.ja(draw(off16)),
                b.gotol(draw(imm32)),
                b.may_goto(draw(off16)),
                b.call(draw(imm32)),
                b.call_local(draw(imm32)),
                b.call_kfunc(draw(imm32), draw(off16)),
                b.callx(draw(regs)),
                b.exit_(),
            ]
        )
    )


any_insn = st.one_of(alu(), jump(), lddw(), memory(), unary(), control())
"""Any valid instruction."""
