"""The fast engine: each function of the program becomes one Python function, once.

Registers are Python locals; each basic block is a branch of a binary-search ``if`` tree
inside ``while True`` (the block id is its first slot), so dispatch costs a few integer
comparisons. Common operations are inlined; the rest call the shared ``semantics``
functions, so this engine and the interpreter agree by construction. The instruction
budget is charged per block. A fault's instruction index is recovered from the line
number of the generated source, which costs nothing until something goes wrong.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pybpf.vm.callbacks import CALLBACK_HELPERS
from pybpf.vm.errors import LimitExceeded, MemoryFault, VMError
from pybpf.vm.helpers import TailCall
from pybpf.vm.machine import FUNC_TAG, MAX_FRAMES
from pybpf.vm.program import Prepared
from pybpf.vm.semantics import M32, M64, alu32, alu64, atomic, endian, sext

if TYPE_CHECKING:
    from pybpf.vm.engine import Program

_SIZES = {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}
_SIGN = 1 << 63
_SIGN32 = 1 << 31
_counter = itertools.count()
_REGS = "r0, r1, r2, r3, r4, r5, r6, r7, r8, r9"
_RET = "r0, r1, r2, r3, r4, r5"


class _Gen:
    """Source text with a parallel line -> slot table."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.pcs: list[int] = []

    def emit(self, indent: int, text: str, pc: int) -> None:
        self.lines.append("    " * indent + text)
        self.pcs.append(pc)


def _leaders(prep: Prepared, entry: int) -> list[int]:
    """Start slots of the blocks reachable from ``entry`` without crossing a call."""
    slots = prep.slots
    n = len(slots)
    starts = {entry}
    todo = [entry]
    seen: set[int] = set()
    while todo:
        pc = todo.pop()
        while pc < n and pc not in seen:
            seen.add(pc)
            s = slots[pc]
            assert s is not None
            op = s[0]
            cls = op & 0x07
            if cls in (0x05, 0x06) and op & 0xF0 not in (0x80, 0x90):
                tgt = prep.jump_target(pc)
                for t in (tgt,) if op & 0xF0 == 0x00 else (tgt, pc + 1):
                    if t < n and t not in starts:
                        starts.add(t)
                        todo.append(t)
                break
            if cls == 0x05 and op & 0xF0 == 0x90:
                break
            pc += 2 if op == 0x18 else 1
    return sorted(starts)


def _k64(imm: int) -> int:
    return imm & M64


def _alu_src(op: int, src: int, imm: int, is64: bool) -> str:
    if op & 0x08:
        return f"r{src}"
    return str(imm & (M64 if is64 else M32))


def _alu(op: int, dst: int, src: int, off: int, imm: int) -> str:
    is64 = op & 0x07 == 0x07
    code = op & 0xF0
    d = f"r{dst}"
    if code == 0xD0:
        return f"{d} = _endian({is64}, {bool(op & 0x08)}, {imm}, {d})"
    x = _alu_src(op, src, imm, is64)
    k = not op & 0x08
    if is64:
        simple = {
            0x00: f"{d} = ({d} + {x}) & M64",
            0x10: f"{d} = ({d} - {x}) & M64",
            0x20: f"{d} = ({d} * {x}) & M64",
            0x40: f"{d} |= {x}",
            0x50: f"{d} &= {x}",
            0xA0: f"{d} ^= {x}",
            0x60: f"{d} = ({d} << ({imm & 63 if k else x + ' & 63'})) & M64",
            0x70: f"{d} >>= {imm & 63 if k else x + ' & 63'}",
            0x80: f"{d} = -{d} & M64",
        }
        if code == 0xB0 and not off:
            return f"{d} = {x}"
        if off == 0 and code == 0x30 and k and imm & M64:
            return f"{d} //= {imm & M64}"
        if off == 0 and code == 0x90 and k and imm & M64:
            return f"{d} %= {imm & M64}"
        if code in simple:
            return simple[code]
        return f"{d} = _alu64({code}, {d}, {x}, {off})"
    simple = {
        0x00: f"{d} = ({d} + {x}) & M32",
        0x10: f"{d} = ({d} - {x}) & M32",
        0x20: f"{d} = ({d} * {x}) & M32",
        0x40: f"{d} = ({d} | {x}) & M32",
        0x50: f"{d} = {d} & {x} & M32",
        0xA0: f"{d} = ({d} ^ {x}) & M32",
        0x60: f"{d} = ({d} << ({imm & 31 if k else x + ' & 31'})) & M32",
        0x70: f"{d} = ({d} & M32) >> ({imm & 31 if k else x + ' & 31'})",
        0x80: f"{d} = -{d} & M32",
    }
    if code == 0xB0 and not off:
        return f"{d} = {x} & M32"
    if code in simple:
        return simple[code]
    return f"{d} = _alu32({code}, {d}, {x}, {off})"


