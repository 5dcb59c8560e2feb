"""Output-layer values and maps as plain Python values (see :mod:`pybpf.api`)."""

from __future__ import annotations

from typing import Any

from pybpf.api.events import Stats
from pybpf.output.values import (
    Array,
    AvgStats,
    Buffer,
    Duration,
    HistData,
    LhistData,
    MapData,
    MapKind,
    Primitive,
    Record,
    Symbolic,
    Tuple,
)


def to_python(value: Primitive) -> Any:
    """An output-layer value as a plain Python value (see the module docstring)."""
    if isinstance(value, Tuple):
        return tuple(to_python(v) for v in value.items)
    if isinstance(value, Record):
        return {k: to_python(v) for k, v in value.fields}
    if isinstance(value, Array | list):
        return [to_python(v) for v in (value.items if isinstance(value, Array) else value)]
    if isinstance(value, Buffer):
        return value.data
    if isinstance(value, Symbolic):
        return value.symbol
    if isinstance(value, Duration):
        return value.nanoseconds
    if isinstance(value, bool) or value is None or isinstance(value, str | float | bytes):
        return value
    if isinstance(value, int):
        return int(value)  # drop the Int subclass: plain ints compare and hash as users expect
    return value


def hist_ranges(h: HistData) -> dict[tuple[int | None, int | None], int]:
    """``hist()`` buckets as ``{(lo, hi): count}``; ``(None, 0)`` holds the negatives."""
    from pybpf.export.prometheus import hist_lower

    out: dict[tuple[int | None, int | None], int] = {}
    for index in sorted(h.buckets):
        lo = None if index == 0 else hist_lower(index, h.k)
        out[(lo, hist_lower(index + 1, h.k))] = h.buckets[index]
    return out


def lhist_ranges(h: LhistData) -> dict[tuple[int | None, int | None], int]:
    """``lhist()`` buckets as ``{(lo, hi): count}`` with open ends below min / at max."""
    last = (h.max - h.min) // h.step + 1
    out: dict[tuple[int | None, int | None], int] = {}
    for index in sorted(h.buckets):
        if index == 0:
            rng: tuple[int | None, int | None] = (None, h.min)
        elif index >= last:
            rng = (h.min + (last - 1) * h.step, None)
        else:
            rng = (h.min + (index - 1) * h.step, h.min + index * h.step)
        out[rng] = h.buckets[index]
    return out


def map_value(value: Any, kind: MapKind) -> Any:
    """One map value as Python (see the module docstring)."""
    if isinstance(value, HistData):
        return hist_ranges(value)
    if isinstance(value, LhistData):
        return lhist_ranges(value)
    if isinstance(value, AvgStats):
        if kind is MapKind.STATS:
            return Stats(value.count, value.average, value.total)
        return value.average
    return to_python(value)


def map_dict(m: MapData) -> dict[Any, Any]:
    """A map's entries as ``{key: value}`` (scalar maps: the key is ``None``)."""
    return {to_python(k): map_value(v, m.kind) for k, v in m.entries}
