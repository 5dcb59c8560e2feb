"""Per-event decoders built once per event id, for the run loop's hot path.

Decoding a record generically (type dispatch per field, a format string parsed per line)
costs tens of microseconds; a printf at 100k events/s leaves 10. Each event id gets a closure
that unpacks its fixed layout with one precompiled :class:`struct.Struct` where it can, and
a pre-parsed printf format.
"""

from __future__ import annotations

import re
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
                vals[i] = (raw if nul < 0 else raw[:nul]).decode("utf-8", "surrogateescape")
        return vals

    return fast


# Only the '-' flag and a width: bpftrace differs from C/Python on '0' with negatives,
# on the space flag and on precision, so those take the general formatter.
_SIMPLE_SPEC = re.compile(r"%(%|-?(?:[1-9]\d*)?([dis]))")


def simple_printf(fmt: str, spec: EventSpec) -> str | None:
    """A Python ``%`` format equivalent to the printf ``fmt`` for this event, or None.

    Only plain ``%d``/``%i``/``%s`` conversions (with at most a ``-`` flag and a width) of
    integer or string arguments qualify; bpftrace and Python agree on those, and Python's
    ``%`` is several times faster than interpreting the format per line.
    """
    pos = 0
    out: list[str] = []
    args = iter(spec.fields)
    for m in _SIMPLE_SPEC.finditer(fmt):
        if "%" in fmt[pos : m.start()]:
            return None  # something the simple pattern does not cover
        out.append(fmt[pos : m.start()])
        pos = m.end()
        if m.group(1) == "%":
            out.append("%%")
            continue
        f = next(args, None)
        if f is None:
            return None
        conv = m.group(2)
        if conv in "di" and not isinstance(f.type, IntType | BoolType):
            return None
        if conv == "s" and not isinstance(f.type, StringType | IntType):
            return None
        out.append(m.group(0).replace("%i", "%d") if conv == "i" else m.group(0))
    if "%" in fmt[pos:] or next(args, None) is not None:
        return None
    out.append(fmt[pos:])
    return "".join(out)


__all__ = ["Decoder", "decoder", "simple_printf"]
