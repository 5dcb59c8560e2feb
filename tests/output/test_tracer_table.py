"""Integrity of the tracer program table (tests/testdata/tracer).

The tracer's own tests run these programs; here we only check the data is well formed:
every program has its expectations, JSON expectations are valid NDJSON of bpftrace's
event types, hand-written expectations are all listed with a reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

TABLE = Path(__file__).resolve().parents[1] / "testdata" / "tracer"
PROGRAMS = sorted(TABLE.glob("*.bt"))
KNOWN_TYPES = {"map", "hist", "stats", "value", "printf", "time", "cat", "join", "syscall"}


def test_table_is_large_enough() -> None:
    assert len(PROGRAMS) >= 200


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_program_has_expectations(program: Path) -> None:
    out = program.with_suffix(".out")
    assert out.exists()
    text = out.read_text()
    assert not text.startswith("Attaching")
    assert text == "" or text.endswith("\n")
    rc = program.with_suffix(".rc")
    if rc.exists():
        assert int(rc.read_text()) != 0
    js = program.with_suffix(".json")
    if not js.exists():
        assert program.stem == "strerror_map"
        return
    for line in js.read_text().splitlines():
        record = json.loads(line)
        assert record["type"] in KNOWN_TYPES
        assert set(record) == {"type", "data"}


def test_manual_expectations_are_documented() -> None:
    readme = (TABLE / "README.md").read_text()
    listed = set(re.findall(r"^\| (\w+) \|", readme, re.M)) - {"file", "program"}
    manual = {p.stem for p in PROGRAMS if "expect: manual" in p.read_text().split("\n", 1)[0]}
    assert manual == listed
