"""The abstract interpreter: walks every path with register and stack states.

States are compared at prune points (jump targets, branch fall-throughs, call returns).
A new state that an already *finished* state subsumes is pruned; one that a state still
being explored on the same path subsumes means the loop can repeat forever, so the
program is rejected (the kernel's "infinite loop detected"). Bounded loops verify by
exploring each iteration.
"""

from __future__ import annotations

from collections.abc import Mapping

from pybpf.asm.insn import Insn
from pybpf.records import dataclass, field, replace
from pybpf.verifier import scalar as sc
from pybpf.verifier.alu import do_alu
from pybpf.verifier.calls import do_call, do_exit
from pybpf.verifier.cfg import Cfg, Reject, build, jump_target, live_registers
from pybpf.verifier.jumps import do_cond
from pybpf.verifier.memcheck import mem_access
from pybpf.verifier.progtypes import PROG_TYPES, ProgType
from pybpf.verifier.state import NOT_INIT, Frame, Kind, MapInfo, Reg, State, scalar

MAX_PROCESSED = 200_000
"""Instructions processed before giving up (the kernel allows 1M; Python is slower, so a
program needing more than this is rejected here though the kernel might accept it)."""
MAX_LOOP_ITERS = 8192
"""Visits of one loop head along one path before the loop counts as unproven."""
MAX_STATES_PER_INSN = 64
_SIZES = {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}


@dataclass
class Issue:
    """Why a program was rejected: the instruction index, the message, the source span."""

    pc: int
    message: str
    span: object | None = None

    def __str__(self) -> str:
        return f"{self.pc}: {self.message}"


@dataclass
class Verdict:
    """The outcome of verification."""

    ok: bool
    error: Issue | None = None
    processed: int = 0
    states: int = 0
    log: list[str] = field(default_factory=list)


class _Node:
    __slots__ = ("branches", "hits", "iters", "misses", "parent", "pc", "state")

    def __init__(self, pc: int, state: State, parent: _Node | None) -> None:
        self.pc = pc
        self.state = state
        self.parent = parent
        self.branches = 1
        self.hits = 0
        self.misses = 0
        # how many times this path has come round to ``pc`` (a loop's iteration count)
        self.iters = 1
        up, steps = parent, 0
        while up is not None and steps < 64:
            if up.pc == pc:
                self.iters = up.iters + 1
                break
            up, steps = up.parent, steps + 1


