"""A classic BPF interpreter over packet bytes, with Linux's semantics.

A load past the end of the packet, or a division by zero, ends the program with 0 (drop),
as the kernel does; shifts by X use X's low five bits, as x86 (and the kernel's JIT) do.
The result is the number of bytes to keep: 0 rejects the packet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pybpf.cbpf import insn as I
from pybpf.errors import PybpfError

U32 = I.U32
_AD_BASE = I.SKF_AD_OFF & U32
_AD_LOW = _AD_BASE


class CbpfRuntimeError(PybpfError):
    """A malformed program (bad opcode, jump out of range)."""


def alu(op: int, a: int, v: int) -> int | None:
    """One 32-bit ALU operation; None for a division or modulus by zero."""
    if op == I.ADD:
        return (a + v) & U32
    if op == I.SUB:
        return (a - v) & U32
    if op == I.MUL:
        return (a * v) & U32
    if op == I.DIV:
        return None if v == 0 else a // v
    if op == I.MOD:
        return None if v == 0 else a % v
    if op == I.AND:
        return a & v
    if op == I.OR:
        return a | v
    if op == I.XOR:
        return a ^ v
    if op == I.LSH:
        return (a << (v & 31)) & U32
    if op == I.RSH:
        return a >> (v & 31)
    if op == I.NEG:
        return (-a) & U32
    raise CbpfRuntimeError(f"bad ALU operation 0x{op:x}")


_SIZES = {I.W: 4, I.H: 2, I.B: 1}


def run(
    prog: Sequence[I.CInsn],
    pkt: bytes,
    wirelen: int | None = None,
    meta: Mapping[int, int] | None = None,
) -> int:
    """Run ``prog`` on ``pkt``; returns the accepted length (0 = reject).

    ``wirelen`` is what ``len`` loads (the packet's length on the wire); it defaults to
    ``len(pkt)``. ``meta`` holds what Linux's ancillary loads return, by offset from
    SKF_AD_OFF (e.g. ``{SKF_AD_VLAN_TAG_PRESENT: 1, SKF_AD_VLAN_TAG: 10}``); absent is 0.
    """
    return run_traced(prog, pkt, wirelen, meta)[0]


def run_traced(
    prog: Sequence[I.CInsn],
    pkt: bytes,
    wirelen: int | None = None,
    meta: Mapping[int, int] | None = None,
) -> tuple[int, bool]:
    """Like :func:`run`, also saying whether the run ended on a load past the packet's end.

    That matters when comparing programs: libpcap's optimiser drops loads whose value it
    does not need, so on a packet too short for such a load the optimised filter may
    accept where the unoptimised one stopped with 0.
    """
    a = x = 0
    mem = [0] * I.MEMWORDS
    n = len(pkt)
    plen = n if wirelen is None else wirelen
    pc = 0
    count = len(prog)
    while pc < count:
        ins = prog[pc]
        code, k = ins.code, ins.k & U32
        cls = code & 0x07
        pc += 1
        if cls == I.RET:
            return (a if code & 0x18 == I.RET_A else k), False
        if cls == I.LD or cls == I.LDX:
            mode = code & 0xE0
            if mode == I.IMM:
                val = k
            elif mode == I.LEN:
                val = plen
            elif mode == I.MEM:
                val = mem[k & 15]
            elif mode == I.MSH:
                if k >= n:
                    return 0, True
                val = (pkt[k] & 0xF) << 2
            elif mode == I.ABS and k >= _AD_LOW:
                val = (meta or {}).get(k - _AD_BASE, 0) & U32
            else:
                size = _SIZES.get(code & 0x18, 4)
                off = k if mode == I.ABS else (x + k) & U32
                if off + size > n:
                    return 0, True
                val = int.from_bytes(pkt[off : off + size], "big")
            if cls == I.LD:
                a = val
            else:
                x = val
        elif cls == I.ST:
            mem[k & 15] = a
        elif cls == I.STX:
            mem[k & 15] = x
        elif cls == I.ALU:
            r = alu(code & 0xF0, a, x if code & I.X else k)
            if r is None:
                return 0, False
            a = r
        elif cls == I.JMP:
            op = code & 0xF0
            if op == I.JA:
                pc += k
            else:
                v = x if code & I.X else k
                if op == I.JEQ:
                    t = a == v
                elif op == I.JGT:
                    t = a > v
                elif op == I.JGE:
                    t = a >= v
                elif op == I.JSET:
                    t = a & v != 0
                else:
                    raise CbpfRuntimeError(f"bad jump 0x{code:x} at {pc - 1}")
                pc += ins.jt if t else ins.jf
        else:
            if code & 0xF8 == I.TAX:
                x = a
            else:
                a = x
    raise CbpfRuntimeError("program ran off its end")
