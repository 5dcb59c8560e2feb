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
from pybpf.cbpf.blocks import NOP, Block
from pybpf.cbpf.optimize_stmts import (
    A_ATOM,
    AX_ATOM,
    N_ATOMS,
    X_ATOM,
    StmtOptimizer,
    atomdef,
    atomuse,
)


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


class _Optimizer(StmtOptimizer):
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
            atom = atomuse(code, k)
            if atom >= 0:
                if atom == AX_ATOM:
                    if not def_ >> X_ATOM & 1:
                        use |= 1 << X_ATOM
                    if not def_ >> A_ATOM & 1:
                        use |= 1 << A_ATOM
                elif not def_ >> atom & 1:
                    use |= 1 << atom
            atom = atomdef(code, k)
            if atom >= 0:
                if not use >> atom & 1:
                    killed |= 1 << atom
                def_ |= 1 << atom
        if I.bpf_class(b.code) == I.JMP:
            atom = atomuse(b.code, b.k)
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
