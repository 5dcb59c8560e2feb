"""Blocks -> a flat cBPF program, laid out exactly as libpcap's icode_to_fcode does.

Blocks are placed from the end of the program backwards in a depth-first walk that visits
the false branch before the true branch, so the root lands first. A branch farther than 255
instructions gets a ``ja`` trampoline and the layout is redone.
"""

from __future__ import annotations

from pybpf.cbpf import insn as I
from pybpf.cbpf.blocks import NOP, Block
from pybpf.cbpf.lexer import FilterError


def _reachable(root: Block) -> list[Block]:
    seen: set[int] = set()
    order: list[Block] = []
    stack = [root]
    while stack:
        b = stack.pop()
        if id(b) in seen:
            continue
        seen.add(id(b))
        order.append(b)
        for nxt in (b.jt, b.jf):
            if nxt is not None:
                stack.append(nxt)
    return order


def _slength(b: Block) -> int:
    return sum(1 for s in b.stmts if s.code != NOP)


class _Conv:
    def __init__(self, n: int) -> None:
        self.out: list[I.CInsn | None] = [None] * n
        self.tail = n
        self.marked: set[int] = set()

    def convert(self, p: Block | None) -> bool:
        # Iterative over the recursion libpcap does (false child, true child, then self).
        if p is None or id(p) in self.marked:
            return True
        self.marked.add(id(p))
        if not self.convert(p.jf) or not self.convert(p.jt):
            return False
        slen = _slength(p)
        self.tail -= slen + 1 + p.longjt + p.longjf
        dst = self.tail
        p.offset = dst
        for s in p.stmts:
            if s.code == NOP:
                continue
            self.out[dst] = I.CInsn(s.code, 0, 0, s.k & I.U32)
            dst += 1
        if p.jt is None or p.jf is None:
            self.out[dst] = I.CInsn(p.code, 0, 0, p.k & I.U32)
            return True
        extra = 0
        jt = p.jt.offset - (p.offset + slen) - 1
        jf = p.jf.offset - (p.offset + slen) - 1
        outjt = outjf = 0
        for which in ("t", "f"):
            off = jt if which == "t" else jf
            if off >= 256:
                if (p.longjt if which == "t" else p.longjf) == 0:
                    if which == "t":
                        p.longjt += 1
                    else:
                        p.longjf += 1
                    return False
                if which == "t":
                    outjt = extra
                else:
                    outjf = extra
                extra += 1
                self.out[dst + extra] = I.CInsn(I.JMP | I.JA, 0, 0, off - extra)
            elif which == "t":
                outjt = off
            else:
                outjf = off
        self.out[dst] = I.CInsn(p.code, outjt, outjf, p.k & I.U32)
        return True


def icode_to_fcode(root: Block) -> list[I.CInsn]:
    """Flatten the block graph rooted at ``root``."""
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        for _ in range(10000):
            blocks = _reachable(root)
            n = sum(_slength(b) + 1 + b.longjt + b.longjf for b in blocks)
            conv = _Conv(n)
            if conv.convert(root):
                if any(i is None for i in conv.out):
                    raise FilterError("internal error: incomplete layout")
                return [i for i in conv.out if i is not None]
        raise FilterError("too many long jumps")
    finally:
        sys.setrecursionlimit(limit)
