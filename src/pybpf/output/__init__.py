"""Tracer output: decoded values rendered as bpftrace's text or NDJSON, byte for byte.

Data first, text second. The runtime decodes kernel bytes into values
(:mod:`pybpf.output.values`), then calls one :class:`Writer`:

Values (``values``)
    ``int`` (plain: signed 64-bit) or ``Int(v, bits=64, signed=True)``; ``bool``; ``str``
    (decode C strings with ``decode_cstr(raw)``); ``Buffer(bytes)`` or plain ``bytes``;
    ``Tuple(items, names=None)``; ``Record(((name, value), ...))`` for records and structs
    (shown ``{ .a = 1 }``); ``Array(items)`` (a ``list`` is accepted too);
    ``Symbolic(text, number)`` (pointers: ``format_pointer(addr)``, enum names);
    ``Duration(ns)``; ``None``. Helper results as ``str``: ``format_stack(frames, mode)``
    with ``StackFrame(addr, symbol, offset, module)`` and ``StackMode``,
    ``inet_ntop(family, addr)``, ``format_mac(raw6)``; ksym/usym/strerror/strftime
    results are plain strings.

Maps (``values``)
    ``MapData(name, kind, entries=[(key, value), ...], scalar=False, signed=True)``,
    ``kind`` a ``MapKind`` (COUNT SUM MIN MAX AVG STATS HIST LHIST INT VALUE); scalar maps
    use key ``None``. Values: ints for count/sum/min/max/int, ``AvgStats(total, count,
    signed)`` for avg and stats, ``HistData(buckets={index: count}, k)`` and
    ``LhistData(buckets, min, max, step)``; ``hist_index(v, k)`` and
    ``lhist_index(v, lo, hi, step)`` give the bucket index the BPF side must compute.
    Entries may come in any order: the writer sorts, applies ``top``/``div`` and builds
    histogram labels (``maps.prepare_map``).

Writers (``writer.Writer``; ``TextWriter`` and ``JsonWriter``; ``make_writer("text"|"json",
out, err)``)
    ``printf(fmt, args)`` / ``printf_text(text)``, ``print_map(map, top=0, div=0)``,
    ``print_value(value)``, ``time(text)``, ``cat(text)``, ``join(text)``,
    ``system(text)``, ``attached_probes(n)``, ``lost_events(n)``,
    ``message("error"|"warning", msg, file, line, col)`` for errorf/warnf,
    ``runtime_error(msg, file, line, col, helper=None, retcode=None)``, ``end()`` (call
    once when the run stops, before the exit-time maps), ``print_maps(maps)`` (every map
    at exit, in name order).

printf (``printf``)
    ``parse_format(fmt) -> list[FormatSpec]``, ``parse(fmt) -> ParsedFormat`` (reusable,
    pass it to ``printf``), ``check_format(fmt, kinds) -> error message | None``,
    ``format_printf(fmt, args) -> str``.
"""

from __future__ import annotations

from pybpf.output.printf import FormatSpec, check_format, format_printf, parse, parse_format
from pybpf.output.text import TextWriter, format_primitive
from pybpf.output.values import (
    Array,
    AvgStats,
    Buffer,
    Duration,
    HistData,
    Int,
    LhistData,
    MapData,
    MapKind,
    Record,
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
from pybpf.output.writer import Writer

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from pybpf.output.json import JsonWriter

__all__ = [
    "Array",
    "AvgStats",
    "Buffer",
    "Duration",
    "FormatSpec",
    "HistData",
    "Int",
    "JsonWriter",
    "LhistData",
    "MapData",
    "MapKind",
    "Record",
    "StackFrame",
    "StackMode",
    "Symbolic",
    "TextWriter",
    "Tuple",
    "Writer",
    "check_format",
    "decode_cstr",
    "format_mac",
    "format_pointer",
    "format_primitive",
    "format_printf",
    "format_stack",
    "hist_index",
    "inet_ntop",
    "lhist_index",
    "make_writer",
    "parse",
    "parse_format",
]


def make_writer(fmt: str, out: TextIO | None = None, err: TextIO | None = None) -> Writer:
    """The writer for ``-f text`` or ``-f json``."""
    if fmt == "json":
        from pybpf.output.json import JsonWriter  # only -f json pays for it

        return JsonWriter(out, err)
    if fmt == "text":
        return TextWriter(out, err)
    raise ValueError(f"unknown output format: {fmt}")


def __getattr__(name: str) -> Any:
    """``JsonWriter`` loads on first use (start-up time of text-output runs)."""
    if name == "JsonWriter":
        from pybpf.output.json import JsonWriter

        return JsonWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
