"""The BTF encoder: what it writes parses back (ours and bpftool's reading agree)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from btf_oracle import bpftool_dump

from pybpf import btf
from pybpf.btf.builder import (
    FUNC_INFO_SIZE,
    LINE_INFO_SIZE,
    BtfBuilder,
    BtfBuildError,
    FuncInfo,
    LineInfo,
    decode_func_info,
    decode_line_info,
    encode_func_info,
    encode_line_info,
)
from pybpf.btf.raw import dump_raw


def test_small_round_trip() -> None:
    b = BtfBuilder()
    i32 = b.add_int("int", 4, signed=True)
    u8 = b.add_int("unsigned char", 1)
    ch = b.add_int("char", 1, encoding=btf.IntEncoding.CHAR)
    ptr = b.add_ptr(ch)
    cptr = b.add_const(ptr)
    arr = b.add_array(u8, i32, 16)
    st = b.add_struct(
        "pair", 24, [("a", i32, 0), ("flag", i32, 32, 3), ("name", ptr, 64), ("raw", arr, 128)]
    )
    un = b.add_union("u", 8, [("x", i32, 0), ("p", ptr, 0)])
    en = b.add_enum("color", [("RED", 0), ("NEG", -1)])
    en64 = b.add_enum("big", [("HUGE", 1 << 40)], size=8)
    fwd = b.add_fwd("later", union=True)
    td = b.add_typedef("pair_t", st)
    proto = b.add_func_proto(i32, [("ctx", ptr), ("n", i32)], variadic=True)
    fn = b.add_func("handler", proto, btf.Linkage.GLOBAL)
    var = b.add_var("counter", i32)
    sec = b.add_datasec(".bss", 4, [(var, 0, 4)])
    flt = b.add_float("double", 8)
    tag = b.add_decl_tag("kfunc", fn)
    tt = b.add_type_tag("user", ch)
    vol = b.add_volatile(i32)
    res = b.add_restrict(ptr)
    spec = btf.Spec(b.encode())
    assert len(spec) == len(b) + 1 == 22
    s = spec.type(st)
    assert isinstance(s, btf.Composite) and s.size == 24
    assert [(m.name, m.type, m.bit_offset, m.bitfield_size) for m in s.members] == [
        ("a", i32, 0, 0), ("flag", i32, 32, 3), ("name", ptr, 64, 0), ("raw", arr, 128, 0)
    ]  # fmt: skip
    assert spec.type(un).kind == btf.Kind.UNION  # type: ignore[union-attr]
    e = spec.type(en)
    assert (
        isinstance(e, btf.Enum)
        and e.signed
        and [(v.name, v.value) for v in e.values] == [("RED", 0), ("NEG", -1)]
    )
    e64 = spec.type(en64)
    assert (
        isinstance(e64, btf.Enum) and e64.kind == btf.Kind.ENUM64 and e64.values[0].value == 1 << 40
    )
    assert spec.type(fwd) == btf.Fwd(fwd, "later", btf.Kind.FWD, True)
    assert spec.resolve(td) == st and spec.resolve(cptr) == ptr and spec.resolve(vol) == i32
    p = spec.func_proto("handler")
    assert p.variadic and [x.name for x in p.params] == ["ctx", "n", ""]
    assert spec.type(fn) == btf.Func(fn, "handler", btf.Kind.FUNC, proto, btf.Linkage.GLOBAL)
    assert spec.type(sec) == btf.Datasec(
        sec, ".bss", btf.Kind.DATASEC, 4, (btf.VarSecInfo(var, 0, 4),)
    )
    assert spec.type(flt) == btf.Float(flt, "double", btf.Kind.FLOAT, 8)
    assert spec.type(tag) == btf.DeclTag(tag, "kfunc", btf.Kind.DECL_TAG, fn, -1)
    assert spec.kind(tt) == btf.Kind.TYPE_TAG and spec.kind(res) == btf.Kind.RESTRICT
    assert spec.size_of(arr) == 16 and spec.size_of(ptr) == 8
    ch_t = spec.type(ch)
    assert isinstance(ch_t, btf.Int) and ch_t.encoding == btf.IntEncoding.CHAR


def test_strings_deduplicated() -> None:
    b = BtfBuilder()
    assert b.add_string("x") == b.add_string("x") == 1
    assert b.add_string("") == 0
    with pytest.raises(BtfBuildError):
        b.add_string("a\0b")


def test_whole_kernel_reencoded_reads_the_same_in_bpftool(tmp_path: Path) -> None:
    """Re-encode every kernel type; bpftool's raw dump of our bytes equals its dump of vmlinux."""
    b = BtfBuilder()
    b.extend(btf.vmlinux())
    out = tmp_path / "re.btf"
    out.write_bytes(b.encode())
    theirs = subprocess.run(
        ["bpftool", "btf", "dump", "file", str(out), "format", "raw"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert theirs == bpftool_dump("raw")
    assert "\n".join(dump_raw(btf.Spec(out.read_bytes()), list(range(1, 200)))) == "\n".join(
        dump_raw(btf.vmlinux(), list(range(1, 200)))
    )


def test_func_and_line_info() -> None:
    b = BtfBuilder()
    i32 = b.add_int("int", 4, signed=True)
    proto = b.add_func_proto(i32, [("ctx", 0)])
    fn = b.add_func("prog", proto, btf.Linkage.GLOBAL)
    fi = [FuncInfo(0, fn)]
    li = [
        LineInfo.make(b, 0, "script.bt", "BEGIN { exit(); }", 1, 9),
        LineInfo.make(b, 5, "script.bt", "x", 2, 1),
    ]
    fblob, lblob = encode_func_info(fi), encode_line_info(li)
    assert len(fblob) == FUNC_INFO_SIZE and len(lblob) == 2 * LINE_INFO_SIZE
    assert decode_func_info(fblob) == fi and decode_line_info(lblob) == li
    spec = btf.Spec(b.encode())
    assert spec.string(li[0].file_name_off) == "script.bt"
    assert spec.string(li[0].line_off) == "BEGIN { exit(); }"
    assert li[0].file_name_off == li[1].file_name_off
    with pytest.raises(BtfBuildError):
        encode_line_info([LineInfo(0, 0, 0, 1, 5000)])


@pytest.mark.parametrize(
    "build",
    [
        lambda b: b.add_int("x", 3),
        lambda b: b.add_enum("e", [("BIG", 1 << 33)]),
        lambda b: b.add_struct("s", 4, [("m", 1, 1 << 25, 1)]),
        lambda b: b.add_ptr(-1),
    ],
)
def test_bad_input(build: object) -> None:
    with pytest.raises(BtfBuildError):
        build(BtfBuilder())  # type: ignore[operator]
