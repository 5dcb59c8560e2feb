"""The optimiser: libpcap's optimize.c algorithm, re-expressed in Python.

It works on the block DAG the code generator built and runs, like libpcap:

1. passes of value numbering (each block's registers and scratch cells get value numbers
   that flow down from its predecessors), peephole rewrites, dead-store removal and
   *jump threading* along edge dominators (an edge into a block whose test was already
   decided by a dominating edge on the same value is moved past it), then the "or/and
   pull-up" that reorders chains of tests on one value -- until a pass changes nothing;
2. the same passes again, now allowed to rewrite statements (constant folding,
   ``ld [x+k]`` with a known X becoming ``ld [k']``, redundant loads removed);
3. interning of identical blocks, and removal of branches at the root whose two edges meet.

Block numbering, level lists, in-edge order and the order edge dominators are tried are
all kept as libpcap keeps them, because they decide which of several equivalent programs
comes out: the goal is the same listing as ``tcpdump -d``.
"""

from __future__ import annotations

from pybpf.cbpf import insn as I
from pybpf.cbpf.blocks import NOP, Block, Stmt
from pybpf.cbpf.lexer import FilterError

A_ATOM = I.MEMWORDS
X_ATOM = I.MEMWORDS + 1
N_ATOMS = I.MEMWORDS + 2
AX_ATOM = N_ATOMS
U32 = I.U32


class Edge:
    """One of a block's two out-edges (``t`` or ``f``)."""

    __slots__ = ("code", "edom", "id", "next", "pred", "side")

    def __init__(self, pred: Block, side: str, eid: int) -> None:
        self.pred = pred
        self.side = side
        self.id = eid
        self.code = 0
        self.edom = 0
        self.next: Edge | None = None

    @property
    def succ(self) -> Block | None:
        return self.pred.jt if self.side == "t" else self.pred.jf

    @succ.setter
    def succ(self, b: Block | None) -> None:
        if self.side == "t":
            self.pred.jt = b
        else:
            self.pred.jf = b


class _Info:
    """Per-block optimiser state (libpcap keeps it inside struct block)."""

    __slots__ = (
        "def_",
        "dom",
        "ef",
        "et",
        "in_edges",
        "in_use",
        "kill",
        "level",
        "link",
        "out_use",
        "oval",
        "val",
    )  # fmt: skip

    def __init__(self) -> None:
        self.val = [0] * N_ATOMS
        self.level = 0
        self.link: Block | None = None
        self.dom = 0
        self.in_edges: Edge | None = None
        self.def_ = self.kill = self.in_use = self.out_use = 0
        self.oval = 0
        self.et: Edge
        self.ef: Edge


def _atomuse(code: int, k: int) -> int:
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


def _atomdef(code: int, k: int) -> int:
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


