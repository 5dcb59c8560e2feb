"""Where the x86-64 System V calling convention puts each parameter of a function.

At a uprobe on a function's entry the integer-class parameters sit in rdi, rsi, rdx, rcx,
r8, r9 (in that order); floating-point ones in xmm registers (which BPF cannot read);
structs and unions passed by value in one or two registers when they are at most 16 bytes
and made of integers, else on the stack; anything left over when the six registers are
taken goes on the stack too.  :func:`locate` works this out from DWARF types.
"""

from __future__ import annotations

import enum

from pybpf.elf.dwarf import ATE_FLOAT, DwType, Function
from pybpf.records import dataclass

ARG_REGS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
"""Integer argument registers in order."""


class Where(enum.Enum):
    """How a parameter is passed."""

    REG = "reg"  # one integer register: readable
    REGS = "regs"  # several integer registers (a small struct by value, __int128)
    SSE = "sse"  # floating point, or a struct holding some: xmm registers
    STACK = "stack"  # a scalar left over when the registers ran out: on the stack
    MEMORY = "memory"  # an aggregate (or long double) passed in memory by its class
    UNKNOWN = "unknown"  # after a parameter whose class could not be worked out


@dataclass(frozen=True)
class Location:
    """Where one parameter is: ``reg`` is an index into :data:`ARG_REGS` (first one used)."""

    where: Where
    reg: int = -1


def locate(func: Function) -> list[Location]:
    """The location of every parameter of ``func``, in order."""
    used = 0
    out: list[Location] = []
    lost = False
    for p in func.params:
        if lost:
            out.append(Location(Where.UNKNOWN))
            continue
        t = p.type.strip()
        ints = _int_eightbytes(t)
        if ints is None:
            # Incomplete type or one we cannot classify: later registers are unknown.
            out.append(Location(Where.UNKNOWN))
            lost = True
        elif ints == -1:
            out.append(Location(Where.MEMORY))
        elif ints == 0:
            out.append(Location(Where.SSE))
        elif used + ints > len(ARG_REGS):
            # A value that does not fit whole goes to the stack; scalars after an aggregate
            # may still take the registers left (the ABI fills them in order).
            aggregate = t.tag in ("struct", "union") or ints > 1
            out.append(Location(Where.MEMORY if aggregate else Where.STACK))
        else:
            single = ints == 1 and t.tag not in ("struct", "union")
            out.append(Location(Where.REG if single else Where.REGS, used))
            used += ints
    return out


def _int_eightbytes(t: DwType) -> int | None:
    """Integer registers a value of type ``t`` needs (0: SSE only; -1: memory)."""
    if t.tag in ("pointer", "enum"):
        return 1
    if t.tag == "base":
        if t.encoding == ATE_FLOAT or t.encoding == 0x03:  # float, complex float
            return -1 if t.size > 16 else 0
        if t.size in (1, 2, 4, 8):
            return 1
        return 2 if t.size == 16 else None
    if t.tag in ("struct", "union"):
        if t.size > 16:
            return -1
        if t.size == 0:
            return None
        classes = _classify(t, 0, {})
        if classes is None:
            return -1
        n = (t.size + 7) // 8
        return sum(1 for i in range(n) if classes.get(i, "int") == "int")
    return None


def _classify(t: DwType, base: int, acc: dict[int, str]) -> dict[int, str] | None:
    """Eightbyte classes (``int``/``sse``) of an aggregate at byte ``base`` (None: memory)."""
    t = t.strip()
    if t.tag in ("struct", "union"):
        for m in t.members:
            if m.bit_size:
                acc[(base + m.offset) // 8] = "int"
                continue
            if _classify(m.type, base + m.offset, acc) is None:
                return None
        return acc
    if t.tag == "array":
        elem = t.target.strip() if t.target is not None else None
        if elem is None or elem.size <= 0:
            return acc
        for i in range(t.count):
            if _classify(elem, base + i * elem.size, acc) is None:
                return None
        return acc
    size = max(t.size, 1)
    if base % size:
        return None  # unaligned member: the whole aggregate goes to memory
    cls = "sse" if t.tag == "base" and t.encoding in (ATE_FLOAT, 0x03) else "int"
    for i in range(base // 8, (base + size - 1) // 8 + 1):
        if acc.get(i) != "int":  # INTEGER wins over SSE within an eightbyte
            acc[i] = cls
    return acc


__all__ = ["ARG_REGS", "Location", "Where", "locate"]