def _cond(op: int, dst: int, src: int, imm: int) -> str:
    is32 = op & 0x07 == 0x06
    code = op & 0xF0
    a = f"(r{dst} & M32)" if is32 else f"r{dst}"
    if op & 0x08:
        b = f"(r{src} & M32)" if is32 else f"r{src}"
    else:
        b = str(imm & (M32 if is32 else M64))
    un = {0x10: "==", 0x50: "!=", 0x20: ">", 0x30: ">=", 0xA0: "<", 0xB0: "<="}
    if code in un:
        return f"{a} {un[code]} {b}"
    if code == 0x40:
        return f"{a} & {b}"
    sg = {0x60: ">", 0x70: ">=", 0xC0: "<", 0xD0: "<="}[code]
    flip = _SIGN32 if is32 else _SIGN
    if op & 0x08:
        return f"({a} ^ {flip}) {sg} ({b} ^ {flip})"
    return f"({a} ^ {flip}) {sg} {int(b) ^ flip}"


def _addr(reg: int, off: int) -> str:
    return f"r{reg}" if off == 0 else f"(r{reg} + {off & M64}) & M64"


def _store(a: str, size: int, value: str) -> str:
    if size == 1:
        return f"WB[{a} >> 32][{a} & M32] = {value}"
    return f"P{size}(WB[{a} >> 32], {a} & M32, {value})"


