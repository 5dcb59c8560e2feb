"""A block-level optimiser in the spirit of libpcap's optimize.c.

Passes, repeated to a fixed point:

* **Jump threading.** Facts learnt on an edge (``ldh [12] == 0x800`` was true) flow down
  the DAG; an edge into a block whose branch is already decided by those facts is moved
  to that block's successor. Facts about packet loads never go stale (the packet does not
  change), so a fact from any dominating edge holds.
* **Pointless branches.** A block whose two edges meet is bypassed.
* **Interning.** Identical blocks (same statements, branch and successors) are merged.

Then, once: **redundant loads.** When every predecessor of a block leaves A (and X)
exactly as the block's first statements would, those statements are dropped.

A block may be skipped or re-entered only when it is *self-contained*: its statements set
A (and X, and any scratch memory they read) before using them. Every block libpcap's code
generator emits is, except ``byte N & V`` which tests A as it finds it; such blocks are
never threaded through or into.
"""

from __future__ import annotations

from pybpf.cbpf import insn as I
from pybpf.cbpf.blocks import Block, Stmt

Key = tuple[tuple[int, int], ...]
Fact = tuple[int, int, bool]  # (jump op, k, outcome)
Facts = dict[Key, frozenset[Fact]]


def _reads_a(code: int) -> bool:
    cls = I.bpf_class(code)
    if cls == I.ALU or cls == I.ST:
        return True
    return cls == I.MISC and code & 0xF8 == I.TAX


def _analyse(stmts: list[Stmt]) -> tuple[bool, bool]:
    """(self-contained, packet-pure): whether the block sets everything it reads."""
    a_set = x_set = False
    mem: set[int] = set()
    for s in stmts:
        code, cls = s.code, I.bpf_class(s.code)
        if _reads_a(code) and not a_set:
            return False, False
        if cls == I.ALU and I.bpf_src(code) == I.X and not x_set:
            return False, False
        if cls == I.LD and I.bpf_mode(code) == I.IND and not x_set:
            return False, False
        if cls == I.MISC and code & 0xF8 == I.TXA and not x_set:
            return False, False
        if (cls == I.LD or cls == I.LDX) and I.bpf_mode(code) == I.MEM and s.k not in mem:
            return False, False
        if cls == I.STX and not x_set:
            return False, False
        if cls == I.ST or cls == I.STX:
            mem.add(s.k)
        if cls == I.LD or (cls == I.MISC and code & 0xF8 == I.TXA):
            a_set = True
        if cls == I.LDX or (cls == I.MISC and code & 0xF8 == I.TAX):
            x_set = True
    return a_set, a_set


def _key(b: Block) -> Key | None:
    """The block's computation as a hashable key, if self-contained (else None)."""
    if b.is_ret:
        return None
    ok, _ = _analyse(b.stmts)
    if not ok:
        return None
    if I.bpf_src(b.code) == I.X:
        # A test against X: the key must cover X too, which it does (X is block-local).
        pass
    return tuple((s.code, s.k) for s in b.stmts)


def _const(key: Key) -> int | None:
    """A's value when the key touches no packet data (e.g. ``ld #1``)."""
    a = x = 0
    mem: dict[int, int] = {}
    for code, k in key:
        cls = I.bpf_class(code)
        if cls == I.LD and I.bpf_mode(code) == I.IMM:
            a = k
        elif cls == I.LDX and I.bpf_mode(code) == I.IMM:
            x = k
        elif cls == I.LD and I.bpf_mode(code) == I.MEM:
            a = mem[k]
        elif cls == I.LDX and I.bpf_mode(code) == I.MEM:
            x = mem[k]
        elif cls == I.ST:
            mem[k] = a
        elif cls == I.STX:
            mem[k] = x
        elif cls == I.MISC:
            if code & 0xF8 == I.TAX:
                x = a
            else:
                a = x
        elif cls == I.ALU:
            from pybpf.cbpf.vm import alu

            r = alu(I.bpf_op(code), a, x if I.bpf_src(code) == I.X else k)
            if r is None:
                return None
            a = r
        else:
            return None
    return a


def _test(op: int, a: int, k: int) -> bool:
    if op == I.JEQ:
        return a == k
    if op == I.JGT:
        return a > k
    if op == I.JGE:
        return a >= k
    return a & k != 0


def _decide(b: Block, key: Key, facts: Facts) -> bool | None:
    if I.bpf_src(b.code) == I.X:
        return None
    op, k = I.bpf_op(b.code), b.k & I.U32
    c = _const(key)
    if c is not None:
        return _test(op, c, k)
    for fop, fk, out in facts.get(key, ()):
        if fop == op and fk == k:
            return out
        if fop == I.JEQ and out:
            return _test(op, fk, k)
    return None


def _edge_facts(entry: Facts, b: Block, key: Key | None, outcome: bool) -> Facts:
    if key is None or I.bpf_src(b.code) == I.X:
        return entry
    new = dict(entry)
    new[key] = entry.get(key, frozenset()) | {(I.bpf_op(b.code), b.k & I.U32, outcome)}
    return new


