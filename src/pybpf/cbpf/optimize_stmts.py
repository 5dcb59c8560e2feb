"""Statement-level work of the optimiser (libpcap's opt_stmt, opt_peep, opt_deadstores):
value numbering, constant folding, peephole rewrites and dead-store removal in one block.

:class:`StmtOptimizer` is mixed into the optimiser in :mod:`pybpf.cbpf.optimize`, which
supplies ``I(block)`` (the block's analysis record: ``val``, ``out_use``) and ``done``.
"""

from __future__ import annotations

from typing import Any

from pybpf.cbpf import insn as I
from pybpf.cbpf.blocks import NOP, Block, Stmt
from pybpf.cbpf.lexer import FilterError

A_ATOM = I.MEMWORDS
X_ATOM = I.MEMWORDS + 1
N_ATOMS = I.MEMWORDS + 2
AX_ATOM = N_ATOMS
U32 = I.U32


def atomuse(code: int, k: int) -> int:
    """The register (atom) a statement reads: A, X, both (AX_ATOM), a scratch cell, or -1."""
    if code == NOP:
        return -1
    cls = I.bpf_class(code)
    if cls == I.RET:
        rv = code & 0x18
        return A_ATOM if rv == I.RET_A else (X_ATOM if rv == 0x08 else -1)
    if cls in (I.LD, I.LDX):
        mode = I.bpf_mode(code)
        return X_ATOM if mode == I.IND else (k if mode == I.MEM else -1)
    if cls == I.ST:
        return A_ATOM
    if cls == I.STX:
        return X_ATOM
    if cls in (I.JMP, I.ALU):
        return AX_ATOM if I.bpf_src(code) == I.X else A_ATOM
    return X_ATOM if code & 0xF8 == I.TXA else A_ATOM


def atomdef(code: int, k: int) -> int:
    """The register (atom) a statement writes, or -1."""
    if code == NOP:
        return -1
    cls = I.bpf_class(code)
    if cls in (I.LD, I.ALU):
        return A_ATOM
    if cls == I.LDX:
        return X_ATOM
    if cls in (I.ST, I.STX):
        return k
    if cls == I.MISC:
        return X_ATOM if code & 0xF8 == I.TAX else A_ATOM
    return -1


