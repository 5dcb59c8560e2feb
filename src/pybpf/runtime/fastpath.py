"""Per-event decoders built once per event id, for the run loop's hot path.

Decoding a record generically (type dispatch per field, a format string parsed per line)
costs tens of microseconds; a printf at 100k events/s leaves 10. Each event id gets a closure
that unpacks its fixed layout with one precompiled :class:`struct.Struct` where it can, and
a pre-parsed printf format.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from pybpf.passes.types import BoolType, IntType, StringType
from pybpf.runtime.events import HEADER, EventSpec
from pybpf.runtime.present import StackResolver, present
from pybpf.runtime.values import decode_value

Decoder = Callable[[memoryview], list[Any]]

_INT_CODES = {(1, False): "B", (1, True): "b", (2, False): "H", (2, True): "h",
              (4, False): "I", (4, True): "i", (8, False): "Q", (8, True): "q"}  # fmt: skip


def _plain(spec: EventSpec) -> bool:
    return all(isinstance(f.type, IntType | StringType | BoolType) for f in spec.fields)


def decoder(spec: EventSpec, probe_names: Sequence[str], stacks: StackResolver | None) -> Decoder:
    """A function from a record to the event's presented argument values."""
    if not _plain(spec):
        fields = spec.fields

        def generic(rec: memoryview) -> list[Any]:
            return [
                present(f.type, decode_value(f.type, rec, HEADER + f.offset), probe_names, stacks)
                for f in fields
            ]

        return generic
    # One struct for the whole payload: ints as themselves, strings as fixed byte fields.
    fmt = ["<"]
    pos = 0
    kinds: list[str] = []
    for f in spec.fields:
        if f.offset > pos:
            fmt.append(f"{f.offset - pos}x")
        t = f.type
        if isinstance(t, StringType):
            fmt.append(f"{t.length}s")
            kinds.append("s")
        elif isinstance(t, BoolType):
            fmt.append("?")
            kinds.append("b")
        else:
            assert isinstance(t, IntType)
            fmt.append(_INT_CODES[t.size, t.signed])
            kinds.append("i")
        pos = f.offset + t.size
    st = struct.Struct("".join(fmt))

    def fast(rec: memoryview) -> list[Any]:
        vals = list(st.unpack_from(rec, HEADER))
        for i, k in enumerate(kinds):
            if k == "s":
                raw = vals[i]
                nul = raw.find(b"\0")
                vals[i] = (raw if nul < 0 else raw[:nul]).decode("utf-8", "backslashreplace")
        return vals

    return fast


__all__ = ["Decoder", "decoder"]
