"""Map values as Prometheus metrics: names, labels, counters, gauges, cumulative buckets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from pybpf.export.labels import key_labels
from pybpf.export.prometheus import MapCollector, hist_lower, hist_upper
from pybpf.output import (
    AvgStats,
    HistData,
    LhistData,
    MapData,
    MapKind,
    Tuple,
    hist_index,
    lhist_index,
)
from pybpf.passes.pipeline import compile_frontend


def scrape(maps: list[MapData], labels: dict[str, list[str]]) -> str:
    reg = CollectorRegistry()
    reg.register(MapCollector(lambda: maps, labels))
    return generate_latest(reg).decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_count_is_a_counter_with_key_labels() -> None:
    m = MapData("@calls", MapKind.COUNT, [("bash", 3), ("python3", 1000)])
    text = scrape([m], {"@calls": ["comm"]})
    assert "# TYPE bpftrace_calls_total counter" in text or "# TYPE bpftrace_calls counter" in text
    s = samples(text)
    assert s[("bpftrace_calls_total", (("comm", "python3"),))] == 1000
    assert s[("bpftrace_calls_total", (("comm", "bash"),))] == 3


def test_scalar_and_tuple_keys() -> None:
    scalar = MapData("@", MapKind.INT, [(None, -5)], scalar=True)
    pair = MapData("@bytes", MapKind.SUM, [(Tuple((7, "cat")), 4096)])
    s = samples(scrape([scalar, pair], {"@bytes": ["pid", "comm"]}))
    assert s[("bpftrace_map", ())] == -5
    assert s[("bpftrace_bytes_total", (("comm", "cat"), ("pid", "7")))] == 4096


def test_hist_buckets_are_cumulative_with_inclusive_bounds() -> None:
    values = [0, 1, 1, 5, 7, 100, -3]
    buckets: dict[int, int] = {}
    for v in values:
        buckets[hist_index(v)] = buckets.get(hist_index(v), 0) + 1
    m = MapData("@lat", MapKind.HIST, [(None, HistData(buckets))], scalar=True)
    s = samples(scrape([m], {}))
    le = {dict(k[1])["le"]: v for k, v in s.items() if k[0] == "bpftrace_lat_bucket"}
    # Every bound counts exactly the values <= it.
    for bound, count in le.items():
        limit = float("inf") if bound == "+Inf" else float(bound)
        assert count == sum(1 for v in values if v <= limit), bound
    assert s[("bpftrace_lat_count", ())] == len(values)


def test_lhist_overflow_only_in_inf() -> None:
    values = [-1, 0, 5, 10, 99, 100, 250]
    buckets: dict[int, int] = {}
    for v in values:
        i = lhist_index(v, 0, 100, 10)
        buckets[i] = buckets.get(i, 0) + 1
    m = MapData("@l", MapKind.LHIST, [(None, LhistData(buckets, 0, 100, 10))], scalar=True)
    s = samples(scrape([m], {}))
    le = {dict(k[1])["le"]: v for k, v in s.items() if k[0] == "bpftrace_l_bucket"}
    for bound, count in le.items():
        limit = float("inf") if bound == "+Inf" else float(bound)
        assert count == sum(1 for v in values if v <= limit), bound


def test_stats_and_avg_are_gauges() -> None:
    st = MapData("@s", MapKind.STATS, [(None, AvgStats(60, 3))], scalar=True)
    av = MapData("@a", MapKind.AVG, [(None, AvgStats(10, 4))], scalar=True)
    s = samples(scrape([st, av], {}))
    assert s[("bpftrace_s_count", ())] == 3
    assert s[("bpftrace_s_average", ())] == 20
    assert s[("bpftrace_s_total", ())] == 60
    assert s[("bpftrace_a", ())] == 2.5


def test_hist_bounds_cover_every_value() -> None:
    for k in range(0, 4):
        for v in range(0, 3000):
            i = hist_index(v, k)
            assert hist_lower(i, k) <= v <= hist_upper(i, k)


def test_label_names_come_from_key_expressions() -> None:
    r = compile_frontend(
        "tracepoint:syscalls:sys_enter_read { @r[comm, pid] = count(); @b[args.fd] = sum(1);"
        " $x = 1; @v[$x] = 2; @o[1 + 2] = 3; }",
        expand_wildcards=False,
    )
    labels = key_labels(r.program)
    assert labels["@r"] == ["comm", "pid"]
    assert labels["@b"] == ["fd"]
    assert labels["@v"] == ["x"]
    assert labels["@o"] == ["key0"]
