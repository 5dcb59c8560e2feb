"""Classic BPF -> eBPF, in the manner of the kernel's ``bpf_convert_filter``, but reading the
packet through direct packet pointers so the result runs as XDP (and in pybpf's VM).

Register use: A is w0, X is w6, the packet is [r7, r8), r4/r5 are scratch, M[0..15] live
at r10-64..r10-4 (zeroed first when the program reads them). Every packet load is bounds
checked; a load past the end, or a division by zero, ends the program with 0 as the
kernel's classic interpreter does. ``mode`` picks the entry convention and the exit:

* ``"vm"``  -- r1 points at the packet and r2 is its length (pybpf.vm's convention);
  returns the cBPF result (the number of bytes to accept).
* ``"xdp"`` -- r1 is ``struct xdp_md``; returns ``match_action`` when the filter accepts the
  packet and ``miss_action`` otherwise, after counting the verdict in ``count_map_fd``
  (an array map of two u64: [0] misses, [1] matches) when one is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.asm.insn import Insn
from pybpf.asm.opcodes import LDDW, AluOp, Class, JmpOp, Mode, PseudoSrc, Size, Source
from pybpf.cbpf import insn as I
from pybpf.errors import UsageError
from pybpf.records import dataclass

XDP_DROP, XDP_PASS = 1, 2
A, X, PKT, END, T1, T2, SAVE, FP = 0, 6, 7, 8, 4, 5, 9, 10
_SIZE = {I.W: (4, Size.W), I.H: (2, Size.H), I.B: (1, Size.B)}
_ALU = {
    I.ADD: AluOp.ADD,
    I.SUB: AluOp.SUB,
    I.MUL: AluOp.MUL,
    I.DIV: AluOp.DIV,
    I.MOD: AluOp.MOD,
    I.AND: AluOp.AND,
    I.OR: AluOp.OR,
    I.XOR: AluOp.XOR,
    I.LSH: AluOp.LSH,
    I.RSH: AluOp.RSH,
}
_MAX_OFF = 0xFFF0
_JMP = {I.JEQ: JmpOp.JEQ, I.JGT: JmpOp.JGT, I.JGE: JmpOp.JGE, I.JSET: JmpOp.JSET}


@dataclass(frozen=True)
class _Jump:
    """A branch whose offset is filled in once every label's position is known."""

    opcode: int
    dst: int
    src: int
    imm: int
    target: str


def _s32(v: int) -> int:
    v &= 0xFFFF_FFFF
    return v - (1 << 32) if v & 0x8000_0000 else v


def _alu32(op: int, dst: int, src: int = 0, imm: int = 0, x: bool = False) -> Insn:
    return Insn(Class.ALU | op | (Source.X if x else Source.K), dst, src, 0, imm)


def _alu64(op: int, dst: int, src: int = 0, imm: int = 0, x: bool = False) -> Insn:
    return Insn(Class.ALU64 | op | (Source.X if x else Source.K), dst, src, 0, imm)


class _Emitter:
    def __init__(self) -> None:
        self.items: list[Insn | _Jump | str] = []

    def add(self, *ins: Insn | _Jump | str) -> None:
        self.items.extend(ins)

    def jump(self, opcode: int, target: str, dst: int = 0, src: int = 0, imm: int = 0) -> None:
        self.items.append(_Jump(opcode, dst, src, imm, target))

    def goto(self, target: str) -> None:
        self.jump(Class.JMP | JmpOp.JA, target)

    def prune(self) -> None:
        """Drop instructions no path reaches (the kernel verifier rejects them)."""
        label_at = {it: n for n, it in enumerate(self.items) if isinstance(it, str)}
        live: set[int] = set()
        work = [0]
        while work:
            n = work.pop()
            while n < len(self.items) and n not in live:
                live.add(n)
                it = self.items[n]
                if isinstance(it, _Jump):
                    work.append(label_at[it.target])
                    if it.opcode == Class.JMP | JmpOp.JA:
                        break
                elif isinstance(it, Insn) and it.opcode == Class.JMP | JmpOp.EXIT:
                    break
                n += 1
        self.items = [it for n, it in enumerate(self.items) if n in live or isinstance(it, str)]

    def resolve(self) -> list[Insn]:
        self.prune()
        pos: dict[str, int] = {}
        slot = 0
        for it in self.items:
            if isinstance(it, str):
                pos[it] = slot
            else:
                slot += 2 if isinstance(it, Insn) and it.opcode == LDDW else 1
        out: list[Insn] = []
        slot = 0
        for it in self.items:
            if isinstance(it, str):
                continue
            if isinstance(it, _Jump):
                out.append(Insn(it.opcode, it.dst, it.src, pos[it.target] - slot - 1, it.imm))
                slot += 1
            else:
                out.append(it)
                slot += it.slots
        return out


