"""Control-flow checks done before abstract interpretation (the kernel's ``check_cfg``).

Every instruction well formed; jumps land on an instruction inside their own function;
each function ends in ``exit`` or ``ja``; every instruction reachable; back-edges reported
when loops are not allowed.
"""

from __future__ import annotations

from pybpf.asm.insn import Insn
from pybpf.records import dataclass
from pybpf.verifier.opcheck import check_insn


class Reject(Exception):
    """A verdict against the program at instruction ``pc``."""

    def __init__(self, pc: int, message: str) -> None:
        super().__init__(message)
        self.pc = pc
        self.message = message


@dataclass
class Cfg:
    """The program by slot, with its functions and the points where states are compared."""

    slots: list[Insn | None]
    funcs: list[int]
    prune_points: set[int]
    back_edges: list[tuple[int, int]]

    def func_of(self, pc: int) -> int:
        """Entry of the function holding ``pc``."""
        best = 0
        for f in self.funcs:
            if f <= pc:
                best = f
        return best

    def func_end(self, entry: int) -> int:
        """One past the last slot of the function starting at ``entry``."""
        later = [f for f in self.funcs if f > entry]
        return later[0] if later else len(self.slots)


def jump_target(pc: int, insn: Insn) -> int:
    """Where the branch at ``pc`` goes (``gotol`` takes its offset from imm)."""
    return pc + 1 + (insn.imm if insn.opcode == 0x06 else insn.off)


def _is_branch(insn: Insn) -> bool:
    return insn.opcode & 0x07 in (0x05, 0x06) and insn.opcode & 0xF0 not in (0x80, 0x90)


def build(insns: list[Insn], allow_loops: bool = True) -> Cfg:
    """Check the structure of ``insns``; raise :class:`Reject` on the first problem."""
    if not insns:
        raise Reject(0, "empty program")
    slots: list[Insn | None] = []
    for one in insns:
        msg = check_insn(one)
        if msg:
            raise Reject(len(slots), msg)
        slots.append(one)
        if one.is_wide:
            slots.append(None)
    n = len(slots)
    funcs = {0}
    for pc, insn in enumerate(slots):
        if insn is None:
            continue
        if insn.opcode == 0x85 and insn.src == 1:
            tgt = pc + 1 + insn.imm
            if not 0 <= tgt < n or slots[tgt] is None:
                raise Reject(pc, f"function calls to invalid insn {tgt}")
            funcs.add(tgt)
        if insn.opcode == 0x18 and insn.src == 4:
            tgt = (
                pc
                + 1
                + (
                    insn.imm & 0xFFFF_FFFF
                    if insn.imm & 0x8000_0000 == 0
                    else (insn.imm & 0xFFFF_FFFF) - (1 << 32)
                )
            )
            if not 0 <= tgt < n or slots[tgt] is None:
                raise Reject(pc, f"invalid func address insn {tgt}")
            funcs.add(tgt)
    cfg = Cfg(slots, sorted(funcs), set(), [])
    _check_functions(cfg)
    _walk(cfg, allow_loops)
    return cfg


def _check_functions(cfg: Cfg) -> None:
    slots = cfg.slots
    for entry in cfg.funcs:
        end = cfg.func_end(entry)
        last = end - 1
        while last > entry and slots[last] is None:
            last -= 1
        li = slots[last]
        assert li is not None
        if not (li.is_exit or li.opcode in (0x05, 0x06)):
            raise Reject(last, "last insn is not an exit or jmp")
        for pc in range(entry, end):
            insn = slots[pc]
            if insn is None or not _is_branch(insn):
                continue
            tgt = jump_target(pc, insn)
            if not entry <= tgt < end:
                raise Reject(pc, f"jump out of range from insn {pc} to {tgt}")
            if slots[tgt] is None:
                raise Reject(pc, f"jump to the middle of ldimm64 insn {tgt}")


