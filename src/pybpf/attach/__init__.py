"""Turning attach points into live links.

Every ``attach_*`` returns an owned :class:`~pybpf.bpf.link.Link` (or a
:class:`LinkGroup`) whose ``close()`` detaches; all are context managers.
"""

from __future__ import annotations

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
