"""printf formatting: every conversion, flag, width and length modifier.

Expected strings marked 0.17 were printed by Debian's bpftrace 0.17 (they are also in the
tracer table); the others follow current bpftrace's stream-based formatter, where the
two differ (zero fill outside the sign, ignored precision, %s of any value).
"""

from __future__ import annotations

import pytest

from pybpf.output import Buffer, Int, Record, Symbolic, Tuple, format_printf, parse_format
from pybpf.output.printf import check_format, parse

CASES: list[tuple[str, list[object], str]] = [
    # 0.17 agrees
    ("%d %d %d %d %d", [0, 1, -1, 2147483647, -2147483648], "0 1 -1 2147483647 -2147483648"),
    ("%d %ld %lld", [0x100000005] * 3, "5 4294967301 4294967301"),
    (
        "%ld %lld %ld",
        [2**63 - 1, -(2**63 - 1), 2**32],
        "9223372036854775807 -9223372036854775807 4294967296",
    ),
    ("%u %u %lu", [0, 4294967295, 4294967296], "0 4294967295 4294967296"),
    ("%u %lu %llu", [-1, -1, -1], "4294967295 18446744073709551615 18446744073709551615"),
    ("%x %X %x %X", [255, 255, 3735928559, 48879], "ff FF deadbeef BEEF"),
    (
        "%lx %llx %lX %x",
        [0x123456789ABCDEF0] * 4,
        "123456789abcdef0 123456789abcdef0 123456789ABCDEF0 9abcdef0",
    ),
    ("%x %lx", [-1, -1], "ffffffff ffffffffffffffff"),
    ("%o %o %lo", [8, 511, 4294967296], "10 777 40000000000"),
    ("%c%c%c%c", [0x41, 0x42, 0x43, 0x44], "ABCD"),
    ("[%s] [%s] [%s]", ["abc", "", "with space"], "[abc] [] [with space]"),
    ("|%5d|%-5d|%1d|%8d|", [42, 42, 12345, -7], "|   42|42   |12345|      -7|"),
    ("|%8s|%-8s|%2s|", ["abc", "abc", "abcdef"], "|     abc|abc     |abcdef|"),
    ("|%8x|%-8x|%4X|", [255, 255, 48879], "|      ff|ff      |BEEF|"),
    (
        "%hhx %hx %x %jx %lx",
        [0x12345678ABCDEF] * 5,
        "ef cdef 78abcdef 12345678abcdef 12345678abcdef",
    ),
    ("%hhd %hd %hhu %hu", [200, 40000, 200, 40000], "-56 -25536 200 40000"),
    ("100%% done, %d%%", [50], "100% done, 50%"),
    ("%d %d %d %d %d %d %d", [1, 2, 3, 4, 5, 6, 7], "1 2 3 4 5 6 7"),
    ("%s=%d (%x) %s", ["val", 26, 26, "ok"], "val=26 (1a) ok"),
    ("%p %p", [4096, 0xFFFF8880DEADBEEF], "0x1000 0xffff8880deadbeef"),
    ("%i|%i", [42, -42], "42|-42"),
    ("%zd %td %zu", [-1, -1, -1], "-1 -1 18446744073709551615"),
    # current bpftrace (C++ streams), different from 0.17's snprintf
    ("|%05d|%08x|%03d|%04X|", [42, 255, 7, 48879], "|00042|000000ff|007|BEEF|"),
    ("|%05d|%-5d|", [-3, -3], "|000-3|-3   |"),
    ("|%-05d|", [7], "|70000|"),
    ("%+d %+d %+d %+u", [5, -5, 0, 5], "+5 -5 +0 5"),
    ("%#x %#X %#o %#x %#o", [255, 255, 8, 0, 0], "0xff 0XFF 010 0 0"),
    ("[% d]", [5], "[5]"),
    ("[%.2s] [%.3d]", ["abcdef", 5], "[abcdef] [5]"),
    ("[%*d]", [5], "[5]"),
    ("[%3c][%-3c]", [65, 66], "[  A][B  ]"),
    ("%p", [0], "0"),
    ("%s %s %s", [42, -7, True], "42 -7 true"),
    ("%s", [Tuple((1, "a"))], "(1, a)"),
    ("[%8s]", [Tuple((1, 2))], "[       (1, 2)]"),
    ("[%4s]", [Record((("a", 1),))], "[  { .a = 1 }]"),
    ("%d", [True], "1"),
    ("%x", [Symbolic("0xff", 255)], "ff"),
    ("%s", [Symbolic("0xff", 255)], "0xff"),
    ("%d", [Int(255, bits=8, signed=False)], "255"),
    ("%d", [Int(-1, bits=8)], "-1"),
    ("%u", [Int(-1, bits=8)], "4294967295"),
    ("%d", ["abc"], "!{invalid integer conversion: abc}"),
    # buffers
    ("%r", [Buffer(b"ab\x01\xffz")], "ab\\x01\\xffz"),
    ("%rx", [Buffer(b"Hello\x00")], "\\x48\\x65\\x6c\\x6c\\x6f\\x00"),
    ("%rh", [Buffer(b"Hello\x00")], "48 65 6c 6c 6f 00"),
    ("%s", [Buffer(b"a b~\x7f")], "a b~\\x7f"),
    ("%r", ["not a buffer"], "not a buffer"),
]


@pytest.mark.parametrize(("fmt", "args", "expected"), CASES)
def test_format(fmt: str, args: list[object], expected: str) -> None:
    assert format_printf(fmt, args) == expected  # type: ignore[arg-type]


def test_parse_format_specs() -> None:
    specs = parse_format("a %-+ #08.3lx b %s %% %rh %c")
    assert [s.conversion for s in specs] == ["x", "s", "rh", "c"]
    first = specs[0]
    assert (first.left_align, first.show_sign, first.space_prefix) == (True, True, True)
    assert (first.alternate_form, first.lead_zeros) == (True, True)
    assert (first.width, first.precision, first.length) == (8, 3, "l")
    assert specs[0].text == "%-+ #08.3lx"


def test_parse_keeps_literal_percent_in_fragments() -> None:
    parsed = parse("50%% of %d is %d%%\n")
    assert parsed.fragments == ("50% of ", " is ", "%\n")
    assert len(parsed.specs) == 2


def test_flags_out_of_order_are_not_a_conversion() -> None:
    # bpftrace's grammar fixes the flag order; "%0-5d" is not one conversion.
    assert [s.text for s in parse_format("%0-5d")] == []


def test_parsed_format_is_reusable() -> None:
    parsed = parse("%d-%s\n")
    assert format_printf(parsed, [1, "a"]) == "1-a\n"
    assert format_printf(parsed, [2, "b"]) == "2-b\n"


def test_check_format_counts() -> None:
    assert check_format("%d %d", ["integer"]) == (
        "not enough arguments for format string (1 supplied, 2 expected)"
    )
    assert check_format("%d", ["integer", "integer"]) == (
        "too many arguments for format string (2 supplied, 1 expected)"
    )
    assert check_format("no args", []) is None


def test_check_format_types() -> None:
    assert check_format("%d %x %c %p", ["integer", "boolean", "integer", "pointer"]) is None
    assert check_format("%s", ["tuple"]) is None
    assert check_format("%d", ["string"], ["string"]) == (
        "unsupported format specifier for type 'string': d"
    )
    assert check_format("%r", ["integer"], ["int64"]) == (
        "unsupported format specifier for type 'int64': r"
    )
    assert check_format("%f", ["integer"]) == "unsupported format specifier: f"
    assert check_format("%s", ["none"]) == "unable to print none type for specifier: s"
