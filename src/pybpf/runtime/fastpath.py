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

from pybpf.passes.types import BoolType, IntType, StringType
from pybpf.runtime.events import HEADER, EventSpec
from pybpf.runtime.present import StackResolver, present
from pybpf.runtime.values import decode_str, decode_value

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Decoder = Callable[[memoryview], list[Any]]

_INT_CODES = {(1, False): "B", (1, True): "b", (2, False): "H", (2, True): "h",
              (4, False): "I", (4, True): "i", (8, False): "Q", (8, True): "q"}  # fmt: skip


def _plain(spec: EventSpec) -> bool:
    return all(isinstance(f.type, IntType | StringType | BoolType) for f in spec.fields)


def _layout(spec: EventSpec) -> struct.Struct:
    """One struct for a plain payload: ints as themselves, strings as fixed byte fields."""
    fmt = ["<"]
    pos = 0
    for f in spec.fields:
        if f.offset > pos:
            fmt.append(f"{f.offset - pos}x")
        t = f.type
        if isinstance(t, StringType):
            fmt.append(f"{t.length}s")
        elif isinstance(t, BoolType):
            fmt.append("?")
        else:
            assert isinstance(t, IntType)
            fmt.append(_INT_CODES[t.size, t.signed])
        pos = f.offset + t.size
    return struct.Struct("".join(fmt))


def _string_slots(spec: EventSpec) -> tuple[int, ...]:
    """Positions of the string fields (fixed byte fields cut at their NUL when decoded)."""
    return tuple(i for i, f in enumerate(spec.fields) if isinstance(f.type, StringType))


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
    unpack = _layout(spec).unpack_from
    strings = _string_slots(spec)

    def fast(rec: memoryview) -> list[Any]:
        vals = list(unpack(rec, HEADER))
        for i in strings:
            vals[i] = decode_str(vals[i])
        return vals

    return fast


def int32_slots(pyfmt: str, spec: EventSpec) -> tuple[int, ...]:
    """Arguments of ``%d``/``%i`` that need cutting to a C ``int`` first.

    bpftrace formats ``%d`` as C does: the value is read as a 32-bit ``int`` (``1 << 40``
    prints 0, ``-1`` as uint32 prints -1), while Python's ``%d`` prints the whole integer.
    Only arguments whose type always fits (signed up to 4 bytes, unsigned up to 2) skip it.
    """
    out = []
    fields = iter(enumerate(spec.fields))
    for m in _SIMPLE_SPEC.finditer(pyfmt):
        if m.group(1) == "%":
            continue
        i, f = next(fields)
        t = f.type
        fits = isinstance(t, IntType) and (t.size < 4 or (t.size == 4 and t.signed))
        if m.group(2) == "d" and not fits:
            out.append(i)
    return tuple(out)


def wrap32(vals: list[Any], slots: tuple[int, ...]) -> list[Any]:
    """``vals`` with the given integers cut to signed 32 bits (see :func:`int32_slots`)."""
    for i in slots:
        v = vals[i] & 0xFFFFFFFF
        vals[i] = v - (1 << 32) if v & 0x80000000 else v
    return vals


def printf_writer(
    spec: EventSpec, pyfmt: str, wraps: tuple[int, ...], write: Callable[[str], object]
) -> Callable[[memoryview], None] | None:
    """One function from a printf record to its written line, for plain layouts.

    The run loop's fastest path: one struct unpack, the strings cut at their NUL, one ``%``
    and one write, with no per-event dispatch. ``wraps`` is :func:`int32_slots` of ``pyfmt``.
    None when the layout is not plain.
    """
    if not _plain(spec) or any(isinstance(f.type, BoolType) for f in spec.fields):
        return None
    unpack = _layout(spec).unpack_from
    strings = _string_slots(spec)
    if not strings and not wraps:

        def ints_only(rec: memoryview) -> None:
            write(pyfmt % unpack(rec, HEADER))

        return ints_only

    def with_strings(rec: memoryview) -> None:
        vals = list(unpack(rec, HEADER))
        for i in strings:
            vals[i] = decode_str(vals[i])
        if wraps:
            wrap32(vals, wraps)
        write(pyfmt % tuple(vals))

    return with_strings


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


__all__ = ["decoder", "int32_slots", "printf_writer", "simple_printf", "wrap32"]
