"""Canonical names of attach points (``tracepoint:syscalls:sys_enter_read`` ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pybpf.lang.ast import AttachPoint


def canonical_name(ap: AttachPoint) -> str:
    """The full, unaliased name of an attach point (its raw text before parsing)."""
    p = ap.provider
    if not p:
        return ap.raw
    if p in ("begin", "end"):
        return p.upper()
    if p in ("tracepoint", "uprobe", "uretprobe"):
        name = f"{p}:{ap.target}:{ap.func}" if ap.func or ap.address is None else ""
        if ap.address is not None and not ap.func:
            name = f"{p}:{ap.target}:{ap.address:#x}"
        return name + (f"+{ap.offset}" if ap.offset else "")
    if p in ("kprobe", "kretprobe", "fentry", "fexit", "rawtracepoint", "tp_btf"):
        mod = f"{ap.target}:" if ap.target else ""
        return f"{p}:{mod}{ap.func}" + (f"+{ap.offset}" if ap.offset else "")
    if p == "usdt":
        ns = f"{ap.namespace}:" if ap.namespace else ""
        return f"usdt:{ap.target}:{ns}{ap.func}"
    if p in ("profile", "interval"):
        return f"{p}:{ap.unit}:{ap.freq}"
    if p in ("software", "hardware"):
        return f"{p}:{ap.target}:{ap.freq}" if ap.freq else f"{p}:{ap.target}"
    if p in ("watchpoint", "asyncwatchpoint"):
        addr = ap.address if ap.address is not None else 0
        return f"{p}:{addr:#x}:{ap.length}:{ap.mode}"
    if p == "iter":
        return f"iter:{ap.func}"
    return ap.raw
