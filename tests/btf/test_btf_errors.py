"""Bad BTF input gives one clear BtfError, never a traceback from deep inside."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf import btf
from pybpf.btf.cformat import dump
from pybpf.btf.raw import dump_raw
from pybpf.errors import PybpfError

GOOD = (Path(__file__).resolve().parents[1] / "testdata" / "btf" / "synthetic.btf").read_bytes()


def _patch(data: bytes, off: int, fmt: str, *vals: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, off, *vals)
    return bytes(b)


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "shorter than its header"),
        (b"\x00" * 40, "not BTF data"),
        (GOOD[:30], "header lengths run past the end"),
        (_patch(GOOD, 2, "<B", 7), "unsupported BTF version 7"),
        (_patch(GOOD, 24 + 4, "<I", 25 << 24), "type id 1 has unknown kind 25"),
        (_patch(GOOD, 24 + 4, "<I", 0), "type id 1 has unknown kind 0"),
        # Claim more struct members than there are bytes for: the walk overruns.
        (
            _patch(GOOD, 12, "<I", struct.unpack_from("<I", GOOD, 12)[0] - 4),
            "runs past the type section",
        ),
    ],
)
def test_corrupt_headers(data: bytes, message: str) -> None:
    with pytest.raises(btf.BtfError, match=message):
        btf.Spec(data)


def test_bad_string_offset() -> None:
    spec = btf.Spec(_patch(GOOD, 24, "<I", 10**6))
    with pytest.raises(btf.BtfError, match="string offset 1000000 out of range"):
        spec.type(1)


def test_dangling_reference() -> None:
    from pybpf.btf.builder import BtfBuilder

    b = BtfBuilder()
    p = b.add_ptr(99)
    spec = btf.Spec(b.encode())
    with pytest.raises(btf.BtfNotFoundError, match="type id 99 out of range"):
        dump(spec, p)


def test_modifier_loop() -> None:
    from pybpf.btf.builder import BtfBuilder

    b = BtfBuilder()
    b.add_const(2)
    b.add_volatile(1)
    spec = btf.Spec(b.encode())
    with pytest.raises(btf.BtfError, match=r"loop|too deeply"):
        spec.resolve(1)
    with pytest.raises(btf.BtfError):
        dump(spec, 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=6)
)
def test_fuzzed_bytes_never_escape(flips: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD)
    for off, val in flips:
        data[off] = val
    try:
        spec = btf.Spec(bytes(data))
    except btf.BtfError:
        return
    for tid in range(len(spec)):
        try:
            dump(spec, tid)
            spec.size_of(tid)
            if tid:
                list(dump_raw(spec, [tid]))
        except PybpfError:
            pass


def test_not_btf_file(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_text("hello world, definitely not BTF\n")
    with pytest.raises(btf.BtfError, match="not a BTF or ELF file"):
        btf.load(p)
    with pytest.raises(btf.BtfError, match="No such file"):
        btf.load(tmp_path / "missing")
    with pytest.raises(btf.BtfError, match=r"no \.BTF section"):
        btf.load("/bin/true")


@pytest.mark.parametrize(
    "data,message",
    [
        (_patch(GOOD, 24 + 4, "<I", 25 << 24), "type id 1 has unknown kind 25"),
        (
            _patch(GOOD, 12, "<I", struct.unpack_from("<I", GOOD, 12)[0] - 4),
            "runs past the type section",
        ),
    ],
)
def test_both_index_walks_report_the_same(data: bytes, message: str) -> None:
    from pybpf.btf import index

    hdr = index.parse_header(data)
    for walk in (index._walk_words, index._walk_struct):
        with pytest.raises(btf.BtfError, match=message):
            walk(data, hdr)


def test_both_index_walks_agree_on_the_kernel() -> None:
    from pybpf.btf import index

    data = Path(btf.VMLINUX_PATH).read_bytes()
    hdr = index.parse_header(data)
    assert index._walk_words(data, hdr) == index._walk_struct(data, hdr)
    small = index.parse_header(GOOD)
    assert index._walk_words(GOOD, small) == index._walk_struct(GOOD, small)
