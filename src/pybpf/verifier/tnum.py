"""Tristate numbers: which bits of a 64-bit value are known, and to what.

A ``Tnum(value, mask)`` stands for every ``x`` with ``x & ~mask == value``: bits set in
``mask`` are unknown. The arithmetic below is the standard sound tnum algebra.
"""

from __future__ import annotations

from typing import NamedTuple

M64 = 0xFFFF_FFFF_FFFF_FFFF


class Tnum(NamedTuple):
    """Known bits ``value``, unknown bits ``mask`` (``value & mask == 0``)."""

    value: int
    mask: int

    @property
    def is_const(self) -> bool:
        """Every bit known."""
        return self.mask == 0

    def contains(self, other: Tnum) -> bool:
        """Every value ``other`` admits is admitted by ``self``."""
        if other.mask & ~self.mask:
            return False
        return other.value & ~self.mask == self.value


UNKNOWN = Tnum(0, M64)


def const(v: int) -> Tnum:
    """Exactly ``v``."""
    return Tnum(v & M64, 0)


def trange(lo: int, hi: int) -> Tnum:
    """The smallest tnum covering the unsigned range ``[lo, hi]``."""
    chi = lo ^ hi
    bits = chi.bit_length()
    if bits > 63:
        return UNKNOWN
    delta = (1 << bits) - 1
    return Tnum(lo & ~delta & M64, delta)


def add(a: Tnum, b: Tnum) -> Tnum:
    """Sum."""
    sm = (a.mask + b.mask) & M64
    sv = (a.value + b.value) & M64
    sigma = (sm + sv) & M64
    chi = sigma ^ sv
    mu = chi | a.mask | b.mask
    return Tnum(sv & ~mu & M64, mu & M64)


def sub(a: Tnum, b: Tnum) -> Tnum:
    """Difference."""
    dv = (a.value - b.value) & M64
    alpha = (dv + a.mask) & M64
    beta = (dv - b.mask) & M64
    chi = alpha ^ beta
    mu = chi | a.mask | b.mask
    return Tnum(dv & ~mu & M64, mu & M64)


def and_(a: Tnum, b: Tnum) -> Tnum:
    """Bitwise and."""
    alpha = a.value | a.mask
    beta = b.value | b.mask
    v = a.value & b.value
    return Tnum(v, alpha & beta & ~v & M64)


def or_(a: Tnum, b: Tnum) -> Tnum:
    """Bitwise or."""
    v = a.value | b.value
    mu = a.mask | b.mask
    return Tnum(v, mu & ~v & M64)


def xor(a: Tnum, b: Tnum) -> Tnum:
    """Bitwise xor."""
    v = a.value ^ b.value
    mu = a.mask | b.mask
    return Tnum(v & ~mu & M64, mu)


def lshift(a: Tnum, k: int) -> Tnum:
    """Shift left by a constant."""
    return Tnum((a.value << k) & M64, (a.mask << k) & M64)


def rshift(a: Tnum, k: int) -> Tnum:
    """Logical shift right by a constant."""
    return Tnum(a.value >> k, a.mask >> k)


def arshift(a: Tnum, k: int, bits: int = 64) -> Tnum:
    """Arithmetic shift right by a constant, in ``bits``-bit arithmetic."""

    def sar(v: int) -> int:
        if v & (1 << (bits - 1)):
            v -= 1 << bits
        return (v >> k) & ((1 << bits) - 1)

    return Tnum(sar(a.value), sar(a.mask))


def mul(a: Tnum, b: Tnum) -> Tnum:
    """Product (exact for constants, otherwise a sound over-approximation)."""
    if a.is_const and b.is_const:
        return const(a.value * b.value)
    acc_v = (a.value * b.value) & M64
    acc_m = UNKNOWN if (a.mask or b.mask) else const(0)
    # the low bits stay known as far as both factors' low bits are known
    low = (
        min(
            (a.mask & -a.mask).bit_length() if a.mask else 64,
            (b.mask & -b.mask).bit_length() if b.mask else 64,
        )
        - 1
    )
    if low <= 0:
        return acc_m
    keep = (1 << low) - 1
    return Tnum(acc_v & keep, M64 & ~keep)


def intersect(a: Tnum, b: Tnum) -> Tnum:
    """Values admitted by both (assumes they are compatible)."""
    v = a.value | b.value
    mu = a.mask & b.mask
    return Tnum(v & ~mu & M64, mu)


def cast(a: Tnum, nbytes: int) -> Tnum:
    """Truncate to the low ``nbytes`` bytes (zero-extended)."""
    m = (1 << (nbytes * 8)) - 1
    return Tnum(a.value & m, a.mask & m)


def umin(a: Tnum) -> int:
    """Smallest unsigned value admitted."""
    return a.value


def umax(a: Tnum) -> int:
    """Largest unsigned value admitted."""
    return a.value | a.mask


__all__ = [
    "UNKNOWN",
    "Tnum",
    "add",
    "and_",
    "arshift",
    "cast",
    "const",
    "intersect",
    "lshift",
    "mul",
    "or_",
    "rshift",
    "sub",
    "trange",
    "umax",
    "umin",
    "xor",
]
