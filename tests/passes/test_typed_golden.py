"""Typed AST goldens: tests/testdata/passes/*.bt and their ``-d ast`` dump after analysis.

Regenerate with ``PYBPF_REGEN=1 pytest tests/passes/test_typed_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pybpf.lang.dump import dump_ast
from pybpf.passes.pipeline import compile_frontend

from .fakes import FakeCatalog

DATA = Path(__file__).parent.parent / "testdata" / "passes"
CASES = sorted(DATA.glob("*.bt"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_typed_dump(path: Path) -> None:
    r = compile_frontend(path.read_text(), path.name, catalog=FakeCatalog(with_btf=False))
    assert r.ok, r.render()
    got = dump_ast(r.program, types=True)
    golden = path.with_suffix(".types")
    if os.environ.get("PYBPF_REGEN"):
        golden.write_text(got)
    assert got == golden.read_text()