def _uses_mem(prog: Sequence[I.CInsn]) -> bool:
    return any(I.bpf_class(i.code) in (I.LD, I.LDX) and I.bpf_mode(i.code) == I.MEM for i in prog)


def _load(e: _Emitter, ins: I.CInsn, dst: int) -> None:
    """A bounds-checked big-endian packet load into ``dst``."""
    mode = I.bpf_mode(ins.code)
    nbytes, size = _SIZE[I.bpf_size(ins.code)] if mode != I.MSH else (1, Size.B)
    k = ins.k & I.U32
    if mode == I.ABS and k >= I.SKF_AD_OFF & I.U32:
        # Linux ancillary data (VLAN metadata...): there is none in XDP or the VM.
        e.add(_alu32(AluOp.MOV, dst, imm=0))
        return
    if k > _MAX_OFF:
        e.goto("reject")
        return
    if mode == I.IND:
        # The verifier tracks a variable packet offset only while it (plus the access)
        # stays under 64 KiB, so bound X + k first; no packet is that long anyway.
        e.add(_alu64(AluOp.MOV, T1, X, x=True), _alu64(AluOp.ADD, T1, imm=k))
        e.jump(Class.JMP | JmpOp.JGT | Source.K, "reject", T1, 0, _MAX_OFF)
        e.add(_alu64(AluOp.ADD, T1, PKT, x=True))
    else:
        e.add(_alu64(AluOp.MOV, T1, PKT, x=True))
        if k:
            e.add(_alu64(AluOp.ADD, T1, imm=k))
    e.add(_alu64(AluOp.MOV, T2, T1, x=True), _alu64(AluOp.ADD, T2, imm=nbytes))
    e.jump(Class.JMP | JmpOp.JGT | Source.X, "reject", T2, END)
    e.add(Insn(Class.LDX | Mode.MEM | size, dst, T1, 0, 0))
    if nbytes > 1:
        e.add(Insn(Class.ALU | AluOp.END | Source.X, dst, 0, 0, nbytes * 8))


def _one(e: _Emitter, i: int, ins: I.CInsn) -> None:
    code, k = ins.code, ins.k & I.U32
    cls = I.bpf_class(code)
    if cls in (I.LD, I.LDX):
        dst = A if cls == I.LD else X
        mode = I.bpf_mode(code)
        if mode == I.IMM:
            e.add(_alu32(AluOp.MOV, dst, imm=_s32(k)))
        elif mode == I.LEN:
            e.add(_alu64(AluOp.MOV, dst, END, x=True), _alu64(AluOp.SUB, dst, PKT, x=True))
            e.add(_alu32(AluOp.MOV, dst, dst, x=True))
        elif mode == I.MEM:
            e.add(Insn(Class.LDX | Mode.MEM | Size.W, dst, FP, -64 + 4 * (k & 15), 0))
        elif mode == I.MSH:
            _load(e, ins, X)
            e.add(_alu32(AluOp.AND, X, imm=0xF), _alu32(AluOp.LSH, X, imm=2))
        else:
            _load(e, ins, dst)
    elif cls in (I.ST, I.STX):
        src = A if cls == I.ST else X
        e.add(Insn(Class.STX | Mode.MEM | Size.W, FP, src, -64 + 4 * (k & 15), 0))
    elif cls == I.ALU:
        op = I.bpf_op(code)
        if op == I.NEG:
            e.add(Insn(Class.ALU | AluOp.NEG, A))
            return
        x = I.bpf_src(code) == I.X
        if op in (I.DIV, I.MOD):
            if x:
                e.jump(Class.JMP32 | JmpOp.JEQ | Source.K, "reject", X, 0, 0)
            elif k == 0:
                e.goto("reject")
                return
        imm = (k & 31) if op in (I.LSH, I.RSH) else _s32(k)
        e.add(_alu32(_ALU[op], A, X if x else 0, 0 if x else imm, x))
    elif cls == I.JMP:
        op = I.bpf_op(code)
        if op == I.JA:
            e.goto(f"c{i + 1 + k}")
            return
        x = I.bpf_src(code) == I.X
        t, f = f"c{i + 1 + ins.jt}", f"c{i + 1 + ins.jf}"
        if ins.jt == ins.jf:
            e.goto(t)
            return
        e.jump(Class.JMP32 | _JMP[op] | (Source.X if x else Source.K), t, A, X if x else 0,
               0 if x else _s32(k))  # fmt: skip
        if ins.jf:
            e.goto(f)
    elif cls == I.RET:
        if I.bpf_op(code) != I.RET_A:
            e.add(_alu32(AluOp.MOV, A, imm=_s32(k)))
        e.goto("fin")
    elif code & 0xF8 == I.TAX:
        e.add(_alu32(AluOp.MOV, X, A, x=True))
    else:
        e.add(_alu32(AluOp.MOV, A, X, x=True))


