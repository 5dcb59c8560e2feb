"""Turning attach points into live links.

Every ``attach_*`` returns an owned :class:`~pybpf.bpf.link.Link` (or a
:class:`LinkGroup`) whose ``close()`` detaches; all are context managers.
"""

from __future__ import annotations

import importlib

# Exports load on first use: the tracer attaches a tracepoint without paying for the
# ELF reader that uprobes need (start-up time).
# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.attach.group import LinkGroup
    from pybpf.attach.iter import IterLink, attach_iter, iter_spec
    from pybpf.attach.kprobe import attach_fentry, attach_kprobe, fentry_spec, kprobe_support
    from pybpf.attach.perf_event import (
        HARDWARE_EVENTS,
        SOFTWARE_EVENTS,
        attach_perf_event,
        attach_watchpoint,
        event_attr,
    )
    from pybpf.attach.tracepoint import (
        attach_raw_tracepoint,
        attach_tp_btf,
        attach_tracepoint,
        tp_btf_id,
        tp_btf_spec,
    )
    from pybpf.attach.uprobe import (
        attach_uprobe,
        attach_uprobe_multi,
        attach_usdt,
        find_usdt,
        resolve_target,
    )

_LAZY: dict[str, str] = {
    "HARDWARE_EVENTS": "pybpf.attach.perf_event",
    "IterLink": "pybpf.attach.iter",
    "LinkGroup": "pybpf.attach.group",
    "SOFTWARE_EVENTS": "pybpf.attach.perf_event",
    "attach_fentry": "pybpf.attach.kprobe",
    "attach_iter": "pybpf.attach.iter",
    "attach_kprobe": "pybpf.attach.kprobe",
    "attach_perf_event": "pybpf.attach.perf_event",
    "attach_raw_tracepoint": "pybpf.attach.tracepoint",
    "attach_tp_btf": "pybpf.attach.tracepoint",
    "attach_tracepoint": "pybpf.attach.tracepoint",
    "attach_uprobe": "pybpf.attach.uprobe",
    "attach_uprobe_multi": "pybpf.attach.uprobe",
    "attach_usdt": "pybpf.attach.uprobe",
    "attach_watchpoint": "pybpf.attach.perf_event",
    "event_attr": "pybpf.attach.perf_event",
    "fentry_spec": "pybpf.attach.kprobe",
    "find_usdt": "pybpf.attach.uprobe",
    "iter_spec": "pybpf.attach.iter",
    "kprobe_support": "pybpf.attach.kprobe",
    "resolve_target": "pybpf.attach.uprobe",
    "tp_btf_id": "pybpf.attach.tracepoint",
    "tp_btf_spec": "pybpf.attach.tracepoint",
}


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "HARDWARE_EVENTS",
    "SOFTWARE_EVENTS",
    "IterLink",
    "LinkGroup",
    "attach_fentry",
    "attach_iter",
    "attach_kprobe",
    "attach_perf_event",
    "attach_raw_tracepoint",
    "attach_tp_btf",
    "attach_tracepoint",
    "attach_uprobe",
    "attach_uprobe_multi",
    "attach_usdt",
    "attach_watchpoint",
    "event_attr",
    "fentry_spec",
    "find_usdt",
    "iter_spec",
    "kprobe_support",
    "resolve_target",
    "tp_btf_id",
    "tp_btf_spec",
]
