"""The meaning of each ALU, jump and atomic operation (RFC 9669), shared by both engines.

Values are unsigned Python ints (64-bit registers masked to 2**64). The interpreter calls
these functions for every instruction; the translator inlines the common cases and calls
these for the rest, so the two engines cannot disagree on the rare ones.
"""

from __future__ import annotations

M64 = 0xFFFF_FFFF_FFFF_FFFF
M32 = 0xFFFF_FFFF


def s64(v: int) -> int:
    """Signed view of a 64-bit value."""
    return v - (1 << 64) if v & (1 << 63) else v


def s32(v: int) -> int:
    """Signed view of the low 32 bits."""
    v &= M32
    return v - (1 << 32) if v & (1 << 31) else v


def sext(v: int, bits: int) -> int:
    """Sign-extend the low ``bits`` of ``v`` to an unsigned 64-bit value."""
    v &= (1 << bits) - 1
    if v & (1 << (bits - 1)):
        v -= 1 << bits
    return v & M64


def _tdiv(a: int, b: int) -> int:
    # C division truncates toward zero; Python's // floors.
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _tmod(a: int, b: int) -> int:
    # C remainder takes the dividend's sign.
    return a - _tdiv(a, b) * b


def alu64(op: int, dst: int, src: int, off: int) -> int:
    """ALU64 ``op`` (opcode & 0xF0) on unsigned 64-bit ``dst`` and ``src``."""
    if op == 0x00:
        return (dst + src) & M64
    if op == 0x10:
        return (dst - src) & M64
    if op == 0x20:
        return (dst * src) & M64
    if op == 0x30:
        if src == 0:
            return 0
        if off == 1:
            return _tdiv(s64(dst), s64(src)) & M64
        return dst // src
    if op == 0x40:
        return dst | src
    if op == 0x50:
        return dst & src
    if op == 0x60:
        return (dst << (src & 63)) & M64
    if op == 0x70:
        return dst >> (src & 63)
    if op == 0x80:
        return -dst & M64
    if op == 0x90:
        if src == 0:
            return dst
        if off == 1:
            return _tmod(s64(dst), s64(src)) & M64
        return dst % src
    if op == 0xA0:
        return dst ^ src
    if op == 0xB0:
        return sext(src, off) if off else src
    if op == 0xC0:
        return (s64(dst) >> (src & 63)) & M64
    raise ValueError(f"bad ALU64 op {op:#x}")


def alu32(op: int, dst: int, src: int, off: int) -> int:
    """32-bit ALU ``op``: operands are the low halves, the result is zero-extended."""
    a = dst & M32
    b = src & M32
    if op == 0x00:
        return (a + b) & M32
    if op == 0x10:
        return (a - b) & M32
    if op == 0x20:
        return (a * b) & M32
    if op == 0x30:
        if b == 0:
            return 0
        if off == 1:
            return _tdiv(s32(a), s32(b)) & M32
        return a // b
    if op == 0x40:
        return a | b
    if op == 0x50:
        return a & b
    if op == 0x60:
        return (a << (b & 31)) & M32
    if op == 0x70:
        return a >> (b & 31)
    if op == 0x80:
        return -a & M32
    if op == 0x90:
        if b == 0:
            return a
        if off == 1:
            return _tmod(s32(a), s32(b)) & M32
        return a % b
    if op == 0xA0:
        return a ^ b
    if op == 0xB0:
        return sext(b, off) & M32 if off else b
    if op == 0xC0:
        return (s32(a) >> (b & 31)) & M32
    raise ValueError(f"bad ALU op {op:#x}")


def bswap(v: int, bits: int) -> int:
    """Reverse the byte order of the low ``bits`` of ``v`` (zero-extended result)."""
    n = bits // 8
    return int.from_bytes((v & ((1 << bits) - 1)).to_bytes(n, "little"), "big")


def endian(is64: bool, to_be: bool, bits: int, v: int) -> int:
    """``le``/``be`` (ALU class; host is little-endian) and ``bswap`` (ALU64 class)."""
    if is64 or to_be:
        return bswap(v, bits)
    return v & ((1 << bits) - 1)


def cond(op: int, is32: bool, a: int, b: int) -> bool:
    """Whether conditional jump ``op`` (opcode & 0xF0) is taken."""
    if is32:
        a &= M32
        b &= M32
    if op == 0x10:
        return a == b
    if op == 0x50:
        return a != b
    if op == 0x20:
        return a > b
    if op == 0x30:
        return a >= b
    if op == 0xA0:
        return a < b
    if op == 0xB0:
        return a <= b
    if op == 0x40:
        return a & b != 0
    sa, sb = (s32(a), s32(b)) if is32 else (s64(a), s64(b))
    if op == 0x60:
        return sa > sb
    if op == 0x70:
        return sa >= sb
    if op == 0xC0:
        return sa < sb
    if op == 0xD0:
        return sa <= sb
    raise ValueError(f"bad jump op {op:#x}")


def atomic(op: int, size: int, old: int, src: int, r0: int) -> tuple[int, int | None]:
    """(new memory value, value fetched or None) of atomic ``op`` (the imm field).

    For cmpxchg the fetched value goes to r0 instead of src; the caller knows which.
    """
    mask = M32 if size == 4 else M64
    s = src & mask
    base = op & ~0x01
    if op == 0xE1:
        return s, old
    if op == 0xF1:
        return (s if old == (r0 & mask) else old), old
    if base == 0x00:
        new = (old + s) & mask
    elif base == 0x40:
        new = old | s
    elif base == 0x50:
        new = old & s
    elif base == 0xA0:
        new = old ^ s
    else:
        raise ValueError(f"bad atomic op {op:#x}")
    return new, (old if op & 0x01 else None)


__all__ = [
    "M32",
    "M64",
    "alu32",
    "alu64",
    "atomic",
    "bswap",
    "cond",
    "endian",
    "s32",
    "s64",
    "sext",
]