class _Translator:
    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.prep = prog.prep
        self.gen = _Gen()
        self._all_leaders: set[int] = set()
        self.loop_start: int | None = None
        self._loop_heads: set[int] = set()

    def function(self, entry: int) -> None:
        g = self.gen
        g.emit(0, f"def F{entry}({_REGS}, depth):", entry)
        g.emit(1, "if depth:", entry)
        g.emit(2, "STACKS[depth][:] = ZERO_STACK", entry)
        g.emit(1, "r10 = TOPS[depth]", entry)
        g.emit(1, "n = m.count", entry)
        g.emit(1, f"b = {entry}", entry)
        g.emit(1, "while True:", entry)
        self.tree(_leaders(self.prep, entry), 2)

    def tree(self, blocks: list[int], indent: int) -> None:
        if len(blocks) == 1:
            self.block(blocks[0], indent)
            return
        mid = len(blocks) // 2
        self.gen.emit(indent, f"if b < {blocks[mid]}:", blocks[mid])
        self.tree(blocks[:mid], indent + 1)
        self.gen.emit(indent, "else:", blocks[mid])
        self.tree(blocks[mid:], indent + 1)

    def block_pcs(self, start: int) -> list[int]:
        """Slots of the block at ``start``: up to a branch/exit or the next leader."""
        slots = self.prep.slots
        pcs: list[int] = []
        pc = start
        while pc < len(slots):
            pcs.append(pc)
            s = slots[pc]
            assert s is not None
            op = s[0]
            if op & 0x07 in (0x05, 0x06) and op & 0xF0 != 0x80:
                break
            pc += 2 if op == 0x18 else 1
            if pc in self._all_leaders:
                break
        return pcs

    def _uncond_next(self, pcs: list[int]) -> int | None:
        """Where the block always goes next (a ``ja`` or a fall-through), else None."""
        last = pcs[-1]
        s = self.prep.slots[last]
        assert s is not None
        op = s[0]
        if op & 0x07 in (0x05, 0x06) and op & 0xF0 == 0x00:
            return self.prep.jump_target(last)
        if op & 0x07 in (0x05, 0x06) and op & 0xF0 != 0x80:
            return None  # conditional or exit
        nxt = last + (2 if op == 0x18 else 1)
        return nxt if nxt < len(self.prep.slots) else None

    def _exits(self, pcs: list[int]) -> set[int]:
        """Blocks the last instruction of ``pcs`` can transfer to."""
        last = pcs[-1]
        s = self.prep.slots[last]
        assert s is not None
        op = s[0]
        if op & 0x07 in (0x05, 0x06) and op & 0xF0 == 0x90:
            return set()
        if op & 0x07 in (0x05, 0x06) and op & 0xF0 not in (0x00, 0x80):
            return {self.prep.jump_target(last), last + 1}
        nxt = self._uncond_next(pcs)
        return set() if nxt is None else {nxt}

    def block(self, start: int, ind: int) -> None:
        """Emit one block; a small unconditional successor is inlined (tail duplication),
        and a block that comes back to itself becomes an inner ``while`` loop, so a hot
        loop runs without returning to the dispatcher."""
        pcs = self.block_pcs(start)
        parts = [pcs]
        nxt = self._uncond_next(pcs)
        if nxt is not None and nxt != start and nxt in self._all_leaders:
            tail = self.block_pcs(nxt)
            if len(tail) <= 8:
                parts.append(tail)
        loops = start in self._exits(parts[-1])
        g = self.gen
        self.loop_start = start if loops else None
        if loops:
            g.emit(ind, "while True:", start)
            ind += 1
        total = sum(len(p) for p in parts)
        # charge the whole (extended) block up front: it always runs to its end, except
        # through a tail call, whose helper line charges only what ran (``rest``)
        g.emit(ind, f"n += {total}", start)
        if start in self._loop_heads:
            # every cycle passes a backward-jump target, so checking there bounds runtime
            g.emit(ind, "if n > LIMIT:", start)
            g.emit(ind + 1, "raise LimitExceeded", start)
        done = 0
        for k, part in enumerate(parts):
            inlined_next = k + 1 < len(parts)
            for i, pc in enumerate(part):
                if inlined_next and i == len(part) - 1 and self._is_ja(pc):
                    continue  # the jump to the inlined block needs no code
                self.insn(pc, ind, total - done - i - 1)
            done += len(part)
            if not inlined_next:
                self._fallthrough(part, ind)
        if loops:
            g.emit(ind, "break", start)
        self.loop_start = None

    def _is_ja(self, pc: int) -> bool:
        s = self.prep.slots[pc]
        assert s is not None
        return s[0] & 0x07 in (0x05, 0x06) and s[0] & 0xF0 == 0x00

    def _fallthrough(self, pcs: list[int], ind: int) -> None:
        last = pcs[-1]
        s = self.prep.slots[last]
        assert s is not None
        op = s[0]
        if op & 0x07 in (0x05, 0x06) and op & 0xF0 != 0x80:
            return
        nxt = last + (2 if op == 0x18 else 1)
        if nxt >= len(self.prep.slots):
            self.gen.emit(ind, f"raise VMError('fell off the end of the program', {nxt})", last)
        else:
            self.goto(nxt, ind, last)

    def goto(self, target: int, ind: int, pc: int) -> None:
        """Transfer to block ``target``: ``continue`` inside its own loop, else via ``b``."""
        if self.loop_start is not None and target == self.loop_start:
            self.gen.emit(ind, "continue", pc)
        else:
            self.gen.emit(ind, f"b = {target}", pc)
            if self.loop_start is not None:
                self.gen.emit(ind, "break", pc)

    def _address(self, reg: int, off: int, ind: int, pc: int) -> str:
        """Name of a local holding the effective address (the register itself if off=0)."""
        if off == 0:
            return f"r{reg}"
        self.gen.emit(ind, f"a = {_addr(reg, off)}", pc)
        return "a"

    def insn(self, pc: int, ind: int, rest: int) -> None:
        s = self.prep.slots[pc]
        assert s is not None
        op, dst, src, off, imm = s
        g = self.gen
        cls = op & 0x07
        if cls in (0x04, 0x07):
            g.emit(ind, _alu(op, dst, src, off, imm), pc)
        elif cls == 0x01:
            size = _SIZES[op & 0x18]
            a = self._address(src, off, ind, pc)
            if size == 1:
                load = f"RB[{a} >> 32][{a} & M32]"
            else:
                load = f"U{size}(RB[{a} >> 32], {a} & M32)[0]"
            if op & 0xE0 == 0x80:
                load = f"_sext({load}, {size * 8})"
            g.emit(ind, f"r{dst} = {load}", pc)
        elif cls == 0x02:
            size = _SIZES[op & 0x18]
            a = self._address(dst, off, ind, pc)
            g.emit(ind, _store(a, size, str(imm & ((1 << (size * 8)) - 1))), pc)
        elif cls == 0x03:
            size = _SIZES[op & 0x18]
            addr = _addr(dst, off)
            if op & 0xE0 == 0x60:
                a = self._address(dst, off, ind, pc)
                g.emit(ind, _store(a, size, f"r{src} & {(1 << (size * 8)) - 1}"), pc)
            else:
                call = f"AT({addr}, {size}, {imm}, r{src}, r0)"
                if imm == 0xF1:
                    g.emit(ind, f"r0 = {call}", pc)
                elif imm & 0x01:
                    g.emit(ind, f"r{src} = {call}", pc)
                else:
                    g.emit(ind, call, pc)
        elif op == 0x18:
            g.emit(ind, f"r{dst} = {self.prog.consts[pc]}", pc)
        else:
            self.jump(pc, ind, op, dst, src, imm, rest)

    def jump(self, pc: int, ind: int, op: int, dst: int, src: int, imm: int, rest: int) -> None:
        g = self.gen
        code = op & 0xF0
        if code == 0x90:
            g.emit(ind, "m.count = n", pc)
            g.emit(ind, f"return {_RET}", pc)
        elif code == 0x80:
            self.call(pc, ind, op, dst, src, imm, rest)
        elif code == 0x00:
            self.goto(self.prep.jump_target(pc), ind, pc)
        else:
            g.emit(ind, f"if {_cond(op, dst, src, imm)}:", pc)
            self.goto(self.prep.jump_target(pc), ind + 1, pc)
            g.emit(ind, "else:", pc)
            self.goto(pc + 1, ind + 1, pc)

    def call(self, pc: int, ind: int, op: int, dst: int, src: int, imm: int, rest: int) -> None:
        g = self.gen
        if op == 0x8D:
            reg = dst if dst else imm & 0x0F
            g.emit(ind, "m.count = n", pc)
            g.emit(ind, f"{_RET} = CALLX({pc}, r{reg}, {_REGS}, depth)", pc)
            g.emit(ind, "n = m.count", pc)
        elif src == 1:
            tgt = pc + 1 + imm
            g.emit(ind, f"if depth + 1 >= {MAX_FRAMES}:", pc)
            g.emit(ind + 1, f"raise VMError('call stack too deep ({MAX_FRAMES} frames)', {pc})", pc)
            g.emit(ind, "m.count = n", pc)
            g.emit(ind, f"{_RET} = F{tgt}({_REGS}, depth + 1)", pc)
            g.emit(ind, "n = m.count", pc)
        elif src == 2:
            g.emit(ind, f"raise VMError('kfunc calls are not supported in the VM', {pc})", pc)
        elif imm in CALLBACK_HELPERS:
            # the callback's instructions are charged to m.count as they run
            g.emit(ind, "m.count = n", pc)
            g.emit(ind, f"r0 = CB({pc}, {imm}, r1, r2, r3, r4, depth)", pc)
            g.emit(ind, "n = m.count", pc)
        elif imm not in self.prog.machine.helpers:
            g.emit(ind, f"raise VMError('invalid func unknown#{imm}', {pc})", pc)
        else:
            # charge only what ran so far: a tail call leaves the block here
            g.emit(ind, f"m.count = n - {rest}", pc)
            g.emit(ind, f"r0 = H[{imm}](m, r1, r2, r3, r4, r5) & M64", pc)

    def source(self) -> str:
        self._all_leaders = set()
        for f in self.prep.funcs:
            self._all_leaders.update(_leaders(self.prep, f))
        self._all_leaders.update(self.prep.funcs)
        for pc, sl in enumerate(self.prep.slots):
            if sl is not None and sl[0] & 0x07 in (0x05, 0x06) and sl[0] & 0xF0 not in (0x80, 0x90):
                tgt = self.prep.jump_target(pc)
                if tgt <= pc:
                    self._loop_heads.add(tgt)
        for f in self.prep.funcs:
            self.function(f)
        return "\n".join(self.gen.lines) + "\n"