class StmtOptimizer:
    """Value numbers (a Cocke-Schwartz table: equal expressions get equal numbers) and the
    per-block rewrites that use them."""

    done: bool
    vn: dict[tuple[int, int, int], int]
    consts: dict[int, int]
    curval: int

    @staticmethod
    def I(b: Block) -> Any:  # noqa: E743 -- the block's analysis record
        return b.opt

    def F(self, code: int, v0: int, v1: int) -> int:
        key = (code, v0, v1)
        val = self.vn.get(key)
        if val is not None:
            return val
        self.curval += 1
        val = self.curval
        if I.bpf_mode(code) == I.IMM and I.bpf_class(code) in (I.LD, I.LDX):
            self.consts[val] = v0
        self.vn[key] = val
        return val

    def K(self, k: int) -> int:
        return self.F(I.LD | I.IMM | I.W, k & U32, 0)

    def vstore(self, s: Stmt, val: list[int], atom: int, newval: int, alter: bool) -> None:
        if alter and val[atom] == newval:
            s.code = NOP
        else:
            val[atom] = newval

    def fold_op(self, s: Stmt, v0: int, v1: int) -> None:
        a, b = self.consts[v0] & U32, self.consts[v1] & U32
        op = I.bpf_op(s.code)
        if op in (I.DIV, I.MOD) and b == 0:
            raise FilterError("division by zero" if op == I.DIV else "modulus by zero")
        if op == I.LSH:
            a = (a << b) & U32 if b < 32 else 0
        elif op == I.RSH:
            a = a >> b if b < 32 else 0
        else:
            from pybpf.cbpf.vm import alu

            r = alu(op, a, b)
            assert r is not None
            a = r
        s.k = a
        s.code = I.LD | I.IMM
        self.done = False

    def opt_stmt(self, s: Stmt, val: list[int], alter: bool) -> None:
        code = s.code
        cls, mode = I.bpf_class(code), I.bpf_mode(code)
        if code == NOP:
            return
        if cls == I.LD and mode == I.ABS:
            self.vstore(s, val, A_ATOM, self.F(code, s.k, 0), alter)
        elif cls == I.LD and mode == I.IND:
            v = val[X_ATOM]
            if alter and v in self.consts:
                s.code = I.LD | I.ABS | I.bpf_size(code)
                s.k = (s.k + self.consts[v]) & U32
                v = self.F(s.code, s.k, 0)
                self.done = False
            else:
                v = self.F(code, s.k, v)
            self.vstore(s, val, A_ATOM, v, alter)
        elif cls == I.LD and mode == I.LEN:
            self.vstore(s, val, A_ATOM, self.F(code, 0, 0), alter)
        elif cls == I.LD and mode == I.IMM:
            self.vstore(s, val, A_ATOM, self.K(s.k), alter)
        elif cls == I.LDX and mode == I.IMM:
            self.vstore(s, val, X_ATOM, self.K(s.k), alter)
        elif code == I.LDX | I.MSH | I.B:
            self.vstore(s, val, X_ATOM, self.F(code, s.k, 0), alter)
        elif code == I.ALU | I.NEG:
            if alter and val[A_ATOM] in self.consts:
                s.code = I.LD | I.IMM
                s.k = -self.consts[val[A_ATOM]] & U32
                val[A_ATOM] = self.K(s.k)
            else:
                val[A_ATOM] = self.F(code, val[A_ATOM], 0)
        elif cls == I.ALU and I.bpf_src(code) == I.K:
            self.opt_alu_k(s, val, alter)
        elif cls == I.ALU:
            self.opt_alu_x(s, val, alter)
        elif code == I.MISC | I.TXA:
            self.vstore(s, val, A_ATOM, val[X_ATOM], alter)
        elif cls == I.LD and mode == I.MEM:
            v = val[s.k]
            if alter and v in self.consts:
                s.code = I.LD | I.IMM
                s.k = self.consts[v]
                self.done = False
            self.vstore(s, val, A_ATOM, v, alter)
        elif code == I.MISC | I.TAX:
            self.vstore(s, val, X_ATOM, val[A_ATOM], alter)
        elif cls == I.LDX and mode == I.MEM:
            v = val[s.k]
            if alter and v in self.consts:
                s.code = I.LDX | I.IMM
                s.k = self.consts[v]
                self.done = False
            self.vstore(s, val, X_ATOM, v, alter)
        elif cls == I.ST:
            self.vstore(s, val, s.k, val[A_ATOM], alter)
        elif cls == I.STX:
            self.vstore(s, val, s.k, val[X_ATOM], alter)

    def opt_alu_k(self, s: Stmt, val: list[int], alter: bool) -> None:
        op = I.bpf_op(s.code)
        if alter:
            if s.k == 0:
                if op in (I.ADD, I.LSH, I.RSH, I.OR, I.XOR):
                    s.code = NOP
                    return
                if op in (I.MUL, I.AND):
                    s.code = I.LD | I.IMM
                    val[A_ATOM] = self.K(s.k)
                    return
            if val[A_ATOM] in self.consts:
                self.fold_op(s, val[A_ATOM], self.K(s.k))
                val[A_ATOM] = self.K(s.k)
                return
        val[A_ATOM] = self.F(s.code, val[A_ATOM], self.K(s.k))

    def opt_alu_x(self, s: Stmt, val: list[int], alter: bool) -> None:
        op = I.bpf_op(s.code)
        if alter and val[X_ATOM] in self.consts:
            if val[A_ATOM] in self.consts:
                self.fold_op(s, val[A_ATOM], val[X_ATOM])
                val[A_ATOM] = self.K(s.k)
            else:
                s.code = I.ALU | I.K | op
                s.k = self.consts[val[X_ATOM]] & U32
                self.done = False
                val[A_ATOM] = self.F(s.code, val[A_ATOM], self.K(s.k))
            return
        if alter and self.consts.get(val[A_ATOM], 1) == 0 and val[A_ATOM] in self.consts:
            if op in (I.ADD, I.OR, I.XOR):
                s.code = I.MISC | I.TXA
                self.vstore(s, val, A_ATOM, val[X_ATOM], alter)
                return
            if op in (I.MUL, I.DIV, I.MOD, I.AND, I.LSH, I.RSH):
                s.code = I.LD | I.IMM
                s.k = 0
                self.vstore(s, val, A_ATOM, self.K(s.k), alter)
                return
        val[A_ATOM] = self.F(s.code, val[A_ATOM], val[X_ATOM])

    # -- per-block passes --------------------------------------------------------------------
    @staticmethod
    def this_op(stmts: list[Stmt], i: int) -> int:
        while i < len(stmts) and stmts[i].code == NOP:
            i += 1
        return i

    def opt_peep(self, b: Block) -> None:
        st = b.stmts
        if not st:
            return
        inf = self.I(b)
        last = 0
        i = 0
        while True:
            i = self.this_op(st, i)
            if i >= len(st):
                break
            nxt = self.this_op(st, i + 1)
            if nxt >= len(st):
                break
            last = nxt
            s, n = st[i], st[nxt]
            if s.code == I.ST and n.code == I.LDX | I.MEM and s.k == n.k:
                self.done = False
                n.code = I.MISC | I.TAX
            if s.code == I.LD | I.IMM and n.code == I.MISC | I.TAX:
                s.code = I.LDX | I.IMM
                n.code = I.MISC | I.TXA
                self.done = False
            if s.code == I.LD | I.IMM and not inf.out_use >> X_ATOM & 1:
                add = nxt if n.code != I.LDX | I.MSH | I.B else self.this_op(st, nxt + 1)
                if add < len(st) and st[add].code == I.ALU | I.ADD | I.X:
                    tax = self.this_op(st, add + 1)
                    if tax < len(st) and st[tax].code == I.MISC | I.TAX:
                        ild = self.this_op(st, tax + 1)
                        if (
                            ild < len(st)
                            and I.bpf_class(st[ild].code) == I.LD
                            and I.bpf_mode(st[ild].code) == I.IND
                        ):
                            st[ild].k = (st[ild].k + s.k) & U32
                            s.code = NOP
                            st[add].code = NOP
                            st[tax].code = NOP
                            self.done = False
            i = nxt
        lst = st[last]
        if b.code == I.JMP | I.JEQ | I.K and not inf.out_use >> A_ATOM & 1:
            if lst.code == I.ALU | I.SUB | I.X:
                val = inf.val[X_ATOM]
                if val in self.consts:
                    b.k = (b.k + self.consts[val]) & U32
                    lst.code = NOP
                    self.done = False
                elif b.k == 0:
                    lst.code = NOP
                    b.code = I.JMP | I.JEQ | I.X
                    self.done = False
            elif lst.code == I.ALU | I.SUB | I.K:
                lst.code = NOP
                b.k = (b.k + lst.k) & U32
                self.done = False
            elif lst.code == I.ALU | I.AND | I.K and b.k == 0:
                b.k = lst.k
                b.code = I.JMP | I.K | I.JSET
                lst.code = NOP
                self.done = False
                b.jt, b.jf = b.jf, b.jt
        self.peep_branch(b, inf)

    def peep_branch(self, b: Block, inf: Any) -> None:
        if b.code == I.JMP | I.K | I.JSET:
            if b.k == 0:
                b.jt = b.jf
            if b.k & U32 == U32:
                b.jf = b.jt
        val = inf.val[X_ATOM]
        if val in self.consts and I.bpf_src(b.code) == I.X:
            b.code &= ~I.X
            b.k = self.consts[val] & U32
        val = inf.val[A_ATOM]
        if val in self.consts and I.bpf_src(b.code) == I.K:
            v = self.consts[val] & U32
            op = I.bpf_op(b.code)
            if op == I.JEQ:
                t = v == b.k
            elif op == I.JGT:
                t = v > b.k
            elif op == I.JGE:
                t = v >= b.k
            else:
                t = (v & b.k) != 0
            if b.jf is not b.jt:
                self.done = False
            if t:
                b.jf = b.jt
            else:
                b.jt = b.jf

    def opt_deadstores(self, b: Block) -> None:
        last: list[Stmt | None] = [None] * N_ATOMS
        branch = Stmt(b.code, b.k)
        for s in [*b.stmts, branch]:
            atom = atomuse(s.code, s.k)
            if atom >= 0:
                if atom == AX_ATOM:
                    last[X_ATOM] = last[A_ATOM] = None
                else:
                    last[atom] = None
            atom = atomdef(s.code, s.k)
            if atom >= 0:
                prev = last[atom]
                if prev is not None:
                    self.done = False
                    prev.code = NOP
                last[atom] = s
        out_use = self.I(b).out_use
        for atom in range(N_ATOMS):
            dead = last[atom]
            if dead is not None and not out_use >> atom & 1:
                dead.code = NOP
                self.done = False
