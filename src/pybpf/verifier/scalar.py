"""Scalar abstract values: a tnum plus unsigned and signed 64-bit bounds, kept in sync.

Everything here is sound (it may lose precision, never admit too little). 32-bit ALU
results are computed in 64 bits on the zero-extended operands and then truncated, which is
exact for constants and falls back to ``[0, 2**32-1]`` when the range could wrap.
"""

from __future__ import annotations

from pybpf.records import dataclass
from pybpf.verifier import tnum as tn
from pybpf.verifier.tnum import Tnum
from pybpf.vm import semantics as sem

M64 = sem.M64
M32 = sem.M32
S64_MIN, S64_MAX = -(1 << 63), (1 << 63) - 1


def _s(v: int) -> int:
    return v - (1 << 64) if v & (1 << 63) else v


@dataclass(frozen=True, slots=True)
class Scalar:
    """A set of 64-bit values: within every bound and matching the tnum."""

    umin: int = 0
    umax: int = M64
    smin: int = S64_MIN
    smax: int = S64_MAX
    t: Tnum = tn.UNKNOWN

    @property
    def is_const(self) -> bool:
        """Exactly one value."""
        return self.t.is_const

    @property
    def value(self) -> int:
        """The value (meaningful when ``is_const``)."""
        return self.t.value

    def contains(self, o: Scalar) -> bool:
        """Every value of ``o`` is a value of ``self`` (for state pruning)."""
        return (
            self.umin <= o.umin
            and o.umax <= self.umax
            and self.smin <= o.smin
            and o.smax <= self.smax
            and self.t.contains(o.t)
        )

    def __str__(self) -> str:
        if self.is_const:
            return f"{_s(self.value)}"
        parts = []
        if self.umin:
            parts.append(f"umin={self.umin}")
        if self.umax != M64:
            parts.append(f"umax={self.umax}")
        if self.smin != S64_MIN:
            parts.append(f"smin={self.smin}")
        if self.smax != S64_MAX:
            parts.append(f"smax={self.smax}")
        return "scalar(" + ",".join(parts) + ")"


UNKNOWN = Scalar()


def const(v: int) -> Scalar:
    """Exactly ``v`` (taken modulo 2**64)."""
    v &= M64
    return Scalar(v, v, _s(v), _s(v), tn.const(v))


ZERO = const(0)


def make(
    umin: int = 0, umax: int = M64, smin: int = S64_MIN, smax: int = S64_MAX, t: Tnum = tn.UNKNOWN
) -> Scalar:
    """A scalar from (possibly loose) facts, tightened until they agree."""
    for _ in range(2):
        # tnum -> unsigned
        umin = max(umin, t.value)
        umax = min(umax, t.value | t.mask)
        # unsigned <-> signed when the range does not straddle the sign boundary
        if umax <= S64_MAX or umin > S64_MAX:
            smin = max(smin, _s(umin))
            smax = min(smax, _s(umax))
        if smin >= 0 or smax < 0:
            umin = max(umin, smin & M64)
            umax = min(umax, smax & M64)
        if umin > umax or smin > smax:
            # contradiction: the caller is on a dead branch; keep a valid (empty-ish) value
            return const(umin)
        t = tn.intersect(t, tn.trange(umin, umax))
    return Scalar(umin, umax, smin, smax, t)


def bounded(lo: int, hi: int) -> Scalar:
    """Any value in the unsigned range ``[lo, hi]``."""
    return make(lo, hi, t=tn.trange(lo, hi))


def cast32(a: Scalar) -> Scalar:
    """Zero-extended low 32 bits."""
    if a.is_const:
        return const(a.value & M32)
    if a.umax <= M32:
        return a
    return make(0, M32, t=tn.cast(a.t, 4))


def sext_bits(a: Scalar, bits: int) -> Scalar:
    """Sign-extension of the low ``bits`` to 64."""
    if a.is_const:
        return const(sem.sext(a.value, bits))
    half = 1 << (bits - 1)
    if a.umax < half:
        return a
    return make(smin=-half, smax=half - 1)


def alu(code: int, is64: bool, a: Scalar, b: Scalar, off: int = 0) -> Scalar:
    """Abstract ``a OP b`` for ALU ``code`` (opcode & 0xF0)."""
    if not is64:
        a, b = cast32(a), cast32(b)
    if a.is_const and b.is_const:
        fn = sem.alu64 if is64 else sem.alu32
        return const(fn(code, a.value, b.value, off))
    r = _alu64(code, a, b, off, is64)
    return r if is64 else cast32(r)


