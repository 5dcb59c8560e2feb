"""The value model helpers and map preparation: buckets, labels, sorting, top and div."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pybpf.output import (
    AvgStats,
    Buffer,
    HistData,
    Int,
    LhistData,
    MapData,
    MapKind,
    StackFrame,
    StackMode,
    Symbolic,
    Tuple,
    decode_cstr,
    format_mac,
    format_pointer,
    format_stack,
    hist_index,
    inet_ntop,
    lhist_index,
)
from pybpf.output.maps import build_hist, hist_label, prepare_map, sort_entries
from pybpf.output.text import bar_width, format_primitive
from pybpf.output.values import format_buffer, format_duration, wrap


def _bounds(index: int, k: int) -> tuple[int, int]:
    """[lo, hi) of a hist bucket, from its label and its predecessor's."""

    def upper(i: int) -> int:
        return i if i <= (2 << k) else hist_label(i, k).numeric

    return upper(index - 1), upper(index)


@given(st.integers(min_value=0, max_value=2**62), st.integers(min_value=0, max_value=5))
def test_hist_index_lands_in_its_labelled_bucket(value: int, k: int) -> None:
    index = hist_index(value, k)
    if index == 1:
        assert value == 0
        return
    lo, hi = _bounds(index, k)
    assert lo <= value < hi


def test_hist_index_small_values() -> None:
    assert [hist_index(v) for v in (-5, 0, 1, 2, 3, 4, 7, 8)] == [0, 1, 2, 3, 3, 4, 4, 5]
    assert [hist_index(v, 2) for v in (0, 3, 7, 8, 9, 10)] == [1, 4, 8, 9, 9, 10]


def test_hist_labels_use_binary_suffixes() -> None:
    assert hist_label(hist_index(1024), 0) == Symbolic("2K", 2048)
    assert hist_label(hist_index(2**30), 0).symbol == "2G"
    assert hist_label(hist_index(2**60), 0).symbol == "2E"


def test_lhist_index() -> None:
    idx = [lhist_index(v, 0, 100, 10) for v in (-1, 0, 9, 10, 99, 100, 1000)]
    assert idx == [0, 1, 1, 2, 10, 11, 11]


def test_build_hist_lower_bound_and_div() -> None:
    hist = build_hist(HistData({hist_index(100): 10, hist_index(1000): 5}), div=2)
    assert hist.lower_bound == Symbolic("64", 64)
    assert hist.counts == [5, 0, 0, 2]  # [64,128) [128,256) [256,512) [512,1K)
    assert build_hist(HistData({3: 0})).counts == []


def test_bar_width_single_precision() -> None:
    assert bar_width(1, 3) == 17
    assert bar_width(33, 64) == 26
    assert bar_width(5, 5) == 52
    assert bar_width(0, 0) == 0


def test_sort_by_value_and_ties_by_key() -> None:
    m = MapData("@c", MapKind.COUNT, [(3, 1), (1, 2), (2, 1)])
    assert [k for k, _ in sort_entries(m)] == [2, 3, 1]


def test_min_max_sort_as_unsigned() -> None:
    m = MapData("@m", MapKind.MIN, [(1, -5), (2, 3)])
    assert [k for k, _ in sort_entries(m)] == [2, 1]


def test_int_keys_sort_signed_at_their_width() -> None:
    m = MapData("@k", MapKind.VALUE, [(Int(2**32 - 1, 32, False), "a"), (Int(1, 32, False), "b")])
    # bpftrace compares 4-byte keys as int32: 0xffffffff is -1.
    assert [v for _, v in sort_entries(m)] == ["a", "b"]


def test_unsortable_keys_keep_given_order() -> None:
    m = MapData("@b", MapKind.VALUE, [(Buffer(b"z"), 1), (Buffer(b"a"), 2)])
    assert [v for _, v in sort_entries(m)] == [1, 2]


def test_tuple_keys_sort_by_int_and_string_fields() -> None:
    keys = [Tuple((2, "a")), Tuple((1, "b")), Tuple((1, "a"))]
    m = MapData("@t", MapKind.VALUE, [(k, "x") for k in keys])
    assert [k for k, _ in sort_entries(m)] == [keys[2], keys[1], keys[0]]


