"""The event protocol: ids, layouts and decoding of ring-buffer records."""

from __future__ import annotations

import struct

import pytest

from pybpf.output.values import Tuple
from pybpf.passes.types import INT32, INT64, UINT64, RecordType, StringType, TupleType
from pybpf.runtime.events import HEADER, EventField, EventKind, EventTable
from pybpf.runtime.values import decode_value


def test_ids_are_dense_and_decode_round_trips() -> None:
    t = EventTable()
    a = t.add(
        EventKind.PRINTF, (EventField(INT64, 0), EventField(StringType(8), 8)), 16, fmt="%d %s\n"
    )
    b = t.add(EventKind.EXIT)
    assert (a.id, b.id) == (1, 2)
    rec = struct.pack("<Qq8s", 1, -7, b"hi\0junk")
    spec, vals = t.decode(rec)
    assert spec is a
    assert vals == [-7, "hi"]
    assert a.record_size == 24


def test_unknown_id_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown event id 9"):
        EventTable().decode(struct.pack("<Q", 9))


def test_header_is_a_u64() -> None:
    assert HEADER == 8


def test_tuples_and_records_decode_to_output_values() -> None:
    tt = TupleType((INT32, StringType(4), UINT64))
    raw = struct.pack("<i4sQ", -1, b"ab\0\0", 5)
    assert decode_value(tt, raw) == Tuple((-1, "ab", 5))
    rt = RecordType(("x", "y"), (INT64, INT64))
    assert decode_value(rt, struct.pack("<qq", 1, 2)) == Tuple((1, 2), ("x", "y"))


def test_invalid_utf8_is_kept_as_the_byte() -> None:
    # bpftrace prints the raw byte; the writers send surrogate escapes back out as bytes.
    v = decode_value(StringType(4), b"a\xff\0\0")
    assert v == "a\udcff"
    assert v.encode("utf-8", "surrogateescape") == b"a\xff"
