"""Soundness of the abstract domains: every concrete result lies inside the abstract one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf.verifier import scalar as sc
from pybpf.verifier import tnum as tn
from pybpf.vm import semantics as sem

M64 = 2**64 - 1
u64 = st.one_of(st.integers(0, M64), st.integers(0, 300), st.integers(M64 - 300, M64))


@st.composite
def abstract(draw: st.DrawFn) -> tuple[sc.Scalar, int]:
    """An abstract scalar and one concrete value it contains."""
    v = draw(u64)
    kind = draw(st.sampled_from(["const", "range", "tnum", "unknown"]))
    if kind == "const":
        return sc.const(v), v
    if kind == "range":
        lo = draw(st.integers(0, v))
        hi = draw(st.integers(v, min(M64, v + 2 ** draw(st.integers(0, 64)))))
        return sc.bounded(lo, hi), v
    if kind == "tnum":
        mask = draw(u64)
        return sc.make(t=tn.Tnum(v & ~mask & M64, mask)), v
    return sc.UNKNOWN, v


def _inside(a: sc.Scalar, v: int) -> bool:
    s = v - 2**64 if v >> 63 else v
    return a.umin <= v <= a.umax and a.smin <= s <= a.smax and a.t.contains(tn.const(v))


CODES = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xA0, 0xB0, 0xC0]


@settings(max_examples=200, deadline=None)
@given(abstract(), abstract(), st.sampled_from(CODES), st.booleans(), st.sampled_from([0, 1]))
def test_alu_is_sound(a: tuple[sc.Scalar, int], b: tuple[sc.Scalar, int], code: int,
                      is64: bool, off: int) -> None:  # fmt: skip
    (x, xv), (y, yv) = a, b
    if code not in (0x30, 0x90):
        off = 0
    fn = sem.alu64 if is64 else sem.alu32
    assert _inside(x, xv) and _inside(y, yv)
    assert _inside(sc.alu(code, is64, x, y, off), fn(code, xv, yv, off))


JCODES = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xA0, 0xB0, 0xC0, 0xD0]


@settings(max_examples=200, deadline=None)
@given(abstract(), u64, st.sampled_from(JCODES))
def test_branch_refinement_is_sound(a: tuple[sc.Scalar, int], k: int, code: int) -> None:
    x, xv = a
    taken = sem.cond(code, False, xv, k)
    decided = sc.branch(code, x, k)
    assert decided is None or decided == taken
    assert _inside(sc.refine(code, taken, x, k), xv)


@settings(max_examples=150, deadline=None)
@given(abstract(), abstract())
def test_tnum_ops_are_sound(a: tuple[sc.Scalar, int], b: tuple[sc.Scalar, int]) -> None:
    (x, xv), (y, yv) = a, b
    for op, f in ((tn.add, lambda p, q: (p + q) & M64), (tn.sub, lambda p, q: (p - q) & M64),
                  (tn.mul, lambda p, q: (p * q) & M64), (tn.and_, lambda p, q: p & q),
                  (tn.or_, lambda p, q: p | q), (tn.xor, lambda p, q: p ^ q)):  # fmt: skip
        assert op(x.t, y.t).contains(tn.const(f(xv, yv)))
