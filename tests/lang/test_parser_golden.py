"""Parser goldens: every tests/testdata/lang/*.bt has its ``-d ast`` dump in *.ast.

The dump file also holds the rendered diagnostics (after a ``--- diagnostics`` line) when
the script has errors.  Regenerate with ``PYBPF_REGEN=1 pytest tests/lang``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pybpf.diag import render_all
from pybpf.lang.dump import dump_ast
from pybpf.lang.parser import parse
from pybpf.lang.printer import format_program

DATA = Path(__file__).parent.parent / "testdata" / "lang"
CASES = sorted(DATA.glob("*.bt"))
#: Scripts without deliberate errors (``errors_*.bt`` are broken on purpose).
VALID = [p for p in CASES if not p.stem.startswith("errors")]


def _render(path: Path) -> str:
    r = parse(path.read_text(), path.name)
    out = dump_ast(r.program)
    if r.diags.items:
        out += "--- diagnostics\n" + render_all(r.diags, r.source)
    return out


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    expected_path = path.with_suffix(".ast")
    got = _render(path)
    if os.environ.get("PYBPF_REGEN"):
        expected_path.write_text(got)
    assert got == expected_path.read_text()


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_roundtrip(path: Path) -> None:
    r = parse(path.read_text(), path.name)
    assert not r.diags.items
    text = format_program(r.program)
    r2 = parse(text, path.name)
    assert not r2.diags.items, render_all(r2.diags, r2.source)
    assert dump_ast(r2.program) == dump_ast(r.program)
    # Printing is a fixed point.
    assert format_program(r2.program) == text


def test_case_count() -> None:
    assert len(CASES) >= 12
