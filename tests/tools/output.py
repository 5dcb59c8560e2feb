"""Read the text a tool printed: table rows, histograms, and ``@map[key]: value`` lines."""

from __future__ import annotations

import re

_BUCKET = re.compile(r"^(\[[^\]]*[\])])\s+(\d+)\s+\|[@ ]*\|$")
_SCALAR = re.compile(r"^(@\w*)(?:\[(.*)\])?: (-?\d+)$")


def rows(out: str, ncols: int) -> list[list[str]]:
    """Whitespace-split lines with at least ``ncols`` fields (the last keeps its spaces)."""
    got = []
    for line in out.splitlines():
        parts = line.split(None, ncols - 1)
        if len(parts) == ncols:
            got.append(parts)
    return got


def histograms(out: str) -> dict[str, dict[str, int]]:
    """Every printed histogram: ``"@name[key]"`` -> bucket label -> count."""
    found: dict[str, dict[str, int]] = {}
    current: dict[str, int] | None = None
    key: list[str] | None = None  # a key printed over several lines (a stack)
    for line in out.splitlines():
        line = line.rstrip()  # bpftrace 0.17 ends "@map: " with a space
        if key is not None:
            key.append(line.strip())
            if line.endswith("]:"):
                current = found.setdefault("\n".join(key)[:-1], {})
                key = None
            continue
        if line.startswith("@") and line.endswith(":"):
            current = found.setdefault(line[:-1], {})
            continue
        if line.startswith("@") and line.endswith("["):
            key = [line]
            continue
        m = _BUCKET.match(line)
        if m and current is not None:
            current[m.group(1)] = int(m.group(2))
        elif not line.strip():
            current = None
    return found


def scalars(out: str) -> dict[str, int]:
    """``@map[key]: N`` and ``@: N`` lines: ``"@map[key]"`` -> N (the last one wins)."""
    found = {}
    for line in out.splitlines():
        m = _SCALAR.match(line.strip())
        if m:
            key = m.group(1) + (f"[{m.group(2)}]" if m.group(2) is not None else "")
            found[key] = int(m.group(3))
    return found
