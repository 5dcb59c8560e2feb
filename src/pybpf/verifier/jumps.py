"""Conditional jumps: decide branches when the values allow, refine registers on each side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.asm.insn import Insn
from pybpf.verifier import scalar as sc
from pybpf.verifier.cfg import Reject, jump_target
from pybpf.verifier.state import NULLABLE, Kind, Reg, State, replace, scalar
from pybpf.vm import semantics as sem

if TYPE_CHECKING:
    from pybpf.verifier.check import Verifier

M32 = 0xFFFF_FFFF


def do_cond(v: Verifier, pc: int, insn: Insn, st: State) -> list[tuple[int, State]]:
    """Successors of a conditional jump: (target, state) and/or (fall-through, state)."""
    regs = st.cur.regs
    code = insn.opcode & 0xF0
    is32 = insn.opcode & 0x07 == 0x06
    dst = regs[insn.dst]
    if dst.kind is Kind.NOT_INIT:
        raise Reject(pc, f"R{insn.dst} !read_ok")
    if insn.opcode & 0x08:
        src = regs[insn.src]
        if src.kind is Kind.NOT_INIT:
            raise Reject(pc, f"R{insn.src} !read_ok")
    else:
        src = scalar(sc.const(insn.imm))
    taken_pc, fall_pc = jump_target(pc, insn), pc + 1
    if dst.is_ptr or src.is_ptr:
        return _ptr_cond(v, pc, insn, st, dst, src, code, taken_pc, fall_pc)
    decided = _decide(code, is32, dst, src)
    if decided is True:
        return [(taken_pc, st)]
    if decided is False:
        return [(fall_pc, st)]
    other = st.copy()
    _refine(st, insn, code, is32, True)
    _refine(other, insn, code, is32, False)
    return [(fall_pc, other), (taken_pc, st)]


def _fits32(a: sc.Scalar, signed: bool) -> bool:
    return a.umax < (1 << 31) if signed else a.umax <= M32


def _decide(code: int, is32: bool, dst: Reg, src: Reg) -> bool | None:
    a, b = dst.var, src.var
    if a.is_const and b.is_const:
        return sem.cond(code, is32, a.value, b.value)
    signed = code in (0x60, 0x70, 0xC0, 0xD0)
    if is32 and not (_fits32(a, signed) and _fits32(b, signed)):
        return None
    if b.is_const:
        return sc.branch(code, a, b.value)
    if a.is_const:
        return sc.branch(sc.SWAP[code], b, a.value)
    return None


def _refine(st: State, insn: Insn, code: int, is32: bool, taken: bool) -> None:
    regs = st.cur.regs
    d = regs[insn.dst]
    signed = code in (0x60, 0x70, 0xC0, 0xD0)
    s = regs[insn.src] if insn.opcode & 0x08 else scalar(sc.const(insn.imm))
    if is32 and not (_fits32(d.var, signed) and _fits32(s.var, signed)):
        return
    if s.var.is_const:
        regs[insn.dst] = scalar(sc.refine(code, taken, d.var, s.var.value))
    elif d.var.is_const and insn.opcode & 0x08:
        regs[insn.src] = scalar(sc.refine(sc.SWAP[code], taken, s.var, d.var.value))


def _ptr_cond(
    v: Verifier,
    pc: int,
    insn: Insn,
    st: State,
    dst: Reg,
    src: Reg,
    code: int,
    taken_pc: int,
    fall_pc: int,
) -> list[tuple[int, State]]:
    is32 = insn.opcode & 0x07 == 0x06
    zero = not src.is_ptr and src.var.is_const and src.var.value == 0
    if dst.is_ptr and zero and code in (0x10, 0x50) and not is32:
        if dst.kind in NULLABLE:
            null_st, ok_st = st, st.copy()
            _mark_null(null_st, dst, True)
            _mark_null(ok_st, dst, False)
            if code == 0x10:
                return [(fall_pc, ok_st), (taken_pc, null_st)]
            return [(fall_pc, null_st), (taken_pc, ok_st)]
        # a valid pointer is never NULL
        return [(fall_pc if code == 0x10 else taken_pc, st)]
    if dst.is_ptr and src.is_ptr and not is32:
        pkt = _packet_range(dst, src, code)
        if pkt is not None:
            ptr, in_taken = pkt
            other = st.copy()
            good = st if in_taken else other
            _mark_range(good, ptr)
            return [(fall_pc, other), (taken_pc, st)]
    return [(fall_pc, st.copy()), (taken_pc, st)]


def _mark_null(st: State, r: Reg, is_null: bool) -> None:
    if is_null:
        if r.kind is Kind.MEM_OR_NULL:
            st.refs.pop(r.id, None)  # a NULL reservation holds nothing to release
        st.replace_id(r.id, lambda x: scalar(sc.const(0)))
        return
    keep_id = r.kind is Kind.MEM_OR_NULL
    st.replace_id(
        r.id, lambda x: replace(x, kind=NULLABLE.get(x.kind, x.kind), id=x.id if keep_id else 0)
    )


def _packet_range(dst: Reg, src: Reg, code: int) -> tuple[Reg, bool] | None:
    """(packet pointer, whether the taken branch is the in-bounds one) for pkt vs pkt_end."""
    pkt_kinds = (Kind.PACKET, Kind.PACKET_META)
    if dst.kind in pkt_kinds and src.kind is Kind.PACKET_END:
        # pkt > end / pkt >= end: in bounds when not taken; pkt < end / pkt <= end: when taken
        table = {0x20: False, 0x30: False, 0xA0: True, 0xB0: True}
        return (dst, table[code]) if code in table else None
    if dst.kind is Kind.PACKET_END and src.kind in pkt_kinds:
        table = {0x20: True, 0x30: True, 0xA0: False, 0xB0: False}
        return (src, table[code]) if code in table else None
    return None


def _mark_range(st: State, ptr: Reg) -> None:
    new = max(0, ptr.off)
    for f in st.frames:
        for i, r in enumerate(f.regs):
            if r.kind is ptr.kind and r.id == ptr.id and r.var == ptr.var:
                f.regs[i] = replace(r, rng=max(r.rng, new))
        for slot, r in f.spills.items():
            if r.kind is ptr.kind and r.id == ptr.id and r.var == ptr.var:
                f.spills[slot] = replace(r, rng=max(r.rng, new))


__all__ = ["do_cond"]
