"""Listings compared with tcpdump's stored output (goldens made by make_goldens.py)."""

from __future__ import annotations

import pytest

from pybpf.cbpf import names
from pybpf.cbpf.compiler import compile_filter
from pybpf.cbpf.insn import listing, parse_listing
from pybpf.cbpf.lexer import FilterError
from pybpf.cbpf.vm import run

from .goldens import DATA, load
from .pktgen import corpus

LINKS = {"en10mb": names.DLT_EN10MB, "raw": names.DLT_RAW}
NOT_IDENTICAL = DATA / "opt_not_identical.txt"


def _mine(expr: str, lt: int, opt: bool) -> tuple[int, str]:
    try:
        return 0, listing(compile_filter(expr, lt, opt))
    except FilterError as e:
        return 1, e.message + "\n"


@pytest.mark.parametrize("link", ["en10mb", "raw"])
def test_unoptimised_listings_identical(link: str) -> None:
    goldens = load(f"exprs_{link}_noopt")
    assert len(goldens) >= 300
    bad = [g.expr for g in goldens if _mine(g.expr, LINKS[link], False) != (g.status, g.text)]
    assert bad == []


@pytest.mark.parametrize("link", ["en10mb", "raw"])
@pytest.mark.parametrize("opt", ["noopt", "opt"])
def test_bad_expressions_same_error(link: str, opt: str) -> None:
    goldens = load(f"bad_exprs_{link}_{opt}")
    for g in goldens:
        status, text = _mine(g.expr, LINKS[link], opt == "opt")
        assert (status != 0, text) == (g.status != 0, g.text), g.expr


@pytest.mark.parametrize("link", ["en10mb", "raw"])
def test_optimised_identical_or_equivalent_and_not_longer(link: str) -> None:
    goldens = load(f"exprs_{link}_opt")
    packets = corpus(400, seed=7, raw=link == "raw")
    expected_diff = {
        ln.split("\t", 1)[1]
        for ln in NOT_IDENTICAL.read_text().splitlines()
        if ln.startswith(link + "\t")
    }
    differ: set[str] = set()
    for g in goldens:
        status, text = _mine(g.expr, LINKS[link], True)
        assert status == g.status, g.expr
        if status or text == g.text:
            continue
        differ.add(g.expr)
        ours, theirs = parse_listing(text), parse_listing(g.text)
        assert len(ours) <= len(theirs) or g.expr in expected_diff, g.expr
        for pkt in packets:
            assert (run(ours, pkt) != 0) == (run(theirs, pkt) != 0), (g.expr, pkt.hex())
    # The list of non-identical listings is kept in the repository; it may only shrink.
    assert differ <= expected_diff, sorted(differ - expected_diff)