class _Optimizer:
    def __init__(self, root: Block) -> None:
        self.root = root
        self.done = True
        self.blocks: list[Block] = []
        self.info: dict[int, _Info] = {}
        self._number(root)
        self.n_blocks = len(self.blocks)
        self.edges: list[Edge] = [None] * (2 * self.n_blocks)  # type: ignore[list-item]
        for i, b in enumerate(self.blocks):
            inf = self.info[id(b)]
            inf.et = Edge(b, "t", i)
            inf.ef = Edge(b, "f", self.n_blocks + i)
            self.edges[i] = inf.et
            self.edges[self.n_blocks + i] = inf.ef
        self.levels: list[Block | None] = []
        self.vn: dict[tuple[int, int, int], int] = {}
        self.consts: dict[int, int] = {}
        self.curval = 0

    @staticmethod
    def I(b: Block) -> _Info:  # noqa: E743 -- short accessor used everywhere
        return b.opt  # type: ignore[return-value]

    def _number(self, root: Block) -> None:
        stack: list[Block | None] = [root]
        while stack:
            p = stack.pop()
            if p is None or id(p) in self.info:
                continue
            p.id = len(self.blocks)
            self.blocks.append(p)
            self.info[id(p)] = p.opt = _Info()
            stack.append(p.jf)
            stack.append(p.jt)

    # -- graph analyses --------------------------------------------------------------------
    def find_levels(self) -> None:
        self.levels = [None] * (self.n_blocks + 1)
        seen: set[int] = set()
        # Post-order DFS (JT then JF), pushing each finished block onto its level's list.
        stack: list[tuple[Block, int]] = [(self.root, 0)]
        seen.add(id(self.root))
        while stack:
            b, state = stack.pop()
            kids = [b.jt, b.jf] if b.jt is not None else []
            if state < len(kids):
                stack.append((b, state + 1))
                kid = kids[state]
                assert kid is not None
                if id(kid) not in seen:
                    seen.add(id(kid))
                    stack.append((kid, 0))
                continue
            inf = self.I(b)
            if b.jt is not None:
                assert b.jf is not None
                level = max(self.I(b.jt).level, self.I(b.jf).level) + 1
            else:
                level = 0
            inf.level = level
            inf.link = self.levels[level]
            self.levels[level] = b

    def level_blocks(self, i: int) -> list[Block]:
        out = []
        b = self.levels[i]
        while b is not None:
            out.append(b)
            b = self.I(b).link
        return out

    def find_dom(self) -> None:
        full = (1 << self.n_blocks) - 1
        for b in self.blocks:
            self.I(b).dom = full
        self.I(self.root).dom = 0
        for i in range(self.I(self.root).level, -1, -1):
            for b in self.level_blocks(i):
                inf = self.I(b)
                inf.dom |= 1 << b.id
                if b.jt is None:
                    continue
                assert b.jf is not None
                self.I(b.jt).dom &= inf.dom
                self.I(b.jf).dom &= inf.dom

    def find_edom(self) -> None:
        full = (1 << (2 * self.n_blocks)) - 1
        for e in self.edges:
            e.edom = full
        r = self.I(self.root)
        r.et.edom = 0
        r.ef.edom = 0
        for i in range(r.level, -1, -1):
            for b in self.level_blocks(i):
                inf = self.I(b)
                for ep in (inf.et, inf.ef):
                    ep.edom |= 1 << ep.id
                    succ = ep.succ
                    if succ is not None:
                        si = self.I(succ)
                        si.et.edom &= ep.edom
                        si.ef.edom &= ep.edom

    def compute_local_ud(self, b: Block) -> None:
        def_ = use = killed = 0
        items = [(s.code, s.k) for s in b.stmts if s.code != NOP]
        for code, k in items:
            atom = _atomuse(code, k)
            if atom >= 0:
                if atom == AX_ATOM:
                    if not def_ >> X_ATOM & 1:
                        use |= 1 << X_ATOM
                    if not def_ >> A_ATOM & 1:
                        use |= 1 << A_ATOM
                elif not def_ >> atom & 1:
                    use |= 1 << atom
            atom = _atomdef(code, k)
            if atom >= 0:
                if not use >> atom & 1:
                    killed |= 1 << atom
                def_ |= 1 << atom
        if I.bpf_class(b.code) == I.JMP:
            atom = _atomuse(b.code, b.k)
            if atom == AX_ATOM:
                if not def_ >> X_ATOM & 1:
                    use |= 1 << X_ATOM
                if not def_ >> A_ATOM & 1:
                    use |= 1 << A_ATOM
            elif atom >= 0 and not def_ >> atom & 1:
                use |= 1 << atom
        inf = self.I(b)
        inf.def_, inf.kill, inf.in_use = def_, killed, use

    def find_ud(self) -> None:
        maxlevel = self.I(self.root).level
        for i in range(maxlevel, -1, -1):
            for p in self.level_blocks(i):
                self.compute_local_ud(p)
                self.I(p).out_use = 0
        for i in range(1, maxlevel + 1):
            for p in self.level_blocks(i):
                inf = self.I(p)
                assert p.jt is not None and p.jf is not None
                inf.out_use |= self.I(p.jt).in_use | self.I(p.jf).in_use
                inf.in_use |= inf.out_use & ~inf.kill

    def find_inedges(self) -> None:
        for b in self.blocks:
            self.I(b).in_edges = None
        for i in range(self.I(self.root).level, 0, -1):
            for b in self.level_blocks(i):
                inf = self.I(b)
                for ep in (inf.et, inf.ef):
                    succ = ep.succ
                    assert succ is not None
                    si = self.I(succ)
                    ep.next = si.in_edges
                    si.in_edges = ep

    # -- value numbering --------------------------------------------------------------------
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

    def peep_branch(self, b: Block, inf: _Info) -> None:
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
            atom = _atomuse(s.code, s.k)
            if atom >= 0:
                if atom == AX_ATOM:
                    last[X_ATOM] = last[A_ATOM] = None
                else:
                    last[atom] = None
            atom = _atomdef(s.code, s.k)
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

    def opt_blk(self, b: Block, do_stmts: bool) -> None:
        inf = self.I(b)
        p = inf.in_edges
        if p is None:
            inf.val = [0] * N_ATOMS
        else:
            inf.val = list(self.I(p.pred).val)
            p = p.next
            while p is not None:
                pv = self.I(p.pred).val
                for i in range(N_ATOMS):
                    if inf.val[i] != pv[i]:
                        inf.val[i] = 0
                p = p.next
        aval, xval = inf.val[A_ATOM], inf.val[X_ATOM]
        for s in b.stmts:
            self.opt_stmt(s, inf.val, do_stmts)
        if do_stmts and (
            (
                inf.out_use == 0
                and aval != 0
                and inf.val[A_ATOM] == aval
                and xval != 0
                and inf.val[X_ATOM] == xval
            )
            or I.bpf_class(b.code) == I.RET
        ):
            if b.stmts:
                b.stmts = []
                self.done = False
        else:
            self.opt_peep(b)
            self.opt_deadstores(b)
        inf.oval = self.K(b.k) if I.bpf_src(b.code) == I.K else inf.val[X_ATOM]
        inf.et.code = b.code
        inf.ef.code = -b.code

    # -- branch movement ---------------------------------------------------------------------
    def use_conflict(self, b: Block, succ: Block) -> bool:
        si = self.I(succ)
        use = si.out_use
        if use == 0:
            return False
        bv = self.I(b).val
        return any(use >> a & 1 and bv[a] != si.val[a] for a in range(N_ATOMS))

    def fold_edge(self, child: Block, ep: Edge) -> Block | None:
        code = ep.code
        sense = code >= 0
        if not sense:
            code = -code
        if child.code != code:
            return None
        ci, pi = self.I(child), self.I(ep.pred)
        if ci.val[A_ATOM] != pi.val[A_ATOM]:
            return None
        if ci.oval == pi.oval:
            return child.jt if sense else child.jf
        if sense and code == I.JMP | I.JEQ | I.K:
            return child.jf
        return None

    def opt_j(self, ep: Edge) -> None:
        succ = ep.succ
        assert succ is not None
        if succ.jt is None:
            return
        if succ.jt is succ.jf and not self.use_conflict(ep.pred, succ.jt):
            self.done = False
            ep.succ = succ.jt
        restart = True
        while restart:
            restart = False
            x = ep.edom
            while x:
                low = x & -x
                k = low.bit_length() - 1
                x ^= low
                cur = ep.succ
                assert cur is not None
                target = self.fold_edge(cur, self.edges[k])
                if target is not None and not self.use_conflict(ep.pred, target):
                    self.done = False
                    ep.succ = target
                    if target.jt is not None:
                        restart = True
                        break
                    return

    def pullup(self, b: Block, fwd: str) -> None:
        """libpcap's or_pullup (fwd "f") and and_pullup (fwd "t")."""
        back = "t" if fwd == "f" else "f"
        inf = self.I(b)
        ep = inf.in_edges
        if ep is None:
            return
        val = self.I(ep.pred).val[A_ATOM]
        e2 = ep.next
        while e2 is not None:
            if self.I(e2.pred).val[A_ATOM] != val:
                return
            e2 = e2.next

        def get(ref: tuple[Block, str]) -> Block | None:
            return ref[0].jt if ref[1] == "t" else ref[0].jf

        def put(ref: tuple[Block, str], v: Block | None) -> None:
            if ref[1] == "t":
                ref[0].jt = v
            else:
                ref[0].jf = v

        first = ep.pred
        diffp = (first, "t") if first.jt is b else (first, "f")
        at_top = True
        same_side = getattr(b, "j" + back)
        while True:
            d = get(diffp)
            if d is None or getattr(d, "j" + back) is not same_side:
                return
            if not self.I(d).dom >> b.id & 1:
                return
            if self.I(d).val[A_ATOM] != val:
                break
            diffp = (d, fwd)
            at_top = False
        d = get(diffp)
        assert d is not None
        samep = (d, fwd)
        while True:
            s = get(samep)
            if s is None or getattr(s, "j" + back) is not same_side:
                return
            if not self.I(s).dom >> b.id & 1:
                return
            if self.I(s).val[A_ATOM] == val:
                break
            samep = (s, fwd)
        pull = get(samep)
        assert pull is not None
        put(samep, getattr(pull, "j" + fwd))
        put((pull, fwd), get(diffp))
        if at_top:
            e3 = inf.in_edges
            while e3 is not None:
                if e3.pred.jt is b:
                    e3.pred.jt = pull
                else:
                    e3.pred.jf = pull
                e3 = e3.next
        else:
            put(diffp, pull)
        self.done = False

    def opt_blks(self, do_stmts: bool) -> None:
        self.vn.clear()
        self.consts.clear()
        self.curval = 0
        maxlevel = self.I(self.root).level
        self.find_inedges()
        for i in range(maxlevel, -1, -1):
            for p in self.level_blocks(i):
                self.opt_blk(p, do_stmts)
        if do_stmts:
            return
        for i in range(1, maxlevel + 1):
            for p in self.level_blocks(i):
                self.opt_j(self.I(p).et)
                self.opt_j(self.I(p).ef)
        self.find_inedges()
        for i in range(1, maxlevel + 1):
            for p in self.level_blocks(i):
                self.pullup(p, "f")
                self.pullup(p, "t")

    def opt_loop(self, do_stmts: bool) -> None:
        for _ in range(1000):
            self.done = True
            self.find_levels()
            self.find_dom()
            self.find_ud()
            self.find_edom()
            self.opt_blks(do_stmts)
            if self.done:
                return

    # -- final passes ------------------------------------------------------------------------
    def intern_blocks(self) -> None:
        """Merge identical live blocks: each block defers to the lowest-numbered identical
        block above it (libpcap scans pairs; a signature map finds the same partner)."""
        while True:
            links: dict[int, Block] = {}
            live = self._reachable()
            latest: dict[tuple[object, ...], int] = {}
            for i in range(self.n_blocks - 1, -1, -1):
                bi = self.blocks[i]
                if id(bi) not in live:
                    continue
                sig = self._signature(bi)
                j = latest.get(sig)
                if j is not None:
                    bj = self.blocks[j]
                    links[id(bi)] = links.get(id(bj), bj)
                latest[sig] = i
            changed = False
            for p in self.blocks:
                if p.jt is None:
                    continue
                assert p.jf is not None
                if id(p.jt) in links:
                    changed = True
                    p.jt = links[id(p.jt)]
                if id(p.jf) in links:
                    changed = True
                    p.jf = links[id(p.jf)]
            if not changed:
                return

    @staticmethod
    def _signature(b: Block) -> tuple[object, ...]:
        stmts = tuple((s.code, s.k) for s in b.stmts if s.code != NOP)
        return (b.code, b.k, id(b.jt), id(b.jf), stmts)

    def _reachable(self) -> set[int]:
        seen: set[int] = set()
        stack = [self.root]
        while stack:
            p = stack.pop()
            if id(p) in seen:
                continue
            seen.add(id(p))
            if I.bpf_class(p.code) != I.RET:
                assert p.jt is not None and p.jf is not None
                stack += [p.jt, p.jf]
        return seen

    def opt_root(self) -> None:
        b = self.root
        s = b.stmts
        b.stmts = []
        while I.bpf_class(b.code) == I.JMP and b.jt is b.jf:
            assert b.jt is not None
            b = b.jt
        b.stmts = s + b.stmts
        if I.bpf_class(b.code) == I.RET:
            b.stmts = []
        self.root = b


def optimize(root: Block) -> Block:
    """Optimise the block graph rooted at ``root`` in place; returns the new root."""
    opt = _Optimizer(root)
    opt.opt_loop(False)
    opt.opt_loop(True)
    opt.intern_blocks()
    opt.opt_root()
    return opt.root
