"""Turn a raw :class:`MapData` into what gets printed: sorted, cut to ``top``, divided.

This is bpftrace's map formatting step, independent of text or JSON:

* count, sum and plain-integer maps sort by value (signed or not as the value type is);
  min and max by value read as *unsigned* 64-bit; avg and stats by average; hist and
  lhist maps by the total of their buckets; every other map by key (integers as signed
  numbers of their width, strings bytewise, tuples field by field over their integer and
  string fields; other key kinds keep the order given). bpftrace leaves the order of
  equal values unspecified; here ties fall back to key order, so output is stable.
* ``top`` keeps the last ``top`` entries after sorting; ``div`` divides integer values,
  averages (not a stats' count or total) and hist counts (never lhist counts).
* hist and lhist buckets become a :class:`Histogram` of labels and counts, from the
  first to the last non-empty bucket.
"""

from __future__ import annotations

from collections.abc import Callable

from pybpf.output.values import (
    U64_MASK,
    AvgStats,
    HistData,
    Int,
    LhistData,
    MapData,
    MapKind,
    MapValue,
    Primitive,
    Record,
    Symbolic,
    Tuple,
    cdiv,
    int_bits,
    str_bytes,
    wrap,
)
from pybpf.records import dataclass, field

Label = int | Symbolic


@dataclass
class Histogram:
    """Printable histogram: ``labels[i]`` is the exclusive upper bound of bucket ``i``.

    ``lower_bound`` is the lower bound of the first bucket (``None``: the first bucket is
    the negative/underflow one, shown ``(..., x)``). When there is one more count than
    labels, the last bucket is open-ended (``[x, ...)``).
    """

    lower_bound: Label | None = None
    labels: list[Label] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)


Shown = Primitive | Histogram


@dataclass
class PreparedMap:
    """A map ready to render: ``scalar`` maps have one value and no key.

    ``stats`` marks avg/stats maps (JSON type ``stats``); ``hist`` marks hist/lhist maps
    (JSON type ``hist``).
    """

    name: str
    entries: list[tuple[Primitive, Shown]]
    scalar: bool = False
    stats: bool = False
    hist: bool = False


_SUFFIXES = ("", "K", "M", "G", "T", "P", "E")


def hist_label(index: int, k: int) -> Symbolic:
    """The upper bound of hist bucket ``index`` (beyond the plain ones) as ``4K`` etc."""
    n = 1 << k
    interval = index & (n - 1)
    power = (index >> k) - 1
    value = (1 << power) * (n + interval)
    decade = power // 10
    shown = (1 << (power - 10 * decade)) * (n + interval)
    return Symbolic(f"{shown}{_SUFFIXES[decade]}", value)


def _index_range(buckets: dict[int, int]) -> tuple[int, int] | None:
    used = [i for i, c in buckets.items() if c > 0]
    if not used:
        return None
    return min(used), max(used)