def _meet(a: Facts | None, b: Facts) -> Facts:
    if a is None:
        return b
    return {k: a[k] & b[k] for k in a.keys() & b.keys() if a[k] & b[k]}


def _topo(root: Block) -> list[Block]:
    """Blocks reachable from ``root``, every block before its successors."""
    order: list[Block] = []
    seen: set[int] = {id(root)}
    stack: list[tuple[Block, int]] = [(root, 0)]
    while stack:
        node, i = stack.pop()
        kids = [k for k in (node.jt, node.jf) if k is not None]
        if i < len(kids):
            stack.append((node, i + 1))
            kid = kids[i]
            if id(kid) not in seen:
                seen.add(id(kid))
                stack.append((kid, 0))
        else:
            order.append(node)
    order.reverse()
    return order


class _Opt:
    def __init__(self, root: Block) -> None:
        self.root = root
        self.keys: dict[int, Key | None] = {}

    def key(self, b: Block) -> Key | None:
        if id(b) not in self.keys:
            self.keys[id(b)] = _key(b)
        return self.keys[id(b)]

    def contained(self, b: Block) -> bool:
        return b.is_ret or self.key(b) is not None

    def thread(self, facts: Facts, s: Block) -> Block:
        for _ in range(10000):
            if s.is_ret or s.jt is None or s.jf is None:
                return s
            key = self.key(s)
            if key is None:
                return s
            out = _decide(s, key, facts)
            if out is None:
                return s
            nxt = s.jt if out else s.jf
            if not self.contained(nxt):
                return s
            facts = _edge_facts(facts, s, key, out)
            s = nxt
        return s

    def pass_thread(self) -> bool:
        order = _topo(self.root)
        entry: dict[int, Facts | None] = {id(b): None for b in order}
        entry[id(self.root)] = {}
        changed = False
        # The root itself may be decided (a constant test).
        new_root = self.thread({}, self.root)
        if new_root is not self.root:
            self.root = new_root
            return True
        for b in order:
            facts = entry[id(b)] or {}
            key = self.key(b)
            for outcome in (True, False):
                succ = b.jt if outcome else b.jf
                if succ is None:
                    continue
                ef = _edge_facts(facts, b, key, outcome)
                tgt = self.thread(ef, succ)
                if tgt is not succ:
                    changed = True
                    if outcome:
                        b.jt = tgt
                    else:
                        b.jf = tgt
                # Facts for the (possibly new) target: meet over incoming edges.
                if id(tgt) in entry:
                    entry[id(tgt)] = _meet(entry[id(tgt)], ef)
        return changed

    def pass_bypass(self) -> bool:
        changed = False
        for b in _topo(self.root):
            for outcome in (True, False):
                s = b.jt if outcome else b.jf
                while (
                    s is not None
                    and not s.is_ret
                    and s.jt is s.jf
                    and s.jt is not None
                    and self.key(s) is not None
                    and self.contained(s.jt)
                ):
                    s = s.jt
                    changed = True
                if outcome:
                    b.jt = s
                else:
                    b.jf = s
        r = self.root
        while not r.is_ret and r.jt is r.jf and r.jt is not None and self.key(r) is not None:
            r = r.jt
            changed = True
        self.root = r
        return changed

    def pass_intern(self) -> bool:
        changed = False
        canon: dict[tuple[object, ...], Block] = {}
        for b in reversed(_topo(self.root)):
            if b.jt is not None and (b.jt.mark or 0) and False:
                pass
            sig = (
                b.code,
                b.k & I.U32,
                tuple((s.code, s.k) for s in b.stmts),
                id(b.jt) if b.jt else 0,
                id(b.jf) if b.jf else 0,
            )
            other = canon.get(sig)
            if other is None:
                canon[sig] = b
                continue
            changed = True
            for p in _topo(self.root):
                if p.jt is b:
                    p.jt = other
                if p.jf is b:
                    p.jf = other
            if self.root is b:
                self.root = other
        return changed

    def drop_redundant_loads(self) -> None:
        order = _topo(self.root)
        preds: dict[int, list[Block]] = {id(b): [] for b in order}
        for b in order:
            for s in (b.jt, b.jf):
                if s is not None:
                    preds[id(s)].append(b)
        orig = {id(b): self.key(b) for b in order}
        for b in order:
            ps = preds[id(b)]
            if not ps or b.is_ret:
                continue
            keys = {orig[id(p)] for p in ps}
            if len(keys) != 1:
                continue
            (k,) = keys
            if not k:
                continue
            mine = tuple((s.code, s.k) for s in b.stmts)
            if mine[: len(k)] == k:
                b.stmts = b.stmts[len(k) :]


def optimize(root: Block) -> Block:
    """Optimise the block graph rooted at ``root``; returns the new root."""
    opt = _Opt(root)
    for _ in range(1000):
        changed = opt.pass_thread()
        changed |= opt.pass_bypass()
        changed |= opt.pass_intern()
        if not changed:
            break
    opt.drop_redundant_loads()
    return opt.root
