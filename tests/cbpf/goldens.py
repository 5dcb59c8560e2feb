"""Reading the stored tcpdump goldens (tests/testdata/cbpf/golden_*.txt)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "testdata" / "cbpf"


@dataclass(frozen=True)
class Golden:
    """What tcpdump printed for one expression: status 0 and a listing, or an error."""

    expr: str
    status: int
    text: str


def load(name: str) -> list[Golden]:
    """Entries of ``golden_<name>.txt`` in file order."""
    txt = (DATA / f"golden_{name}.txt").read_text()
    out = []
    for chunk in re.split(r"^=== ", txt, flags=re.M)[1:]:
        expr, _, body = chunk.partition("\n--- status ")
        status, _, text = body.partition("\n")
        out.append(Golden(expr, int(status), text))
    return out