def test_prepare_top_and_div() -> None:
    m = MapData("@s", MapKind.SUM, [(1, 100), (2, 300), (3, 200), (4, -50)])
    prepared = prepare_map(m, top=2, div=100)
    assert prepared.entries == [(3, 2), (2, 3)]
    stats = MapData("@s", MapKind.STATS, [(None, AvgStats(30, 3))], scalar=True)
    assert format_primitive(prepare_map(stats, div=5).entries[0][1]) == (  # type: ignore[arg-type]
        "{ .count = 3, .average = 2, .total = 30 }"
    )


def test_negative_division_truncates_toward_zero() -> None:
    m = MapData("@s", MapKind.SUM, [(None, -7)], scalar=True)
    assert prepare_map(m, div=2).entries[0][1] == -3
    a = MapData("@a", MapKind.AVG, [(None, AvgStats(-7, 2))], scalar=True)
    assert prepare_map(a).entries[0][1] == -3


def test_lhist_ignores_div() -> None:
    m = MapData("@l", MapKind.LHIST, [(None, LhistData({1: 10}, 0, 10, 5))], scalar=True)
    assert prepare_map(m, div=5).entries[0][1].counts == [10]  # type: ignore[union-attr]


def test_wrap_and_int() -> None:
    assert wrap(300, 8, False) == 44
    assert wrap(200, 8, True) == -56
    x = Int(-1, bits=16, signed=False)
    assert x == 65535 and x.bits == 16 and not x.signed
    assert repr(Int(5, 32)) == "Int(5, s32)"


def test_buffers_strings_and_addresses() -> None:
    assert format_buffer(b"ok\x00 ~\x7f") == "ok\\x00 ~\\x7f"
    assert format_buffer(b"\x01A", keep_ascii=False) == "\\x01\\x41"
    assert format_buffer(b"\x01A", escape_hex=False) == "01 41"
    assert decode_cstr(b"abc\x00junk") == "abc"
    assert decode_cstr(b"\xff\x00").encode("utf-8", "surrogateescape") == b"\xff"
    assert inet_ntop(socket.AF_INET, bytes([127, 0, 0, 1])) == "127.0.0.1"
    assert inet_ntop(socket.AF_INET6, bytes(15) + b"\x01") == "::1"
    assert inet_ntop(99, b"") == ""
    assert format_mac(bytes([5, 4, 3, 2, 1, 0xAB])) == "05:04:03:02:01:AB"
    assert format_pointer(-1) == Symbolic("0xffffffffffffffff", 2**64 - 1)


def test_stacks() -> None:
    frames = [StackFrame(0xFFFFFFFF81000010, "do_nanosleep", 16), StackFrame(0xFFFFFFFF81000020)]
    assert format_stack(frames) == "\n        do_nanosleep+16\n        0xffffffff81000020\n"
    assert format_stack(frames, indent=4) == "\n    do_nanosleep+16\n    0xffffffff81000020\n"
    # Kernel frames: no module in perf mode (bpftrace's ksyms never add one).
    assert format_stack(frames, StackMode.PERF) == (
        "\n\tffffffff81000010 do_nanosleep+16\n\tffffffff81000020 0xffffffff81000020\n"
    )
    assert format_stack(frames, StackMode.RAW, indent=4) == "\nffffffff81000010\nffffffff81000020\n"


def test_user_stacks_perf_mode_name_the_module_or_unknown() -> None:
    frames = [
        StackFrame(0x401126, "leaf", 0, "/tmp/t"),
        StackFrame(0x7F0000001000, None, 0, "/usr/lib/libc.so.6"),
        StackFrame(0x7F0000002000, None, 0, ""),
    ]
    assert format_stack(frames, StackMode.PERF) == (
        "\n\t401126 leaf+0 (/tmp/t)"
        "\n\t7f0000001000 0x7f0000001000 ([unknown])"
        "\n\t7f0000002000 0x7f0000002000 ([unknown])\n"
    )
    assert format_stack(frames[:1]) == "\n        leaf+0\n"


@pytest.mark.parametrize(
    ("ns", "text"), [(0, "0ns"), (1500, "1500ns"), (2_000_000, "2ms"), (3 * 10**9, "3s")]
)
def test_durations(ns: int, text: str) -> None:
    assert format_duration(ns) == text
