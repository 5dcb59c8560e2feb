"""The run loop's fast path agrees with the general decoders and the printf formatter."""

from __future__ import annotations

import struct

import pytest

from pybpf.output import format_printf
from pybpf.passes.types import BOOL, INT64, UINT64, StringType
from pybpf.runtime.events import EventField, EventKind, EventTable
from pybpf.runtime.fastpath import decoder, int32_slots, printf_writer, simple_printf


def _spec(*types: object) -> object:
    fields, off = [], 0
    for t in types:
        fields.append(EventField(t, off))  # type: ignore[arg-type]
        off += t.size  # type: ignore[attr-defined]
    return EventTable().add(EventKind.PRINTF, tuple(fields), off)


def test_fast_decoder_matches_the_generic_one() -> None:
    spec = _spec(StringType(16), INT64, UINT64, BOOL)
    rec = memoryview(struct.pack("<Q16sqQ?", 1, b"bash\0xx", -5, 1 << 63, True))
    assert decoder(spec, (), None)(rec) == ["bash", -5, 1 << 63, True]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fmt", "args"),
    [
        ("getpid %s %d\n", ["bpfload", 1234]),
        ("%-10s|%6d|%-5d\n", ["ab", -3, 42]),
        ("100%% done %i\n", [7]),
        ("%s and %s\n", ["x", 9]),
    ],
)
def test_simple_printf_agrees_with_the_formatter(fmt: str, args: list[object]) -> None:
    types = [StringType(16) if isinstance(a, str) else INT64 for a in args]
    pyfmt = simple_printf(fmt, _spec(*types))  # type: ignore[arg-type]
    assert pyfmt is not None
    assert pyfmt % tuple(args) == format_printf(fmt, args)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["%x\n", "%lu\n", "%c\n", "%d %d\n", "%05d\n", "% d\n", "%.2d\n"])
def test_other_formats_take_the_general_path(fmt: str) -> None:
    assert simple_printf(fmt, _spec(INT64)) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("types", "payload", "fmt"),
    [
        ((StringType(16), INT64), struct.pack("<16sq", b"bash\0junk", -7), "getpid %s %d\n"),
        ((INT64, UINT64), struct.pack("<qQ", -1, 1 << 63), "%d %d\n"),
        ((StringType(4),), struct.pack("<4s", b"full"), "[%-6s]\n"),  # no NUL: all 4 bytes
    ],
)
def test_printf_writer_writes_what_the_general_path_would(
    types: tuple[object, ...], payload: bytes, fmt: str
) -> None:
    spec = _spec(*types)
    pyfmt = simple_printf(fmt, spec)  # type: ignore[arg-type]
    assert pyfmt is not None
    rec = memoryview(struct.pack("<Q", 1) + payload)
    out: list[str] = []
    write = printf_writer(spec, pyfmt, int32_slots(pyfmt, spec), out.append)  # type: ignore[arg-type]
    assert write is not None
    write(rec)
    vals = decoder(spec, (), None)(rec)  # type: ignore[arg-type]
    assert out == [format_printf(fmt, vals)]


def test_printf_writer_leaves_bools_to_the_general_path() -> None:
    spec = _spec(BOOL)
    assert printf_writer(spec, "%d\n", (), print) is None  # type: ignore[arg-type]


def test_printf_writer_keeps_bytes_that_are_not_utf8() -> None:
    """Kernel strings are bytes: the fast path hands them on as the general decoder does
    (surrogate escapes, written back out as the same bytes), not as ``\\xff`` text."""
    spec = _spec(StringType(8))
    pyfmt = simple_printf("[%s]\n", spec)  # type: ignore[arg-type]
    assert pyfmt is not None
    out: list[str] = []
    write = printf_writer(spec, pyfmt, int32_slots(pyfmt, spec), out.append)  # type: ignore[arg-type]
    assert write is not None
    write(memoryview(struct.pack("<Q8s", 1, b"a\xff\x80\0zz")))
    assert out == ["[a\udcff\udc80]\n"]
    assert out[0].encode("utf-8", "surrogateescape") == b"[a\xff\x80]\n"
