"""The reference engine: one instruction at a time, every operation through ``semantics``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.vm.callbacks import CALLBACK_HELPERS
from pybpf.vm.errors import LimitExceeded, MemoryFault, VMError
from pybpf.vm.helpers import TailCall
from pybpf.vm.machine import FUNC_TAG, MAX_FRAMES
from pybpf.vm.semantics import M64, alu32, alu64, atomic, cond, endian, sext

if TYPE_CHECKING:
    from pybpf.vm.engine import Program

_SIZES = {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}


def interpret(prog: Program, r1: int, r2: int) -> int:
    """Run ``prog`` from slot 0 and return r0; faults become :class:`VMError`."""
    return _run(prog, 0, [0, r1, r2, 0, 0, 0], 0)


def _run(prog: Program, entry: int, args: list[int], base: int) -> int:
    """Run the function at ``entry`` with r0-r5 = ``args`` in stack frame ``base``."""
    m = prog.machine
    slots = prog.prep.slots
    nslots = len(slots)
    regs = [*args, 0, 0, 0, 0, 0]
    regs[10] = m.stack_tops[base]
    if base:
        m.stack_bufs[base][:] = bytes(len(m.stack_bufs[base]))
    frames: list[tuple[int, int, int, int, int, int]] = [(-1, 0, 0, 0, 0, 0)] * base
    pc = entry
    count = m.count
    limit = m.insn_limit
    try:
        while True:
            if pc >= nslots:
                raise VMError("fell off the end of the program", pc)
            count += 1
            if count > limit:
                raise LimitExceeded
            s = slots[pc]
            assert s is not None
            op, dst, src, off, imm = s
            cls = op & 0x07
            if cls == 0x07 or cls == 0x04:
                _alu(regs, op, dst, src, off, imm, cls == 0x07)
                pc += 1
            elif cls == 0x05 or cls == 0x06:
                code = op & 0xF0
                if code == 0x00:
                    pc += 1 + (imm if cls == 0x06 else off)
                elif code == 0x90:
                    if len(frames) == base:
                        return regs[0]
                    pc, regs[6], regs[7], regs[8], regs[9], regs[10] = frames.pop()
                elif code == 0x80:
                    m.count = count
                    pc = _call(prog, regs, frames, pc, op, src, dst, imm)
                    count = m.count
                else:
                    b = regs[src] if op & 0x08 else imm & M64
                    pc += 1 + off if cond(code, cls == 0x06, regs[dst], b) else 1
            elif cls == 0x01:
                size = _SIZES[op & 0x18]
                v = m.mem.load((regs[src] + off) & M64, size)
                regs[dst] = sext(v, size * 8) if op & 0xE0 == 0x80 else v
                pc += 1
            elif cls == 0x02:
                m.mem.store((regs[dst] + off) & M64, _SIZES[op & 0x18], imm)
                pc += 1
            elif cls == 0x03:
                size = _SIZES[op & 0x18]
                addr = (regs[dst] + off) & M64
                if op & 0xE0 == 0xC0:
                    _atomic(m.mem, regs, addr, size, src, imm)
                else:
                    m.mem.store(addr, size, regs[src])
                pc += 1
            else:  # lddw (prepare() admits no other LD)
                regs[dst] = prog.consts[pc]
                pc += 2
    except LimitExceeded:
        raise VMError(f"instruction limit {limit} exceeded", pc) from None
    except MemoryFault as e:
        raise VMError(str(e), pc) from None
    finally:
        m.count = count


def _alu(regs: list[int], op: int, dst: int, src: int, off: int, imm: int, is64: bool) -> None:
    code = op & 0xF0
    if code == 0xD0:
        regs[dst] = endian(is64, bool(op & 0x08), imm, regs[dst])
        return
    b = regs[src] if op & 0x08 else imm & M64
    if is64:
        regs[dst] = alu64(code, regs[dst], b, off)
    else:
        regs[dst] = alu32(code, regs[dst], b, off)


def _atomic(mem: object, regs: list[int], addr: int, size: int, src: int, imm: int) -> None:
    from pybpf.vm.memory import Memory

    assert isinstance(mem, Memory)
    old = mem.load(addr, size)
    new, fetched = atomic(imm, size, old, regs[src], regs[0])
    mem.store(addr, size, new)
    if imm == 0xF1:
        regs[0] = fetched if fetched is not None else 0
    elif fetched is not None:
        regs[src] = fetched


def _call(
    prog: Program,
    regs: list[int],
    frames: list[tuple[int, int, int, int, int, int]],
    pc: int,
    op: int,
    src: int,
    dst: int,
    imm: int,
) -> int:
    """Perform the call at ``pc``; return the next pc."""
    m = prog.machine
    target: int | None = None
    helper = imm
    if op == 0x8D:  # callx: a function address, or (conformance) a helper number
        v = regs[dst] if dst else regs[imm & 0x0F]
        if v & ~0xFFFF_FFFF == FUNC_TAG:
            target = v & 0xFFFF_FFFF
            if target not in prog.prep.funcs:
                raise VMError(f"callx to {v:#x}, not a function entry", pc)
        else:
            helper = v
    elif src == 1:
        target = pc + 1 + imm
    elif src == 2:
        raise VMError("kfunc calls are not supported in the VM", pc)
    if target is not None:
        if len(frames) + 1 >= MAX_FRAMES:
            raise VMError(f"call stack too deep ({MAX_FRAMES} frames)", pc)
        frames.append((pc + 1, regs[6], regs[7], regs[8], regs[9], regs[10]))
        depth = len(frames)
        m.stack_bufs[depth][:] = bytes(len(m.stack_bufs[depth]))
        regs[10] = m.stack_tops[depth]
        return target
    cb = CALLBACK_HELPERS.get(helper)
    if cb is not None:
        depth = len(frames) + 1
        if depth >= MAX_FRAMES:
            raise VMError(f"call stack too deep ({MAX_FRAMES} frames)", pc)

        def invoke(entry: int, a1: int, a2: int, a3: int, a4: int, a5: int) -> int:
            return _run(prog, entry, [0, a1, a2, a3, a4, a5], depth)

        try:
            regs[0] = cb(m, regs[1], regs[2], regs[3], regs[4], invoke) & M64
        except MemoryFault as e:
            raise VMError(str(e), pc) from None
        return pc + 1
    fn = m.helpers.get(helper)
    if fn is None:
        raise VMError(f"invalid func unknown#{helper}", pc)
    try:
        regs[0] = fn(m, regs[1], regs[2], regs[3], regs[4], regs[5]) & M64
    except TailCall:
        raise
    except MemoryFault as e:
        raise VMError(str(e), pc) from None
    return pc + 1


__all__ = ["interpret"]