def translate(prog: Program) -> Callable[[Program, int, int], int]:
    """Translate ``prog`` into Python once; return its ``run(prog, r1, r2) -> r0``."""
    m = prog.machine
    tr = _Translator(prog)
    src = tr.source()
    filename = f"<bpf-compiled-{next(_counter)}>"
    pcs = tr.gen.pcs
    ns: dict[str, Any] = _namespace(prog)
    exec(compile(src, filename, "exec"), ns)
    funcs = {f: ns[f"F{f}"] for f in prog.prep.funcs}
    ns["FUNCS"] = funcs
    main = funcs[0]

    def run(p: Program, r1: int, r2: int) -> int:
        try:
            r0: int = main(0, r1, r2, 0, 0, 0, 0, 0, 0, 0, 0)[0]
            return r0
        except (TailCall, VMError):
            raise
        except LimitExceeded:
            raise VMError(
                f"instruction limit {m.insn_limit} exceeded", _fault_pc(filename, pcs)
            ) from None
        except MemoryFault as e:
            raise VMError(str(e), _fault_pc(filename, pcs)) from None
        except (IndexError, TypeError, struct.error):
            # an inline access missed every region: redo it the slow way for the message
            pc, regs = _fault_frame(filename, pcs)
            if pc < 0:
                raise
            raise VMError(_replay(prog, pc, regs), pc) from None

    run.source = src  # type: ignore[attr-defined]
    return run


