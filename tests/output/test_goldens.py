"""The writers against map output captured from bpftrace (tests/testdata/output).

Each golden NAME.bt fills maps and exits; NAME.txt and NAME.json hold bpftrace's output
(0.17's, converted to current bpftrace's format by capture.py). Here the same maps are
rebuilt as values -- bucket indexes computed with hist_index/lhist_index from the values
the program stores, entries in a scrambled order -- and rendered.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from pybpf.output import (
    AvgStats,
    HistData,
    JsonWriter,
    LhistData,
    MapData,
    MapKind,
    TextWriter,
    Tuple,
    hist_index,
    lhist_index,
)

GOLDEN = Path(__file__).resolve().parents[1] / "testdata" / "output"


def hist_of(values: Iterable[int], k: int = 0) -> HistData:
    return HistData(dict(Counter(hist_index(v, k) for v in values)), k)


def lhist_of(values: Iterable[int], lo: int, hi: int, step: int) -> LhistData:
    return LhistData(dict(Counter(lhist_index(v, lo, hi, step) for v in values)), lo, hi, step)


def scalar(name: str, kind: MapKind, value: object) -> MapData:
    return MapData(name, kind, [(None, value)], scalar=True)  # type: ignore[list-item]


BUILDERS: dict[str, Callable[[], list[MapData]]] = {
    "hist_small": lambda: [scalar("@h", MapKind.HIST, hist_of([0, 1, 1, 2, -5]))],
    "hist_bars": lambda: [
        scalar("@h", MapKind.HIST, hist_of([100] * 64 + [10] * 20 + [1] + [1000] * 33))
    ],
    "hist_scales": lambda: [scalar("@h", MapKind.HIST, hist_of(1 << i for i in range(31)))],
    "hist_thirds": lambda: [scalar("@h", MapKind.HIST, hist_of([16, 64, 64, 64, 256, 256]))],
    "hist_odd_counts": lambda: [
        scalar("@h", MapKind.HIST, hist_of([3] * 7 + [40] * 13 + [5000] * 3))
    ],
    "hist_keyed": lambda: [
        MapData("@h", MapKind.HIST, [("b", hist_of([3000, 5000])), ("a", hist_of([3]))])
    ],
    "lhist_basic": lambda: [scalar("@l", MapKind.LHIST, lhist_of([5, 15, 17], 0, 100, 10))],
    "lhist_edges": lambda: [
        scalar("@l", MapKind.LHIST, lhist_of([-1, 0, 99, 100, 1000], 0, 100, 10))
    ],
    "lhist_step1": lambda: [scalar("@l", MapKind.LHIST, lhist_of([3, 4, 4, 7], 0, 10, 1))],
    "lhist_kilo": lambda: [scalar("@l", MapKind.LHIST, lhist_of([3000, 9000], 0, 10240, 1024))],
    "lhist_mega": lambda: [
        scalar("@l", MapKind.LHIST, lhist_of([3145728, 5000000], 0, 8388608, 1048576))
    ],
    "lhist_offset": lambda: [scalar("@l", MapKind.LHIST, lhist_of([150, 199, 101], 100, 200, 25))],
    "count_keyed": lambda: [MapData("@c", MapKind.COUNT, [("z", 2), ("y", 3), ("x", 1)])],
    "sum_signed": lambda: [MapData("@s", MapKind.SUM, [(3, 0), (1, 5), (2, -12)])],
    "min_max": lambda: [
        MapData("@mx", MapKind.MAX, [(2, 30), (1, 9)]),
        MapData("@mn", MapKind.MIN, [(1, 5), (2, 3)]),
    ],
    "avg_keyed": lambda: [
        MapData("@a", MapKind.AVG, [("x", AvgStats(50, 1)), ("y", AvgStats(6, 2))])
    ],
    "stats_keyed": lambda: [
        MapData("@s", MapKind.STATS, [(1, AvgStats(100, 1)), (2, AvgStats(12, 2))])
    ],
    "tuple_keys": lambda: [
        MapData(
            "@t",
            MapKind.INT,
            [(Tuple((2, "b")), 20), (Tuple((1, "z")), 5), (Tuple((1, "a")), 10)],
        )
    ],
    "string_keys": lambda: [
        MapData("@k", MapKind.VALUE, [("ab", "z"), ("b", "x"), ("B", "w"), ("a", "y")])
    ],
    "int_values": lambda: [MapData("@v", MapKind.INT, [(1, 5), (3, 0), (4, -100), (2, -5)])],
    "scalars": lambda: [
        scalar("@d", MapKind.COUNT, 1),
        scalar("@c", MapKind.VALUE, Tuple((1, "two", Tuple((3, 4))))),
        scalar("@b", MapKind.VALUE, "str"),
        scalar("@a", MapKind.INT, 1),
    ],
}


def render(writer_cls: type[TextWriter] | type[JsonWriter], maps: list[MapData]) -> str:
    out = io.StringIO()
    writer_cls(out, io.StringIO()).print_maps(maps)
    return out.getvalue()


def test_every_golden_has_a_builder() -> None:
    assert {p.stem for p in GOLDEN.glob("*.bt")} == set(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_text_matches_bpftrace(name: str) -> None:
    assert render(TextWriter, BUILDERS[name]()) == (GOLDEN / f"{name}.txt").read_text()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_json_matches_bpftrace(name: str) -> None:
    expected = (GOLDEN / f"{name}.json").read_text()
    got = render(JsonWriter, BUILDERS[name]())
    assert got == expected
    for line in got.splitlines():
        record = json.loads(line)
        assert set(record) == {"type", "data"}
        assert record["type"] in ("map", "hist", "stats")
