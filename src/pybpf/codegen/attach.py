"""Attach points: filling in what the front end has not (provider, target, func, rate) and
expanding tracepoint wildcards against tracefs."""

from __future__ import annotations

import fnmatch

from pybpf.codegen.frame import CodegenError
from pybpf.lang import ast

_ALIASES = {
    "BEGIN": "begin",
    "END": "end",
    "t": "tracepoint",
    "tp": "tracepoint",
    "rt": "rawtracepoint",
    "i": "interval",
    "p": "profile",
    "s": "software",
    "u": "uprobe",
    "ur": "uretprobe",
    "k": "kprobe",
    "kr": "kretprobe",
    "f": "fentry",
    "fr": "fexit",
    "kfunc": "fentry",
    "kretfunc": "fexit",
    "it": "iter",
    "h": "hardware",
    "w": "watchpoint",
}
_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def normalize(ap: ast.AttachPoint) -> None:
    """Fill ``provider``/``target``/``func``/``freq``/``unit`` from ``raw`` when empty."""
    if ap.provider:
        ap.provider = _ALIASES.get(ap.provider, ap.provider)
        return
    raw = ap.raw.strip()
    parts = raw.split(":")
    prov = _ALIASES.get(parts[0], parts[0])
    ap.provider = prov
    if prov in ("begin", "end"):
        return
    if prov == "tracepoint":
        if len(parts) != 3:
            raise CodegenError(
                f"invalid tracepoint '{raw}': expected tracepoint:category:name", ap.span
            )
        ap.target, ap.func = parts[1], parts[2]
    elif prov in ("interval", "profile"):
        if len(parts) == 2:
            parts = [prov, "hz" if prov == "profile" else "ms", parts[1]]
        if len(parts) != 3 or not parts[2].isdigit():
            raise CodegenError(f"invalid {prov} probe '{raw}'", ap.span)
        ap.unit, ap.freq = parts[1], int(parts[2])
    elif prov in ("software", "hardware"):
        ap.target = parts[1] if len(parts) > 1 else ""
        ap.freq = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
    elif prov in ("uprobe", "uretprobe"):
        if len(parts) < 3:
            raise CodegenError(f"invalid {prov} '{raw}': expected {prov}:binary:function", ap.span)
        ap.target, ap.func = ":".join(parts[1:-1]), parts[-1]
    elif prov in ("rawtracepoint", "tp_btf", "kprobe", "kretprobe", "fentry", "fexit", "iter"):
        ap.func = parts[-1]
        ap.target = parts[1] if len(parts) > 2 else ""
    else:
        raise CodegenError(f"unknown probe type '{parts[0]}'", ap.span)


def period_ns(ap: ast.AttachPoint) -> int:
    """The interval of an ``interval`` probe in nanoseconds (hz converted)."""
    if ap.unit == "hz":
        return 1_000_000_000 // max(ap.freq, 1)
    if ap.unit not in _UNITS:
        raise CodegenError(f"invalid time unit '{ap.unit}'", ap.span)
    return ap.freq * _UNITS[ap.unit]


def expand_tracepoints(ap: ast.AttachPoint) -> list[tuple[str, str]]:
    """(category, name) pairs a tracepoint attach point stands for."""
    from pybpf import tracefs

    if not any(c in ap.target + ap.func for c in "*?["):
        return [(ap.target, ap.func)]
    found = [
        (c, n)
        for c, n in tracefs.list_tracepoints()
        if fnmatch.fnmatchcase(c, ap.target) and fnmatch.fnmatchcase(n, ap.func)
    ]
    if not found:
        raise CodegenError(f"no tracepoints match '{ap.raw}'", ap.span)
    return found


__all__ = ["expand_tracepoints", "normalize", "period_ns"]
