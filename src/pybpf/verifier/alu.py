"""ALU instructions on abstract registers: scalar arithmetic and pointer arithmetic rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.asm.insn import Insn
from pybpf.verifier import scalar as sc
from pybpf.verifier.cfg import Reject
from pybpf.verifier.state import NULLABLE, Kind, Reg, State, replace, scalar

if TYPE_CHECKING:
    from pybpf.verifier.check import Verifier

_OPNAMES = {
    0x00: "+=",
    0x10: "-=",
    0x20: "*=",
    0x30: "/=",
    0x40: "|=",
    0x50: "&=",
    0x60: "<<=",
    0x70: ">>=",
    0x80: "neg",
    0x90: "%=",
    0xA0: "^=",
    0xC0: "s>>=",
}
_NO_ARITH = (Kind.MAP_PTR, Kind.PACKET_END, Kind.FUNC)
_LIMIT = 1 << 29


def do_alu(v: Verifier, pc: int, insn: Insn, st: State) -> None:
    """Apply ALU ``insn`` to the current frame of ``st``."""
    regs = st.cur.regs
    is64 = insn.opcode & 0x07 == 0x07
    code = insn.opcode & 0xF0
    use_x = bool(insn.opcode & 0x08) and code not in (0xD0,)
    if insn.dst == 10:
        raise Reject(pc, "frame pointer is read only")
    if use_x and regs[insn.src].kind is Kind.NOT_INIT:
        raise Reject(pc, f"R{insn.src} !read_ok")
    if code != 0xB0 and regs[insn.dst].kind is Kind.NOT_INIT:
        raise Reject(pc, f"R{insn.dst} !read_ok")
    src = (
        regs[insn.src] if use_x else scalar(sc.const(insn.imm if is64 else insn.imm & 0xFFFF_FFFF))
    )
    dst = regs[insn.dst]
    if code == 0xB0:
        regs[insn.dst] = _mov(pc, insn, src, is64)
        return
    if code in (0x30, 0x90) and not use_x and insn.imm == 0:
        raise Reject(pc, "div by zero")
    if code in (0x60, 0x70, 0xC0) and not use_x and not 0 <= insn.imm < (64 if is64 else 32):
        raise Reject(pc, f"invalid shift {insn.imm}")
    if code in (0x80, 0xD0):
        if dst.is_ptr:
            raise Reject(pc, f"R{insn.dst} pointer arithmetic prohibited")
        if code == 0x80:
            regs[insn.dst] = scalar(sc.alu(0x80, is64, dst.var, sc.const(0)))
        else:
            regs[insn.dst] = scalar(sc.endian(dst.var, is64, bool(insn.opcode & 0x08), insn.imm))
        return
    if not dst.is_ptr and not src.is_ptr:
        regs[insn.dst] = scalar(sc.alu(code, is64, dst.var, src.var, insn.off))
        return
    regs[insn.dst] = _ptr_alu(v, pc, insn, dst, src, is64, code)


def _mov(pc: int, insn: Insn, src: Reg, is64: bool) -> Reg:
    if insn.off:  # movsx
        if src.is_ptr:
            raise Reject(pc, f"R{insn.src} sign-extension part of pointer")
        val = sc.sext_bits(src.var, insn.off)
        return scalar(val if is64 else sc.cast32(val))
    if is64:
        return src
    if src.is_ptr:
        # root may copy half a pointer: it becomes an unknown 32-bit scalar
        return scalar(sc.bounded(0, 0xFFFF_FFFF))
    return scalar(sc.cast32(src.var))


def _ptr_alu(v: Verifier, pc: int, insn: Insn, dst: Reg, src: Reg, is64: bool, code: int) -> Reg:
    d = insn.dst
    if dst.is_ptr and src.is_ptr:
        if code == 0x10 and dst.kind is src.kind and is64:
            return scalar(sc.UNKNOWN)
        raise Reject(pc, f"R{d} pointer {_OPNAMES.get(code, '?')} pointer prohibited")
    if not is64:
        raise Reject(pc, f"R{d} 32-bit pointer arithmetic prohibited")
    if src.is_ptr:
        if code != 0x00:
            if code == 0x10:
                raise Reject(pc, f"R{d} tried to subtract pointer from scalar")
            raise Reject(
                pc, f"R{d} pointer arithmetic with {_OPNAMES.get(code, '?')} operator prohibited"
            )
        dst, src = src, dst  # scalar + pointer: same as pointer + scalar
    if code not in (0x00, 0x10):
        raise Reject(
            pc, f"R{d} pointer arithmetic with {_OPNAMES.get(code, '?')} operator prohibited"
        )
    if dst.kind in NULLABLE:
        raise Reject(
            pc, f"R{d} pointer arithmetic on {dst.kind.value} prohibited, null-check it first"
        )
    if dst.kind in _NO_ARITH:
        raise Reject(pc, f"R{d} pointer arithmetic on {dst.kind.value} prohibited")
    k = src.var
    if k.is_const:
        delta = sc._s(k.value)
        off = dst.off + delta if code == 0x00 else dst.off - delta
        if not -_LIMIT < off < _LIMIT:
            raise Reject(pc, f"value {delta} makes {dst.kind.value} pointer be out of bounds")
        return replace(dst, off=off)
    if dst.kind is Kind.CTX:
        raise Reject(pc, f"R{d} variable ctx access prohibited")
    if k.smin <= -_LIMIT or k.smax >= _LIMIT:
        raise Reject(
            pc,
            f"math between {dst.kind.value} pointer and register with unbounded min value is not allowed",
        )
    var = sc.alu(code, True, dst.var, k)
    if var.smin <= -_LIMIT or var.smax >= _LIMIT:
        raise Reject(pc, f"R{d} variable offset out of range")
    if dst.kind in (Kind.PACKET, Kind.PACKET_META):
        return replace(dst, var=var, id=v.new_id(), rng=0)
    return replace(dst, var=var)


__all__ = ["do_alu"]
