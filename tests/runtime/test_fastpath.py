"""The run loop's fast path agrees with the general decoders and the printf formatter."""

from __future__ import annotations

import struct

import pytest

from pybpf.output import format_printf
from pybpf.passes.types import BOOL, INT64, UINT64, StringType
from pybpf.runtime.events import EventField, EventKind, EventTable
from pybpf.runtime.fastpath import decoder, simple_printf


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