def _alu64(code: int, a: Scalar, b: Scalar, off: int, is64: bool) -> Scalar:
    if code == 0x00:
        return _add(a, b)
    if code == 0x10:
        return _sub(a, b)
    if code == 0x20:
        if a.umax * b.umax <= M64:
            return make(a.umin * b.umin, a.umax * b.umax, t=tn.mul(a.t, b.t))
        return make(t=tn.mul(a.t, b.t))
    if code == 0x50:
        return make(0, min(a.umax, b.umax), t=tn.and_(a.t, b.t))
    if code == 0x40:
        return make(max(a.umin, b.umin), M64, t=tn.or_(a.t, b.t))
    if code == 0xA0:
        return make(t=tn.xor(a.t, b.t))
    if code == 0xB0:
        return sext_bits(b, off) if off else b
    width = 64 if is64 else 32
    if code in (0x60, 0x70, 0xC0) and b.is_const:
        k = b.value & (width - 1)
        if code == 0x60:
            if a.umax << k <= M64:
                return make(a.umin << k, a.umax << k, t=tn.lshift(a.t, k))
            return make(t=tn.lshift(a.t, k))
        if code == 0x70:
            return make(a.umin >> k, a.umax >> k, t=tn.rshift(a.t, k))
        if is64:
            return make(smin=a.smin >> k, smax=a.smax >> k, t=tn.arshift(a.t, k))
        return make(0, M32)
    if code == 0x70:
        return make(0, a.umax)
    if code == 0x30 and off == 0:
        if b.umin > 0:
            return make(a.umin // b.umax, a.umax // b.umin)
        return make(0, a.umax)
    if code == 0x90 and off == 0:
        if b.umin > 0:
            return make(0, min(a.umax, b.umax - 1))
        return make(0, a.umax)
    return UNKNOWN if is64 else make(0, M32)


def _add(a: Scalar, b: Scalar) -> Scalar:
    umin, umax = a.umin + b.umin, a.umax + b.umax
    if umax > M64:
        umin, umax = 0, M64
    smin, smax = a.smin + b.smin, a.smax + b.smax
    if smin < S64_MIN or smax > S64_MAX:
        smin, smax = S64_MIN, S64_MAX
    return make(umin, umax, smin, smax, tn.add(a.t, b.t))


def _sub(a: Scalar, b: Scalar) -> Scalar:
    umin, umax = a.umin - b.umax, a.umax - b.umin
    if umin < 0:
        umin, umax = 0, M64
    smin, smax = a.smin - b.smax, a.smax - b.smin
    if smin < S64_MIN or smax > S64_MAX:
        smin, smax = S64_MIN, S64_MAX
    return make(umin, umax, smin, smax, tn.sub(a.t, b.t))


def endian(a: Scalar, is64: bool, to_be: bool, bits: int) -> Scalar:
    """``le``/``be``/``bswap`` of ``a``."""
    if a.is_const:
        return const(sem.endian(is64, to_be, bits, a.value))
    if not (is64 or to_be):
        return make(t=tn.cast(a.t, bits // 8)) if bits < 64 else a
    return make(0, (1 << bits) - 1)


def refine(code: int, taken: bool, a: Scalar, k: int) -> Scalar:
    """``a`` narrowed by knowing that ``a OP k`` (64-bit jump ``code``) is ``taken``."""
    ks = _s(k)
    lo, hi, slo, shi, t = a.umin, a.umax, a.smin, a.smax, a.t
    if not taken:
        code = _NEGATE.get(code, code)
        if code == 0x40:  # not (a & k): those bits are zero
            return make(lo, hi, slo, shi, tn.and_(t, tn.const(~k & M64)))
    if code == 0x10:
        return const(k)
    if code == 0x50:
        if a.umin == k:
            lo += 1
        if a.umax == k:
            hi -= 1
    elif code == 0x20:
        lo = max(lo, k + 1)
    elif code == 0x30:
        lo = max(lo, k)
    elif code == 0xA0:
        hi = min(hi, k - 1)
    elif code == 0xB0:
        hi = min(hi, k)
    elif code == 0x60:
        slo = max(slo, ks + 1)
    elif code == 0x70:
        slo = max(slo, ks)
    elif code == 0xC0:
        shi = min(shi, ks - 1)
    elif code == 0xD0:
        shi = min(shi, ks)
    if lo > hi or slo > shi:
        return a
    return make(lo, hi, slo, shi, t)


_NEGATE = {
    0x10: 0x50,
    0x50: 0x10,
    0x20: 0xB0,
    0xB0: 0x20,
    0x30: 0xA0,
    0xA0: 0x30,
    0x60: 0xD0,
    0xD0: 0x60,
    0x70: 0xC0,
    0xC0: 0x70,
    0x40: 0x40,
}


def branch(code: int, a: Scalar, k: int) -> bool | None:
    """True/False when ``a OP k`` is decided by what is known of ``a``; None otherwise."""
    ks = _s(k)
    if code == 0x10:
        if a.is_const:
            return a.value == k
        return False if k < a.umin or k > a.umax or not a.t.contains(tn.const(k)) else None
    if code == 0x50:
        r = branch(0x10, a, k)
        return None if r is None else not r
    if code == 0x40:
        if a.t.value & k:
            return True
        if not (a.t.value | a.t.mask) & k:
            return False
        return None
    tests = {
        0x20: (a.umin > k, a.umax <= k),
        0x30: (a.umin >= k, a.umax < k),
        0xA0: (a.umax < k, a.umin >= k),
        0xB0: (a.umax <= k, a.umin > k),
        0x60: (a.smin > ks, a.smax <= ks),
        0x70: (a.smin >= ks, a.smax < ks),
        0xC0: (a.smax < ks, a.smin >= ks),
        0xD0: (a.smax <= ks, a.smin > ks),
    }
    yes, no = tests[code]
    return True if yes else False if no else None


SWAP = {
    0x10: 0x10,
    0x50: 0x50,
    0x40: 0x40,
    0x20: 0xA0,
    0xA0: 0x20,
    0x30: 0xB0,
    0xB0: 0x30,
    0x60: 0xC0,
    0xC0: 0x60,
    0x70: 0xD0,
    0xD0: 0x70,
}
"""The same comparison with its operands swapped (``a > b`` is ``b < a``)."""

__all__ = [
    "SWAP",
    "UNKNOWN",
    "Scalar",
    "alu",
    "bounded",
    "branch",
    "cast32",
    "const",
    "endian",
    "make",
    "refine",
    "sext_bits",
]
