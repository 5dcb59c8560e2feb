"""Our verifier against the kernel's on the corpus (tests/verifier/corpus.py).

Safety: no program the kernel rejects is accepted by ours. Precision: of the programs the
kernel accepts, fewer than 5% are rejected by ours (the figure is in BENCHMARKS.md).
The kernel verdicts are computed once per module (one load per program).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import is_root
from tests.verifier.corpus import MAP_SHAPES, corpus, map_infos
from tests.verifier.kernel_compare import Outcome, compare, kernel_maps

from pybpf.verifier import verify


@pytest.fixture(scope="module")
def outcomes() -> Iterator[list[Outcome]]:
    if not is_root():
        pytest.skip("needs root to load BPF programs")
    with kernel_maps() as fds:
        yield [compare(e, fds) for e in corpus(fds)]


@pytest.mark.kernel
def test_corpus_is_large_and_mixed(outcomes: list[Outcome]) -> None:
    assert len(outcomes) >= 300
    assert sum(o.kernel_ok for o in outcomes) >= 300
    assert sum(not o.kernel_ok for o in outcomes) >= 150


@pytest.mark.kernel
def test_no_false_accept(outcomes: list[Outcome]) -> None:
    bad = [(o.entry.name, o.kernel_msg) for o in outcomes if o.ours_ok and not o.kernel_ok]
    assert bad == []


@pytest.mark.kernel
def test_false_reject_rate(outcomes: list[Outcome]) -> None:
    accepted = [o for o in outcomes if o.kernel_ok]
    false_rejects = [(o.entry.name, o.ours_msg) for o in accepted if not o.ours_ok]
    assert len(false_rejects) / len(accepted) < 0.05, false_rejects


def test_corpus_verifies_without_kernel() -> None:
    # the same corpus with made-up fds: every entry gets a verdict, none crashes
    fds = {n: 1000 + i for i, n in enumerate(MAP_SHAPES)}
    verdicts = [verify(e.insns, e.prog_type, map_infos(fds)) for e in corpus(fds)]
    assert sum(v.ok for v in verdicts) > 300
    assert sum(not v.ok for v in verdicts) > 150
