"""bpftrace maps as Prometheus metrics, served at ``/metrics`` by prometheus-client.

Mapping (one metric family per map, named ``bpftrace_<map>``; the anonymous map ``@`` is
``bpftrace_map``):

- ``count()`` and ``sum()``: counters (``..._total``), since they only grow between clears;
- plain values, ``min()``, ``max()``: gauges;
- ``avg()``: a gauge of the average; ``stats()``: gauges ``..._count``, ``..._average``,
  ``..._total``;
- ``hist()``/``lhist()``: histograms with cumulative ``le`` buckets. Values are integers, so a
  bucket ``[lo, hi)`` has the inclusive bound ``le = hi - 1``; bpftrace keeps no sum, so
  ``_count`` is given and ``_sum`` is not.

Map keys become labels named by :mod:`pybpf.export.labels`. Every scrape reads the maps
afresh (a ``Collector``); nothing is cached between scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from pybpf.export.labels import sanitize
from pybpf.output import AvgStats, HistData, LhistData, MapData, MapKind, format_primitive
from pybpf.output import Tuple as TupleValue
from pybpf.output.values import Primitive

PREFIX = "bpftrace_"


def metric_name(map_name: str) -> str:
    """``@latency`` -> ``bpftrace_latency``; ``@`` -> ``bpftrace_map``."""
    bare = map_name.lstrip("@")
    return PREFIX + (sanitize(bare) if bare else "map")


def _label_values(key: Primitive, n: int) -> list[str]:
    # Fast path for the most common keys (pid, comm...): one plain int or str.
    kt = type(key)
    if kt is int and n == 1:
        return [str(key)]
    if kt is str and n == 1:
        return [key]  # type: ignore[list-item]
    if key is None:
        return []
    items = list(key.items) if isinstance(key, TupleValue) else [key]
    out = [v if isinstance(v, str) else format_primitive(v) for v in items]
    return (out + [""] * n)[:n] if n else out


def _names(m: MapData, labels: dict[str, list[str]]) -> list[str]:
    if m.scalar:
        return []
    if m.name in labels:
        return labels[m.name]
    first = m.entries[0][0] if m.entries else None
    width = len(first.items) if isinstance(first, TupleValue) else 1
    return [f"key{i}" for i in range(width)]


def hist_upper(index: int, k: int) -> int:
    """Inclusive upper bound of ``hist(v, k)`` bucket ``index`` (index 0 holds negatives)."""
    return hist_lower(index + 1, k) - 1


def hist_lower(index: int, k: int) -> int:
    """Smallest value in ``hist(v, k)`` bucket ``index`` (for index >= 1)."""
    n = 1 << k
    if index <= n:
        return index - 1
    j = index - 1
    interval = j & (n - 1)
    power = (j >> k) + k - 1
    return (n + interval) << (power - k)


def lhist_upper(index: int, data: LhistData) -> int | None:
    """Inclusive upper bound of an lhist bucket; ``None`` for the overflow bucket."""
    if data.min + index * data.step > data.max:
        return None
    return data.min + index * data.step - 1


def cumulative(
    buckets: dict[int, int], upper: Callable[[int], int | None]
) -> list[tuple[str, float]]:
    """Prometheus buckets: (le, cumulative count) in order, ending with ``+Inf``."""
    out: list[tuple[str, float]] = []
    total = 0
    for index in sorted(buckets):
        total += buckets[index]
        bound = upper(index)
        if bound is None:
            continue
        out.append((str(bound), float(total)))
    out.append(("+Inf", float(total)))
    return out


def _hist_family(
    name: str, doc: str, names: Sequence[str], rows: list[tuple[list[str], list[tuple[str, float]]]]
) -> Metric:
    """A histogram family with ``_bucket`` and ``_count`` samples (no ``_sum``)."""
    fam = Metric(name, doc, "histogram")
    for values, buckets in rows:
        base = dict(zip(names, values, strict=False))
        for le, count in buckets:
            fam.add_sample(name + "_bucket", {**base, "le": le}, count)
        fam.add_sample(name + "_count", base, buckets[-1][1])
    return fam


def _counter(m: MapData, name: str, doc: str, names: list[str]) -> Iterator[Metric]:
    fam = CounterMetricFamily(name, doc, labels=names)
    for key, value in m.entries:
        if isinstance(value, int):
            fam.add_metric(_label_values(key, len(names)), float(value))
    yield fam


def _histogram(m: MapData, name: str, doc: str, names: list[str]) -> Iterator[Metric]:
    rows = []
    for key, value in m.entries:
        if isinstance(value, HistData):
            bk = cumulative(value.buckets, partial(hist_upper, k=value.k))
        elif isinstance(value, LhistData):
            bk = cumulative(value.buckets, partial(lhist_upper, data=value))
        else:
            continue
        rows.append((_label_values(key, len(names)), bk))
    yield _hist_family(name, doc, names, rows)


def _stats(m: MapData, name: str, doc: str, names: list[str]) -> Iterator[Metric]:
    count = GaugeMetricFamily(name + "_count", doc + " (count)", labels=names)
    average = GaugeMetricFamily(name + "_average", doc + " (average)", labels=names)
    total = GaugeMetricFamily(name + "_total", doc + " (total)", labels=names)
    for key, value in m.entries:
        if isinstance(value, AvgStats):
            lv = _label_values(key, len(names))
            count.add_metric(lv, float(value.count))
            average.add_metric(lv, value.total / value.count if value.count else 0.0)
            total.add_metric(lv, float(value.total))
    yield from (count, average, total)


def _gauge(m: MapData, name: str, doc: str, names: list[str]) -> Iterator[Metric]:
    fam = GaugeMetricFamily(name, doc, labels=names)
    for key, value in m.entries:
        if isinstance(value, AvgStats):
            number = value.total / value.count if value.count else 0.0
        elif isinstance(value, int):
            number = float(value)
        else:
            continue  # strings and other non-numeric values have no metric form
        fam.add_metric(_label_values(key, len(names)), number)
    yield fam


_BY_KIND = {
    MapKind.COUNT: _counter,
    MapKind.SUM: _counter,
    MapKind.HIST: _histogram,
    MapKind.LHIST: _histogram,
    MapKind.STATS: _stats,
}


def families(maps: Iterable[MapData], labels: dict[str, list[str]]) -> Iterator[Metric]:
    """Metric families for ``maps`` (see the module docstring for the mapping)."""
    for m in maps:
        make = _BY_KIND.get(m.kind, _gauge)
        yield from make(m, metric_name(m.name), f"bpftrace map {m.name or '@'}", _names(m, labels))


class MapCollector(Collector):
    """A prometheus-client collector that reads the maps on every scrape."""

    def __init__(
        self,
        snapshot: Callable[[], list[MapData]],
        labels: dict[str, list[str]],
        self_metrics: Callable[[], Iterable[Metric]] | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._labels = labels
        self._self = self_metrics

    def collect(self) -> Iterator[Metric]:
        """One scrape: the maps as they are now, then the exporter's own metrics."""
        yield from families(self._snapshot(), self._labels)
        if self._self is not None:
            yield from self._self()
