"""The async-event protocol: what a BPF program tells user space through the ring buffer.

Every record in the (single) BPF ring buffer is a little-endian u64 event id followed by a
payload. The id names an :class:`EventSpec` in the session's :class:`EventTable`, which is
plain data built by code generation: the kind of event (printf, print, exit, ...), the
payload's fields (types and offsets) and whatever the kind needs (a format string, a map
name). User space decodes a record with :func:`EventTable.decode` and gets Python values.
"""

from __future__ import annotations

import enum
import struct

from pybpf.records import dataclass, field
from pybpf.runtime.values import decode_str, decode_value

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.passes.types import Type

_ID = struct.Struct("<Q")
HEADER = _ID.size
"""Bytes before the payload (the u64 event id)."""

JOIN_ARGNUM = 16
"""``join()`` reads at most this many ``char *`` of its array (bpftrace's ``join_argnum``)."""
JOIN_ARGSIZE = 1024
"""Bytes per ``join()`` string, NUL included (bpftrace's ``join_argsize``)."""


class EventKind(enum.Enum):
    """What an event asks user space to do."""

    PRINTF = "printf"  # format a line from the args
    PRINT_MAP = "print_map"  # print(@m[, top, div])
    PRINT_VALUE = "print_value"  # print(expr)
    TIME = "time"  # time(fmt)
    EXIT = "exit"  # exit([code]) -- stop the run loop
    CAT = "cat"  # cat(path) (--unsafe)
    SYSTEM = "system"  # system(fmt, ...) (--unsafe)
    CLEAR = "clear"  # clear(@m)
    ZERO = "zero"  # zero(@m)
    JOIN = "join"  # join(argv[, sep])
    ERRORF = "errorf"  # errorf(fmt, ...) / warnf


@dataclass(frozen=True)
class EventField:
    """One payload field: its type and byte offset from the start of the payload."""

    type: Type
    offset: int


@dataclass(frozen=True)
class EventSpec:
    """One event id's meaning: kind, payload layout, and kind-specific data (``info``)."""

    id: int
    kind: EventKind
    fields: tuple[EventField, ...] = ()
    size: int = 0
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def record_size(self) -> int:
        """Bytes of the whole ring-buffer record (header + payload, 8-aligned)."""
        return (HEADER + self.size + 7) // 8 * 8


@dataclass
class EventTable:
    """All event ids of one compiled script (ids are dense, from 1)."""

    specs: dict[int, EventSpec] = field(default_factory=dict)

    def add(
        self, kind: EventKind, fields: tuple[EventField, ...] = (), size: int = 0, **info: Any
    ) -> EventSpec:
        """Register a new event and return its spec (with a fresh id)."""
        spec = EventSpec(len(self.specs) + 1, kind, fields, size, dict(info))
        self.specs[spec.id] = spec
        return spec

    def decode(self, record: bytes | memoryview) -> tuple[EventSpec, list[Any]]:
        """The spec and decoded field values of one ring-buffer record."""
        (eid,) = _ID.unpack_from(record, 0)
        spec = self.specs.get(eid)
        if spec is None:
            raise ValueError(f"unknown event id {eid}")
        values = [decode_value(f.type, record, HEADER + f.offset) for f in spec.fields]
        return spec, values


def decode_join(record: bytes | memoryview, sep: str) -> str:
    """The text of a ``join()`` record: its strings up to the first empty one, joined.

    The payload is :data:`JOIN_ARGNUM` slots of :data:`JOIN_ARGSIZE` bytes. As in bpftrace,
    an empty string ends the list (the array's NULL, an unreadable pointer, or a real empty
    argument: ``join`` cannot tell them apart).
    """
    parts = []
    for i in range(JOIN_ARGNUM):
        off = HEADER + i * JOIN_ARGSIZE
        if off >= len(record) or record[off] == 0:
            break
        parts.append(decode_str(record[off : off + JOIN_ARGSIZE]))
    return sep.join(parts)


__all__ = [
    "HEADER",
    "JOIN_ARGNUM",
    "JOIN_ARGSIZE",
    "EventField",
    "EventKind",
    "EventSpec",
    "EventTable",
    "decode_join",
]
