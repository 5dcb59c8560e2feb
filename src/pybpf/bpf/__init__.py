"""The kernel interface: bpf(2) and perf_event_open(2), owned fds, maps, programs, links,
object info, and ring/perf buffer readers. ``syscall`` is the only ctypes call site."""

from __future__ import annotations

from pybpf.bpf.fd import Fd
from pybpf.bpf.link import Link
from pybpf.bpf.maps import Map, MapSpec, MapView
from pybpf.bpf.prog import Program, ProgSpec, TestRun
from pybpf.bpf.syscall import (
    AttachType,
    LinkType,
    MapFlags,
    MapType,
    PerfSw,
    PerfType,
    ProgType,
    UpdateFlag,
)

__all__ = [
    "AttachType",
    "Fd",
    "Link",
    "LinkType",
    "Map",
    "MapFlags",
    "MapSpec",
    "MapType",
    "MapView",
    "PerfSw",
    "PerfType",
    "ProgSpec",
    "ProgType",
    "Program",
    "TestRun",
    "UpdateFlag",
]
