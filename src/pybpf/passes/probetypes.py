"""Probe-type tables (providers, aliases, software and hardware events) and name splitting.

Kept apart from the attach-point pass so that ``pybpftrace -l`` can use them without
importing the AST (its ~50 dataclasses cost tens of milliseconds to create at import).
"""

from __future__ import annotations

ALIASES = {
    "BEGIN": "begin", "END": "end", "t": "tracepoint", "k": "kprobe", "kr": "kretprobe",
    "u": "uprobe", "ur": "uretprobe", "U": "usdt", "p": "profile", "i": "interval",
    "s": "software", "h": "hardware", "w": "watchpoint", "aw": "asyncwatchpoint",
    "f": "fentry", "fr": "fexit", "kfunc": "fentry", "kretfunc": "fexit",
    "rt": "rawtracepoint", "it": "iter",
}  # fmt: skip
PROVIDERS = {
    "begin", "end", "tracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt",
    "profile", "interval", "software", "hardware", "watchpoint", "asyncwatchpoint",
    "fentry", "fexit", "rawtracepoint", "tp_btf", "iter", "self", "test", "bench",
}  # fmt: skip

SOFTWARE = {
    "cpu-clock": "cpu", "task-clock": "", "page-faults": "faults", "context-switches": "cs",
    "cpu-migrations": "migrations", "minor-faults": "", "major-faults": "",
    "alignment-faults": "", "emulation-faults": "", "dummy": "", "bpf-output": "",
}  # fmt: skip
HARDWARE = {
    "cpu-cycles": "cycles", "instructions": "", "cache-references": "", "cache-misses": "",
    "branch-instructions": "branches", "branch-misses": "", "bus-cycles": "",
    "frontend-stalls": "", "backend-stalls": "", "ref-cycles": "",
}  # fmt: skip
TIME_UNITS = {"s", "ms", "us", "ns", "hz", "min"}


def split_raw(raw: str) -> list[str]:
    """Split on ``:`` outside double quotes; quotes are removed."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for c in raw:
        if c == '"':
            quoted = not quoted
        elif c == ":" and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts
