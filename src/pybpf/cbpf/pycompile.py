"""Classic BPF compiled to a Python function, for filtering many packets (``capture -r``).

cBPF only jumps forward, so the program is a sequence of basic blocks each run at most once:
the generated function tests ``pc`` against each block's start in program order and runs
the block's straight-line code. Semantics are :func:`pybpf.cbpf.vm.run`'s exactly (loads past
the end and division by zero return 0; X shifts use X & 31; ancillary loads read ``meta``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence

from pybpf.cbpf import insn as I

Filter = Callable[[bytes, int | None, Mapping[int, int] | None], int]
_AD = I.SKF_AD_OFF & I.U32
_OPS = {I.ADD: "+", I.SUB: "-", I.MUL: "*", I.AND: "&", I.OR: "|", I.XOR: "^"}


def _leaders(prog: Sequence[I.CInsn]) -> set[int]:
    out = {0}
    for i, ins in enumerate(prog):
        cls = I.bpf_class(ins.code)
        if cls == I.JMP:
            if I.bpf_op(ins.code) == I.JA:
                out.add(i + 1 + ins.k)
            else:
                out |= {i + 1 + ins.jt, i + 1 + ins.jf}
            out.add(i + 1)
        elif cls == I.RET:
            out.add(i + 1)
    return out


def _load(ins: I.CInsn, dst: str) -> list[str]:
    mode, k = I.bpf_mode(ins.code), ins.k & I.U32
    size = {I.W: 4, I.H: 2, I.B: 1}[I.bpf_size(ins.code)]
    fetch = {4: "_uI(p, o)[0]", 2: "_uH(p, o)[0]", 1: "p[o]"}[size]
    if mode == I.ABS and k >= _AD:
        return [f"{dst} = (meta or {{}}).get({k - _AD}, 0) & 0xFFFFFFFF"]
    if mode == I.ABS:
        return [f"if n < {k + size}: return 0", f"{dst} = {fetch.replace('o', str(k), 1)}"]
    return [f"o = (X + {k}) & 0xFFFFFFFF", f"if o + {size} > n: return 0", f"{dst} = {fetch}"]


def _stmt(ins: I.CInsn, i: int) -> list[str]:
    code, k = ins.code, ins.k & I.U32
    cls, mode = I.bpf_class(code), I.bpf_mode(code)
    if cls in (I.LD, I.LDX):
        dst = "A" if cls == I.LD else "X"
        if mode == I.IMM:
            return [f"{dst} = {k}"]
        if mode == I.LEN:
            return [f"{dst} = wl"]
        if mode == I.MEM:
            return [f"{dst} = M[{k & 15}]"]
        if mode == I.MSH:
            return [f"if n <= {k}: return 0", f"X = (p[{k}] & 15) << 2"]
        return _load(ins, dst)
    if cls == I.ST:
        return [f"M[{k & 15}] = A"]
    if cls == I.STX:
        return [f"M[{k & 15}] = X"]
    if cls == I.MISC:
        return ["X = A"] if code & 0xF8 == I.TAX else ["A = X"]
    op = I.bpf_op(code)
    v = "X" if I.bpf_src(code) == I.X else str(k)
    if op == I.NEG:
        return ["A = -A & 0xFFFFFFFF"]
    if op in _OPS:
        return [f"A = (A {_OPS[op]} {v}) & 0xFFFFFFFF"]
    if op in (I.DIV, I.MOD):
        sym = "//" if op == I.DIV else "%"
        return [f"if {v} == 0: return 0", f"A = A {sym} {v}"]
    if op == I.LSH:
        return [f"A = (A << ({v} & 31)) & 0xFFFFFFFF"]
    if op == I.RSH:
        return [f"A = A >> ({v} & 31)"]
    raise ValueError(f"instruction {i}: bad opcode 0x{code:x}")


def _branch(ins: I.CInsn, i: int, count: int) -> list[str]:
    code, k = ins.code, ins.k & I.U32
    if I.bpf_class(code) == I.RET:
        return ["return A"] if I.bpf_op(code) == I.RET_A else [f"return {k}"]
    op = I.bpf_op(code)
    if op == I.JA:
        return [f"pc = {i + 1 + k}"]
    v = "X" if I.bpf_src(code) == I.X else str(k)
    cond = {I.JEQ: f"A == {v}", I.JGT: f"A > {v}", I.JGE: f"A >= {v}", I.JSET: f"A & {v}"}[op]
    return [f"pc = {i + 1 + ins.jt} if {cond} else {i + 1 + ins.jf}"]


def compile_program(prog: Sequence[I.CInsn]) -> Filter:
    """A function ``f(packet, wirelen=None, meta=None) -> accepted length``."""
    leaders = _leaders(prog)
    lines = [
        "def _filter(p, wirelen=None, meta=None):",
        "    n = len(p)",
        "    wl = n if wirelen is None else wirelen",
        "    A = X = 0",
        "    M = [0] * 16",
        "    pc = 0",
    ]
    body: list[str] = []
    for i, ins in enumerate(prog):
        if i in leaders:
            body.append(f"if pc == {i}:")
        is_end = I.bpf_class(ins.code) in (I.JMP, I.RET)
        out = _branch(ins, i, len(prog)) if is_end else _stmt(ins, i)
        body += ["    " + ln for ln in out]
        if not is_end and i + 1 in leaders:
            body.append(f"    pc = {i + 1}")
    body.append("return 0")
    lines += ["    " + ln for ln in body]
    namespace: dict[str, object] = {
        "_uI": struct.Struct("!I").unpack_from,
        "_uH": struct.Struct("!H").unpack_from,
    }
    exec(compile("\n".join(lines), "<cbpf>", "exec"), namespace)
    fn = namespace["_filter"]
    return fn  # type: ignore[return-value]