def translate(
    prog: Sequence[I.CInsn],
    mode: str = "vm",
    match_action: int = XDP_PASS,
    miss_action: int = XDP_DROP,
    count_map_fd: int | None = None,
) -> list[Insn]:
    """The eBPF program equivalent to the cBPF ``prog`` (see the module docstring)."""
    if mode not in ("vm", "xdp"):
        raise UsageError(f"unknown translation mode {mode!r}")
    e = _Emitter()
    if mode == "vm":
        e.add(_alu64(AluOp.MOV, PKT, 1, x=True), _alu64(AluOp.MOV, END, 1, x=True))
        e.add(_alu64(AluOp.ADD, END, 2, x=True))
    else:
        e.add(Insn(Class.LDX | Mode.MEM | Size.W, PKT, 1, 0, 0))
        e.add(Insn(Class.LDX | Mode.MEM | Size.W, END, 1, 4, 0))
    e.add(_alu32(AluOp.MOV, A, imm=0), _alu32(AluOp.MOV, X, imm=0))
    if _uses_mem(prog):
        for slot in range(16):
            e.add(Insn(Class.ST | Mode.MEM | Size.W, FP, 0, -64 + 4 * slot, 0))
    for i, ins in enumerate(prog):
        e.add(f"c{i}")
        _one(e, i, ins)
    e.add(f"c{len(prog)}", "reject", _alu32(AluOp.MOV, A, imm=0), "fin")
    if mode == "xdp":
        _xdp_exit(e, match_action, miss_action, count_map_fd)
    e.add(Insn(Class.JMP | JmpOp.EXIT))
    return e.resolve()


def _xdp_exit(e: _Emitter, match: int, miss: int, map_fd: int | None) -> None:
    e.add(_alu64(AluOp.MOV, SAVE, A, x=True))
    if map_fd is not None:
        # key = (result != 0) at fp-68; value += 1 atomically.
        e.add(Insn(Class.ST | Mode.MEM | Size.W, FP, 0, -68, 0))
        e.jump(Class.JMP32 | JmpOp.JEQ | Source.K, "key_done", A, 0, 0)
        e.add(Insn(Class.ST | Mode.MEM | Size.W, FP, 0, -68, 1))
        e.add("key_done")
        e.add(Insn(LDDW, 1, PseudoSrc.MAP_FD, 0, map_fd))
        e.add(_alu64(AluOp.MOV, 2, FP, x=True), _alu64(AluOp.ADD, 2, imm=-68))
        e.add(Insn(Class.JMP | JmpOp.CALL, 0, 0, 0, 1))
        e.jump(Class.JMP | JmpOp.JEQ | Source.K, "counted", 0, 0, 0)
        e.add(_alu64(AluOp.MOV, 1, imm=1))
        e.add(Insn(Class.STX | Mode.ATOMIC | Size.DW, 0, 1, 0, 0))
        e.add("counted")
    e.add(_alu64(AluOp.MOV, A, imm=miss))
    e.jump(Class.JMP32 | JmpOp.JEQ | Source.K, "out", SAVE, 0, 0)
    e.add(_alu64(AluOp.MOV, A, imm=match), "out")