def _fault_frame(filename: str, pcs: list[int]) -> tuple[int, dict[str, Any]]:
    """Slot and local variables of the innermost generated frame in the traceback."""
    import sys

    tb = sys.exc_info()[2]
    pc, regs = -1, {}
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            pc, regs = pcs[tb.tb_lineno - 1], tb.tb_frame.f_locals
        tb = tb.tb_next
    return pc, regs


def _replay(prog: Program, pc: int, regs: dict[str, Any]) -> str:
    """The fault message of the memory instruction at ``pc`` given the registers."""
    s = prog.prep.slots[pc]
    assert s is not None
    op, dst, src, off, _ = s
    base = regs[f"r{src}"] if op & 0x07 == 0x01 else regs[f"r{dst}"]
    addr = (base + off) & M64
    size = _SIZES[op & 0x18]
    try:
        if op & 0x07 == 0x01:
            prog.machine.mem.load(addr, size)
        else:
            prog.machine.mem.store(addr, size, 0)
    except MemoryFault as e:
        return str(e)
    return f"invalid memory access at {addr:#x} size {size}"


def _fault_pc(filename: str, pcs: list[int]) -> int:
    """Slot of the innermost generated line in the traceback being handled."""
    import sys

    tb = sys.exc_info()[2]
    pc = -1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            pc = pcs[tb.tb_lineno - 1]
        tb = tb.tb_next
    return pc


def _namespace(prog: Program) -> dict[str, Any]:
    m = prog.machine
    mem = m.mem

    def at(addr: int, size: int, imm: int, src: int, r0: int) -> int:
        # returns the fetched old value (the caller ignores it for non-fetch forms)
        old = mem.load(addr, size)
        new, _ = atomic(imm, size, old, src, r0)
        mem.store(addr, size, new)
        return old

    ns: dict[str, Any] = {
        "m": m,
        "M64": M64,
        "M32": M32,
        "RB": mem.rbufs,
        "WB": mem.wbufs,
        "U2": struct.Struct("<H").unpack_from,
        "U4": struct.Struct("<I").unpack_from,
        "U8": struct.Struct("<Q").unpack_from,
        "P2": struct.Struct("<H").pack_into,
        "P4": struct.Struct("<I").pack_into,
        "P8": struct.Struct("<Q").pack_into,
        "AT": at,
        "H": m.helpers,
        "STACKS": m.stack_bufs,
        "TOPS": m.stack_tops,
        "ZERO_STACK": bytes(len(m.stack_bufs[0])),
        "LIMIT": m.insn_limit,
        "LimitExceeded": LimitExceeded,
        "VMError": VMError,
        "_alu64": alu64,
        "_alu32": alu32,
        "_endian": endian,
        "_sext": sext,
    }

    def callx(pc: int, v: int, *regs_depth: int) -> tuple[int, ...]:
        regs, depth = regs_depth[:10], regs_depth[10]
        if v & ~0xFFFF_FFFF == FUNC_TAG:
            f = ns["FUNCS"].get(v & 0xFFFF_FFFF)
            if f is None:
                raise VMError(f"callx to {v:#x}, not a function entry", pc)
            if depth + 1 >= MAX_FRAMES:
                raise VMError(f"call stack too deep ({MAX_FRAMES} frames)", pc)
            out: tuple[int, ...] = f(*regs, depth + 1)
            return out
        fn = m.helpers.get(v)
        if fn is None:
            raise VMError(f"invalid func unknown#{v}", pc)
        try:
            r0 = fn(m, *regs[1:6]) & M64
        except MemoryFault as e:
            raise VMError(str(e), pc) from None
        return (r0, *regs[1:6])

    ns["CALLX"] = callx

    def cb(pc: int, hid: int, r1: int, r2: int, r3: int, r4: int, depth: int) -> int:
        if depth + 1 >= MAX_FRAMES:
            raise VMError(f"call stack too deep ({MAX_FRAMES} frames)", pc)

        def invoke(entry: int, a1: int, a2: int, a3: int, a4: int, a5: int) -> int:
            f = ns["FUNCS"].get(entry)
            if f is None:
                raise VMError(f"callback {entry} is not a function entry", pc)
            r0: int = f(0, a1, a2, a3, a4, a5, 0, 0, 0, 0, depth + 1)[0]
            if m.count > m.insn_limit:
                # straight-line code is not checked; repeated callbacks must be
                raise LimitExceeded
            return r0

        return CALLBACK_HELPERS[hid](m, r1, r2, r3, r4, invoke) & M64

    ns["CB"] = cb
    return ns


__all__ = ["translate"]