class Verifier:
    """One verification run over one program."""

    def __init__(
        self,
        insns: list[Insn],
        prog_type: str | ProgType = "socket_filter",
        maps: Mapping[int, MapInfo] | None = None,
        mem_size: int = 0,
        allow_loops: bool = True,
        max_processed: int = MAX_PROCESSED,
        privileged: bool = True,
        max_loop_iters: int = MAX_LOOP_ITERS,
    ) -> None:
        self.insns = insns
        pt = PROG_TYPES[prog_type] if isinstance(prog_type, str) else prog_type
        self.pt = replace(pt, uninit_stack=privileged)
        self.maps = dict(maps or {})
        self.mem_size = mem_size
        self.allow_loops = allow_loops
        self.max_processed = max_processed
        self.max_loop_iters = max_loop_iters
        self.processed = 0
        self.next_id = 0
        self.cfg: Cfg | None = None
        self.stack_depth: dict[int, int] = {}
        self.call_edges: set[tuple[int, int]] = set()

    def new_id(self) -> int:
        """A fresh id for null-check / packet-range / reference tracking."""
        self.next_id += 1
        return self.next_id

    # -- driver ---------------------------------------------------------------------------
    def run(self) -> Verdict:
        """Verify; never raises for a bad program (the verdict says why)."""
        nstates = 0
        try:
            self.cfg = cfg = build(self.insns, self.allow_loops)
            live = live_registers(cfg)
            explored: dict[int, dict[tuple[object, ...], list[_Node]]] = {}
            by_key: dict[int, dict[tuple[object, ...], _Node]] = {}
            work: list[tuple[int, State, _Node | None]] = [(0, self.initial_state(), None)]
            while work:
                pc, st, node = work.pop()
                while True:
                    if pc in cfg.prune_points:
                        _forget_dead(st, live[pc])
                        key = st.key()
                        exact = by_key.setdefault(pc, {})
                        same = exact.get(key)
                        if same is not None and same.branches > 0:
                            raise Reject(pc, f"infinite loop detected at insn {pc}")
                        bucket = explored.setdefault(pc, {}).setdefault(_signature(st), [])
                        if same is not None or self._covered(bucket, st):
                            _finish(node)
                            break
                        node = _Node(pc, st.copy(), node)
                        if node.iters > self.max_loop_iters:
                            raise Reject(
                                pc,
                                f"BPF program is too large: the loop at insn {pc} is not "
                                f"proven to end after {self.max_loop_iters} iterations",
                            )
                        nstates += 1
                        exact[key] = node
                        if len(bucket) >= MAX_STATES_PER_INSN:
                            bucket.pop(0)
                        bucket.append(node)
                    self.processed += 1
                    if self.processed > self.max_processed:
                        raise Reject(
                            pc,
                            f"BPF program is too large. Processed {self.processed} insn",
                        )
                    succ = self.step(pc, st)
                    if not succ:
                        _finish(node)
                        break
                    for other in succ[1:]:
                        if node is not None:
                            node.branches += 1
                        work.append((other[0], other[1], node))
                    pc, st = succ[0]
            self.check_stack_depth()
        except Reject as e:
            span = self._span(e.pc)
            return Verdict(
                False,
                Issue(e.pc, e.message, span),
                self.processed,
                nstates,
                [f"{e.pc}: {e.message}", self._stats(nstates)],
            )
        return Verdict(True, None, self.processed, nstates, [self._stats(nstates)])

    @staticmethod
    def _covered(seen: object, st: State) -> bool:
        """A finished state here subsumes ``st``: every path from ``st`` is already safe.

        States still being explored (a loop around us) do not count: pruning against them
        would accept a loop without proving that it ends. Finished states that keep failing
        to match are dropped (as the kernel does), which only costs pruning, not safety.
        """
        assert isinstance(seen, list)
        for old in list(seen):
            if old.branches:
                continue
            if old.state.subsumes(st):
                old.hits += 1
                return True
            old.misses += 1
            if old.misses > old.hits * 3 + 3:
                seen.remove(old)
        return False

    def _stats(self, nstates: int) -> str:
        return (
            f"processed {self.processed} insns (limit {self.max_processed}) total_states {nstates}"
        )

    def _span(self, pc: int) -> object | None:
        if self.cfg is None:
            return None
        if 0 <= pc < len(self.cfg.slots):
            insn = self.cfg.slots[pc] or self.cfg.slots[pc - 1]
            return insn.span if insn is not None else None
        return None

    def initial_state(self) -> State:
        """r1 = context (or the conformance buffer), r10 = frame pointer."""
        regs = [NOT_INIT] * 11
        if self.pt.name == "conformance":
            regs[1] = Reg(Kind.MEM, size=self.mem_size)
            regs[2] = scalar(sc.const(self.mem_size))
        else:
            regs[1] = Reg(Kind.CTX)
        regs[10] = Reg(Kind.STACK, frame=0)
        return State([Frame(regs)])

    def check_stack_depth(self) -> None:
        """Stack of all frames of the deepest call chain within 512 bytes."""

        def depth(f: int, seen: frozenset[int]) -> int:
            own = (
                max(32, (self.stack_depth.get(f, 0) + 31) // 32 * 32)
                if f
                else (self.stack_depth.get(f, 0))
            )
            subs = [depth(c, seen | {c}) for (a, c) in self.call_edges if a == f and c not in seen]
            return own + max(subs, default=0)

        total = depth(0, frozenset({0}))
        if total > 512:
            raise Reject(0, f"combined stack size of calls is {total}. Too large")

    # -- one instruction ------------------------------------------------------------------
    def step(self, pc: int, st: State) -> list[tuple[int, State]]:
        """Apply the instruction at ``pc`` to ``st``; return the successor (pc, state) pairs."""
        assert self.cfg is not None
        insn = self.cfg.slots[pc]
        assert insn is not None
        cls = insn.opcode & 0x07
        if cls in (0x04, 0x07):
            do_alu(self, pc, insn, st)
            return [(pc + 1, st)]
        if cls in (0x05, 0x06):
            code = insn.opcode & 0xF0
            if code == 0x00:
                return [(jump_target(pc, insn), st)]
            if code == 0x90:
                return do_exit(self, pc, st)
            if code == 0x80:
                return do_call(self, pc, insn, st)
            return do_cond(self, pc, insn, st)
        if insn.opcode == 0x18:
            self.lddw(pc, insn, st)
            return [(pc + 2, st)]
        self.mem(pc, insn, st)
        return [(pc + 1, st)]

    def lddw(self, pc: int, insn: Insn, st: State) -> None:
        """``lddw``: a constant, a map, a map value address or a function."""
        if insn.dst == 10:
            raise Reject(pc, "frame pointer is read only")
        regs = st.cur.regs
        if insn.src == 0:
            regs[insn.dst] = scalar(sc.const(insn.imm))
            return
        if insn.src == 4:
            # off holds the target slot, so a callback argument knows what it calls
            lo = insn.imm & 0xFFFF_FFFF
            regs[insn.dst] = Reg(Kind.FUNC, off=pc + 1 + (lo - (1 << 32) if lo >> 31 else lo))
            return
        fd = insn.imm & 0xFFFF_FFFF
        info = self.maps.get(fd)
        if info is None:
            raise Reject(pc, f"fd {fd} is not pointing to valid bpf_map")
        if insn.src in (1, 5):
            regs[insn.dst] = Reg(Kind.MAP_PTR, map=info)
            return
        off = insn.imm >> 32
        if info.map_type != 2:
            raise Reject(pc, "direct value access on this map type is not supported")
        if off >= info.value_size:
            raise Reject(
                pc, f"invalid access to map value pointer, value_size={info.value_size} off={off}"
            )
        regs[insn.dst] = Reg(Kind.MAP_VALUE, off=off, map=info)

    def _align(self, pc: int, st: State, regno: int, off: int, size: int, strict: bool) -> None:
        r = st.cur.regs[regno]
        if not (strict or r.kind is Kind.STACK) or size == 1:
            return
        total = r.off + off + r.var.t.value
        if r.var.t.mask & (size - 1) or total % size:
            what = "stack " if r.kind is Kind.STACK else ""
            raise Reject(pc, f"misaligned {what}access off {r.off}+{off} size {size}")

    def _note_stack(self, st: State, regno: int, off: int) -> None:
        r = st.cur.regs[regno]
        if r.kind is Kind.STACK:
            f = st.frames[r.frame]
            d = -(r.off + off + r.var.smin)
            self.stack_depth[f.entry] = max(self.stack_depth.get(f.entry, 0), d)

    def mem(self, pc: int, insn: Insn, st: State) -> None:
        """Loads, stores and atomics."""
        regs = st.cur.regs
        cls = insn.opcode & 0x07
        size = _SIZES[insn.opcode & 0x18]
        if cls == 0x01:
            if insn.dst == 10:
                raise Reject(pc, "frame pointer is read only")
            self._align(pc, st, insn.src, insn.off, size, False)
            v = mem_access(pc, st, self.pt, insn.src, insn.off, size, False)
            assert v is not None
            self._note_stack(st, insn.src, insn.off)
            if insn.opcode & 0xE0 == 0x80:
                v = scalar(sc.sext_bits(v.var, size * 8))
            regs[insn.dst] = v
            return
        if cls == 0x02:
            self._align(pc, st, insn.dst, insn.off, size, False)
            mem_access(pc, st, self.pt, insn.dst, insn.off, size, True, scalar(sc.const(insn.imm)))
            self._note_stack(st, insn.dst, insn.off)
            return
        src = regs[insn.src]
        if src.kind is Kind.NOT_INIT:
            raise Reject(pc, f"R{insn.src} !read_ok")
        if insn.opcode & 0xE0 == 0x60:
            self._align(pc, st, insn.dst, insn.off, size, False)
            mem_access(
                pc,
                st,
                self.pt,
                insn.dst,
                insn.off,
                size,
                True,
                src
                if size == 8
                else (
                    src
                    if src.is_ptr
                    else scalar(
                        sc.cast32(src.var) if size == 4 else sc.bounded(0, (1 << (size * 8)) - 1)
                    )
                ),
            )
            self._note_stack(st, insn.dst, insn.off)
            return
        self.atomic(pc, insn, st, size)

    def atomic(self, pc: int, insn: Insn, st: State, size: int) -> None:
        """Atomic read-modify-write: a scalar operand on stack, map value or memory."""
        regs = st.cur.regs
        dst = regs[insn.dst]
        if dst.kind not in (Kind.STACK, Kind.MAP_VALUE, Kind.MEM):
            if dst.kind is Kind.NOT_INIT:
                raise Reject(pc, f"R{insn.dst} !read_ok")
            raise Reject(pc, f"BPF_ATOMIC stores into R{insn.dst} {dst.kind.value} is not allowed")
        if regs[insn.src].is_ptr:
            raise Reject(pc, f"R{insn.src} leaks addr into mem")
        if insn.imm == 0xF1 and regs[0].kind is Kind.NOT_INIT:
            raise Reject(pc, "R0 !read_ok")
        if insn.imm == 0xF1 and regs[0].is_ptr:
            raise Reject(pc, "R0 leaks addr into mem")
        self._align(pc, st, insn.dst, insn.off, size, True)
        old = mem_access(pc, st, self.pt, insn.dst, insn.off, size, False)
        assert old is not None
        if old.is_ptr:
            raise Reject(pc, f"R{insn.dst} atomic on a spilled pointer")
        mem_access(pc, st, self.pt, insn.dst, insn.off, size, True, None)
        self._note_stack(st, insn.dst, insn.off)
        fetched = scalar(sc.bounded(0, (1 << (size * 8)) - 1))
        if insn.imm == 0xF1:
            regs[0] = fetched
        elif insn.imm & 0x01:
            regs[insn.src] = fetched


def _signature(st: State) -> tuple[object, ...]:
    """The constant registers of the current frame: a state can only be subsumed by one
    with the same constants there, so states are compared within these buckets only (a
    more general state with a non-constant register is missed: less pruning, still safe)."""
    return tuple(
        (i, r.var.value)
        for i, r in enumerate(st.cur.regs)
        if r.kind is Kind.SCALAR and r.var.is_const
    )


def _forget_dead(st: State, live: frozenset[int]) -> None:
    """Dead registers of the current frame become NOT_INIT (no path reads them again)."""
    regs = st.cur.regs
    for i in range(10):
        if i not in live and regs[i] is not NOT_INIT:
            regs[i] = NOT_INIT


def _finish(node: _Node | None) -> None:
    """A path ended: its checkpoints with no live paths left become finished."""
    while node is not None:
        node.branches -= 1
        if node.branches > 0:
            return
        node = node.parent


__all__ = ["Issue", "Verdict", "Verifier"]
