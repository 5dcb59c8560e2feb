"""Decoding ``join()`` records and ``buf()`` values (no kernel: records built by hand)."""

from __future__ import annotations

import struct

from pybpf.passes.types import BufferType, TupleType
from pybpf.runtime.events import HEADER, JOIN_ARGNUM, JOIN_ARGSIZE, decode_join
from pybpf.runtime.values import decode_value


def _record(*strings: bytes, junk: bytes = b"") -> bytes:
    """A join record: header, then one NUL-terminated string per 1024-byte slot."""
    slots = [s + b"\0" + junk for s in strings]
    slots += [b""] * (JOIN_ARGNUM - len(slots))
    body = b"".join(s[:JOIN_ARGSIZE].ljust(JOIN_ARGSIZE, b"\0") for s in slots)
    return struct.pack("<Q", 1) + body


def test_limits_are_bpftraces() -> None:
    assert (JOIN_ARGNUM, JOIN_ARGSIZE) == (16, 1024)


def test_strings_join_with_the_separator() -> None:
    rec = _record(b"/bin/ls", b"-la", b"/tmp", junk=b"garbage after the NUL")
    assert decode_join(rec, " ") == "/bin/ls -la /tmp"
    assert decode_join(rec, ",") == "/bin/ls,-la,/tmp"
    assert decode_join(rec, "") == "/bin/ls-la/tmp"


def test_an_empty_slot_ends_the_list() -> None:
    rec = bytearray(_record(b"a", b"", b"c"))
    assert decode_join(rec, " ") == "a"
    assert decode_join(_record(), " ") == ""


def test_all_sixteen_slots_are_read_and_no_more() -> None:
    strings = [f"s{i}".encode() for i in range(JOIN_ARGNUM)]
    assert decode_join(_record(*strings), " ") == " ".join(s.decode() for s in strings)


def test_a_full_slot_without_nul_keeps_its_bytes() -> None:
    rec = bytearray(_record(b"x", b"y"))
    rec[HEADER : HEADER + JOIN_ARGSIZE] = b"z" * JOIN_ARGSIZE
    assert decode_join(bytes(rec), "|") == "z" * JOIN_ARGSIZE + "|y"


def test_a_short_record_stops_at_its_end() -> None:
    assert decode_join(struct.pack("<Q", 1) + b"a\0".ljust(JOIN_ARGSIZE, b"\0"), " ") == "a"


def test_buffer_decodes_its_length_bytes() -> None:
    t = BufferType(5)
    raw = struct.pack("<I", 3) + b"ab\xff" + b"\0" * (t.size - 7)
    assert decode_value(t, raw) == b"ab\xff"


def test_buffer_length_is_capped_by_the_type() -> None:
    t = BufferType(2)
    raw = struct.pack("<I", 1000) + b"xyz" + b"\0" * (t.size - 7)
    assert decode_value(t, raw) == b"xy"


def test_small_buffers_are_never_register_sized() -> None:
    # Code generation keeps values of size <= 8 in registers; buffers always live in memory.
    assert all(BufferType(n).size > 8 for n in range(0, 9))
    assert BufferType(1020).size == 1024
    tt = TupleType((BufferType(2), BufferType(3)))
    assert tt.offsets()[1] >= BufferType(2).size