def _walk(cfg: Cfg, allow_loops: bool) -> None:
    """Depth-first walk: reachability, back-edges, prune points."""
    slots = cfg.slots
    n = len(slots)
    color = [0] * n  # 0 unseen, 1 on the DFS stack, 2 done
    for entry in cfg.funcs:
        cfg.prune_points.add(entry)
        if color[entry]:
            continue
        stack: list[tuple[int, list[int]]] = [(entry, _succs(cfg, entry))]
        color[entry] = 1
        while stack:
            pc, succ = stack[-1]
            if not succ:
                color[pc] = 2
                stack.pop()
                continue
            nxt = succ.pop()
            if color[nxt] == 1:
                cfg.back_edges.append((pc, nxt))
                if not allow_loops:
                    raise Reject(pc, f"back-edge from insn {pc} to {nxt}")
            elif color[nxt] == 0:
                color[nxt] = 1
                stack.append((nxt, _succs(cfg, nxt)))
    for pc in range(n):
        if slots[pc] is not None and not color[pc]:
            raise Reject(pc, f"unreachable insn {pc}")


def _succs(cfg: Cfg, pc: int) -> list[int]:
    insn = cfg.slots[pc]
    assert insn is not None
    if insn.is_exit:
        return []
    nxt = pc + insn.slots
    if _is_branch(insn):
        tgt = jump_target(pc, insn)
        cfg.prune_points.add(tgt)
        if insn.opcode & 0xF0 == 0x00:
            return [tgt]
        cfg.prune_points.add(nxt)
        return [tgt, nxt]
    if nxt >= len(cfg.slots):
        raise Reject(pc, "fall through off the end of the program")
    if insn.opcode == 0x85 and insn.src == 1:
        cfg.prune_points.add(nxt)
    return [nxt]


__all__ = ["Cfg", "Reject", "build", "jump_target"]


def _use_def(insn: Insn) -> tuple[set[int], set[int]]:
    """Registers an instruction reads and writes (conservative for calls)."""
    op = insn.opcode
    cls = op & 0x07
    d, s = insn.dst, insn.src
    if cls in (0x04, 0x07):
        code = op & 0xF0
        uses = {s} if op & 0x08 and code != 0xD0 else set()
        if code != 0xB0:
            uses.add(d)
        return uses, {d}
    if cls in (0x05, 0x06):
        code = op & 0xF0
        if code == 0x90:
            return {0}, set()
        if code == 0x80:
            return {1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}
        if code == 0x00:
            return set(), set()
        return ({d, s} if op & 0x08 else {d}), set()
    if op == 0x18:
        return set(), {d}
    if cls == 0x01:
        return {s}, {d}
    if cls == 0x02:
        return {d}, set()
    if op & 0xE0 == 0xC0:
        if insn.imm == 0xF1:
            return {d, s, 0}, {0}
        return {d, s}, ({s} if insn.imm & 0x01 else set())
    return {d, s}, set()


def live_registers(cfg: Cfg) -> list[frozenset[int]]:
    """Registers live on entry to each slot: read on some path before being written.

    States are compared with dead registers forgotten, so paths that differ only in values
    nobody reads again merge (the kernel's liveness does the same job).
    """
    slots = cfg.slots
    n = len(slots)
    succ: list[list[int]] = [[] for _ in range(n)]
    ud: list[tuple[set[int], set[int]]] = [(set(), set())] * n
    for pc, insn in enumerate(slots):
        if insn is None:
            continue
        ud[pc] = _use_def(insn)
        if insn.is_exit:
            continue
        if _is_branch(insn):
            succ[pc].append(jump_target(pc, insn))
            if insn.opcode & 0xF0 != 0x00:
                succ[pc].append(pc + 1)
        elif pc + insn.slots < n:
            succ[pc].append(pc + insn.slots)
    live: list[set[int]] = [set() for _ in range(n)]
    changed = True
    while changed:
        changed = False
        for pc in range(n - 1, -1, -1):
            if slots[pc] is None:
                continue
            out: set[int] = set()
            for t in succ[pc]:
                out |= live[t]
            uses, defs = ud[pc]
            new = uses | (out - defs)
            if new != live[pc]:
                live[pc] = new
                changed = True
    return [frozenset(x) for x in live]
