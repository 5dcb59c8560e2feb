"""A small BTF blob built with the encoder: the input of the C-printing goldens."""

from __future__ import annotations

from pybpf.btf import Linkage
from pybpf.btf.builder import BtfBuilder


def build() -> BtfBuilder:
    """Types exercising holes, bitfields, anonymous members, function pointers, arrays."""
    b = BtfBuilder()
    i32 = b.add_int("int", 4, signed=True)
    u32 = b.add_int("unsigned int", 4)
    i16 = b.add_int("short int", 2, signed=True)
    i64 = b.add_int("long int", 8, signed=True)
    ch = b.add_int("char", 1, signed=True)
    cptr = b.add_ptr(ch)
    demo_fwd = b.add_fwd("demo")
    demo_ptr = b.add_ptr(demo_fwd)
    proto = b.add_func_proto(0, [("", demo_ptr), ("", i32)])
    cb = b.add_ptr(proto)
    cch = b.add_const(ch)
    label = b.add_const(b.add_ptr(cch))
    row = b.add_array(i32, i32, 3)
    grid = b.add_array(row, i32, 2)
    tail = b.add_array(ch, i32, 60)
    anon_union = b.add_union("", 8, [("i", i32, 0), ("l", i64, 0)])
    pair = b.add_struct("", 4, [("s1", i16, 0), ("s2", i16, 16)])
    b.add_struct(
        "demo",
        144,
        [
            ("a", i32, 0),
            ("name", cptr, 64),
            ("x", u32, 128, 3),
            ("y", u32, 131, 5),
            ("", anon_union, 192),
            ("pair", pair, 256),
            ("cb", cb, 320),
            ("label", label, 384),
            ("grid", grid, 448),
            ("tail", tail, 640),
            ("last", ch, 1120),
        ],
    )
    b.add_enum("mode", [("MODE_OFF", 0), ("MODE_ON", 1), ("MODE_BAD", -1)])
    pt = b.add_struct("", 8, [("x", i32, 0), ("y", i32, 32)])
    b.add_typedef("point_t", pt)
    sum_proto = b.add_func_proto(i64, [("p", b.add_ptr(pt)), ("n", u32)])
    b.add_func("point_sum", sum_proto, Linkage.GLOBAL)
    return b
