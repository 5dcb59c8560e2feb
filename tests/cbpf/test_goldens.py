"""Listings compared with tcpdump's stored output (goldens made by make_goldens.py)."""

from __future__ import annotations

import pytest

from pybpf.cbpf import names
from pybpf.cbpf.compiler import compile_filter
from pybpf.cbpf.insn import listing, parse_listing
from pybpf.cbpf.lexer import FilterError
from pybpf.cbpf.vm import run, run_traced

from .goldens import load
from .pktgen import corpus

LINKS = {"en10mb": names.DLT_EN10MB, "raw": names.DLT_RAW}


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
def test_optimised_listings_identical(link: str) -> None:
    goldens = load(f"exprs_{link}_opt")
    bad = [g.expr for g in goldens if _mine(g.expr, LINKS[link], True) != (g.status, g.text)]
    assert bad == []


@pytest.mark.parametrize("link", ["en10mb", "raw"])
def test_optimised_program_accepts_what_unoptimised_does(link: str) -> None:
    packets = corpus(120, seed=11, raw=link == "raw")
    for g in load(f"exprs_{link}_noopt"):
        if g.status:
            continue
        theirs = parse_listing(g.text)
        try:
            ours = compile_filter(g.expr, LINKS[link], True)
        except FilterError as e:
            # The optimiser proved the filter rejects everything: so must the original.
            assert e.message == "expression rejects all packets"
            assert not any(run(theirs, pkt) for pkt in packets), g.expr
            continue
        assert len(ours) <= len(theirs)
        for pkt in packets:
            verdict, oob = run_traced(theirs, pkt)
            if not oob:  # see test_differential._check for why
                assert (run(ours, pkt) != 0) == (verdict != 0), (g.expr, pkt.hex())


def test_listing_styles_match_tcpdump_formats() -> None:
    prog = compile_filter("tcp port 80")
    dd = listing(prog, "dd").splitlines()
    ddd = listing(prog, "ddd").splitlines()
    assert dd[0] == "{ 0x28, 0, 0, 0x0000000c },"
    assert ddd[0] == str(len(prog)) and ddd[1] == "40 0 0 12"
    assert parse_listing(listing(prog)) == prog