def build_hist(data: HistData, div: int = 1) -> Histogram:
    """Labels and counts of a ``hist()`` from its first to its last non-empty bucket."""
    hist = Histogram()
    bounds = _index_range(data.buckets)
    if bounds is None:
        return hist
    lo, hi = bounds
    plain = 2 << data.k  # buckets up to here hold single values: label = index
    if lo != 0:
        hist.lower_bound = lo - 1 if lo - 1 <= plain else hist_label(lo - 1, data.k)
    for i in range(lo, hi + 1):
        hist.labels.append(i if i <= plain else hist_label(i, data.k))
        hist.counts.append(data.buckets.get(i, 0) // div)
    return hist


def lhist_label(number: int, step: int) -> Label:
    """An lhist bound: a plain number, or ``4K``/``2M`` when ``step`` is a multiple of 1024."""
    if step % 1024 != 0:
        return number
    kilo, mega = 1024, 1024 * 1024
    if number == 0:
        text = "0"
    elif number % mega == 0:
        text = f"{cdiv(number, mega)}M"
    elif number % kilo == 0:
        text = f"{cdiv(number, kilo)}K"
    else:
        text = str(number)
    return Symbolic(text, number)


def build_lhist(data: LhistData) -> Histogram:
    """Labels and counts of an ``lhist()`` from its first to its last non-empty bucket."""
    hist = Histogram()
    bounds = _index_range(data.buckets)
    if bounds is None:
        return hist
    lo, hi = bounds
    if lo != 0:
        hist.lower_bound = lhist_label(data.min + (lo - 1) * data.step, data.step)
    for i in range(lo, hi + 1):
        bound = data.min + i * data.step
        if bound <= data.max:
            hist.labels.append(lhist_label(bound, data.step))
        hist.counts.append(data.buckets.get(i, 0))
    return hist


def _key_part(item: Primitive) -> tuple[int, int | bytes] | None:
    # Tagged so that keys of different kinds still compare (a map has one key type,
    # but a bad caller must not get a TypeError).
    if isinstance(item, int):
        return (0, wrap(int(item), int_bits(item), True))
    if isinstance(item, str):
        return (1, str_bytes(item))
    return None


def _key_sort_key(key: Primitive) -> tuple[tuple[int, int | bytes], ...]:
    """How bpftrace orders keys of maps sorted by key."""
    if isinstance(key, Tuple):
        parts = (_key_part(item) for item in key.items)
        return tuple(p for p in parts if p is not None)
    part = _key_part(key)
    return (part,) if part is not None else ()


def _scalar_int(value: MapValue) -> int:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, AvgStats):
        return value.average
    return 0


def _value_sort_key(m: MapData) -> Callable[[tuple[Primitive, MapValue]], int] | None:
    kind = m.kind
    if kind in (MapKind.COUNT, MapKind.SUM, MapKind.INT):
        signed = m.signed and kind is not MapKind.COUNT
        return lambda e: _scalar_int(e[1]) if signed else _scalar_int(e[1]) & U64_MASK
    if kind in (MapKind.MIN, MapKind.MAX):
        return lambda e: _scalar_int(e[1]) & U64_MASK
    if kind in (MapKind.AVG, MapKind.STATS):
        return lambda e: _scalar_int(e[1])
    if kind in (MapKind.HIST, MapKind.LHIST):
        return lambda e: sum(e[1].buckets.values()) if isinstance(e[1], HistData | LhistData) else 0
    return None


def sort_entries(m: MapData) -> list[tuple[Primitive, MapValue]]:
    """Entries of ``m`` in bpftrace's print order."""
    # Keys of kinds bpftrace does not sort (stacks, buffers, ...) all compare equal here,
    # so the stable sort keeps the order the runtime gave.
    entries = sorted(m.entries, key=lambda e: _key_sort_key(e[0]))
    by_value = _value_sort_key(m)
    if by_value is not None:
        entries.sort(key=by_value)
    return entries


def _divide(value: int, div: int, signed: bool) -> int:
    if div <= 1:
        return value
    return cdiv(value, div) if signed else (value & U64_MASK) // div


def shown_value(m: MapData, value: MapValue, div: int) -> Shown:
    """The printable form of one map value."""
    if isinstance(value, HistData):
        return build_hist(value, max(div, 1))
    if isinstance(value, LhistData):
        return build_lhist(value)
    if isinstance(value, AvgStats):
        avg = _divide(value.average, div, value.signed)
        if m.kind is MapKind.STATS:
            return Record((("count", value.count), ("average", avg), ("total", value.total)))
        return avg
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        signed = value.signed if isinstance(value, Int) else m.signed
        return _divide(int(value), div, signed) if div > 1 else value
    return value


def prepare_map(m: MapData, top: int = 0, div: int = 0) -> PreparedMap:
    """Sort, cut and divide ``m`` as ``print(@m, top, div)`` does (0: no limit, no division)."""
    entries = sort_entries(m)
    if top and len(entries) > top:
        entries = entries[len(entries) - top :]
    div = div or 1
    shown = [(k, shown_value(m, v, div)) for k, v in entries]
    return PreparedMap(
        name=m.name,
        entries=shown,
        scalar=m.scalar,
        stats=m.kind in (MapKind.AVG, MapKind.STATS),
        hist=m.kind in (MapKind.HIST, MapKind.LHIST),
    )
