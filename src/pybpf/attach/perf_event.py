"""Perf events that trigger ``PERF_EVENT`` programs: software events (cpu-clock, ...) by
frequency or period, one event per online CPU."""

from __future__ import annotations

import errno as E
from collections.abc import Sequence

from pybpf.attach.group import LinkGroup
from pybpf.attach.perf_link import attach_perf_fd
from pybpf.bpf.cpus import online_cpus
from pybpf.bpf.link import Link
from pybpf.bpf.perf import PerfAttr, open_perf_event
from pybpf.bpf.prog import Program
from pybpf.bpf.syscall import PerfFlag, PerfHw, PerfSw, PerfType
from pybpf.errors import KernelError, NotSupportedError, UsageError

SOFTWARE_EVENTS: dict[str, PerfSw] = {
    "cpu-clock": PerfSw.CPU_CLOCK,
    "cpu_clock": PerfSw.CPU_CLOCK,
    "task-clock": PerfSw.TASK_CLOCK,
    "page-faults": PerfSw.PAGE_FAULTS,
    "faults": PerfSw.PAGE_FAULTS,
    "context-switches": PerfSw.CONTEXT_SWITCHES,
    "cs": PerfSw.CONTEXT_SWITCHES,
    "cpu-migrations": PerfSw.CPU_MIGRATIONS,
    "migrations": PerfSw.CPU_MIGRATIONS,
    "minor-faults": PerfSw.PAGE_FAULTS_MIN,
    "major-faults": PerfSw.PAGE_FAULTS_MAJ,
    "alignment-faults": PerfSw.ALIGNMENT_FAULTS,
    "emulation-faults": PerfSw.EMULATION_FAULTS,
    "dummy": PerfSw.DUMMY,
    "bpf-output": PerfSw.BPF_OUTPUT,
    "cgroup-switches": PerfSw.CGROUP_SWITCHES,
}
"""Software event names as perf and bpftrace spell them."""

HARDWARE_EVENTS: dict[str, PerfHw] = {
    "cpu-cycles": PerfHw.CPU_CYCLES,
    "cycles": PerfHw.CPU_CYCLES,
    "instructions": PerfHw.INSTRUCTIONS,
    "cache-references": PerfHw.CACHE_REFERENCES,
    "cache-misses": PerfHw.CACHE_MISSES,
    "branch-instructions": PerfHw.BRANCH_INSTRUCTIONS,
    "branches": PerfHw.BRANCH_INSTRUCTIONS,
    "branch-misses": PerfHw.BRANCH_MISSES,
    "bus-cycles": PerfHw.BUS_CYCLES,
    "frontend-stalls": PerfHw.STALLED_CYCLES_FRONTEND,
    "backend-stalls": PerfHw.STALLED_CYCLES_BACKEND,
    "ref-cycles": PerfHw.REF_CPU_CYCLES,
}
"""Hardware event names; these need a CPU PMU (absent on many VMs)."""


def event_attr(event: str, frequency: int | None, period: int | None) -> PerfAttr:
    """The ``perf_event_attr`` for a named event sampled by frequency (Hz) or period."""
    if (frequency is None) == (period is None):
        raise UsageError(f"perf event {event}: give exactly one of frequency or period")
    rate = frequency if frequency is not None else period
    assert rate is not None
    if rate <= 0:
        raise UsageError(f"perf event {event}: the rate must be positive, not {rate}")
    flags = PerfFlag.FREQ if frequency is not None else PerfFlag.NONE
    if event in SOFTWARE_EVENTS:
        return PerfAttr(PerfType.SOFTWARE, SOFTWARE_EVENTS[event], rate, flags=flags)
    if event in HARDWARE_EVENTS:
        return PerfAttr(PerfType.HARDWARE, HARDWARE_EVENTS[event], rate, flags=flags)
    raise UsageError(f"unknown perf event '{event}'")


def attach_perf_event(
    prog: Program,
    event: str = "cpu-clock",
    *,
    frequency: int | None = None,
    period: int | None = None,
    cpus: Sequence[int] | None = None,
    pid: int = -1,
) -> LinkGroup:
    """Attach a ``PERF_EVENT`` program to ``event`` on every online CPU (or ``cpus``)."""
    attr = event_attr(event, frequency, period)
    hardware = attr.type == PerfType.HARDWARE
    rate = f"{frequency}Hz" if frequency is not None else f"every {period}"
    links: list[Link] = []
    try:
        for cpu in cpus if cpus is not None else online_cpus():
            label = f"perf_event:{event}:{rate}:cpu{cpu}"
            try:
                pfd = open_perf_event(attr, pid, cpu, context=f"open {label}")
            except KernelError as e:
                if hardware and e.errno in (E.ENOENT, E.EOPNOTSUPP, E.ENODEV, E.EINVAL):
                    raise NotSupportedError(
                        f"hardware event {event}", "no hardware performance counters (PMU)",
                        e.errno,
                    ) from None  # fmt: skip
                raise
            links.append(attach_perf_fd(prog, pfd, label))
    except BaseException:
        for link in links:
            link.close()
        raise
    return LinkGroup(links, f"perf_event:{event}:{rate}")


WATCH_MODES = {"r": 1, "w": 2, "rw": 3, "x": 4}
"""``bp_type`` bits (HW_BREAKPOINT_R/W/X) by bpftrace's mode letters."""


def attach_watchpoint(
    prog: Program, address: int, length: int = 8, mode: str = "w", *, pid: int
) -> Link:
    """Attach a ``PERF_EVENT`` program to a hardware breakpoint on ``address`` in ``pid``.

    ``mode`` is ``r``, ``w``, ``rw`` or ``x``; ``length`` 1, 2, 4 or 8 (``x`` uses the
    architecture's instruction size, 8 here).
    """
    key = "".join(sorted(set(mode), key="rwx".index)) if set(mode) <= set("rwx") else ""
    if key not in WATCH_MODES:
        raise UsageError(f"watchpoint mode '{mode}': use r, w, rw or x")
    if length not in (1, 2, 4, 8):
        raise UsageError(f"watchpoint length {length}: use 1, 2, 4 or 8")
    label = f"watchpoint:{address:#x}:{length}:{key}"
    attr = PerfAttr(PerfType.BREAKPOINT, 0, sample_period=1, wakeup=1,
                    bp_type=WATCH_MODES[key], config1=address, config2=length)  # fmt: skip
    pfd = open_perf_event(attr, pid, -1, context=f"open {label}", feature="watchpoints")
    return attach_perf_fd(prog, pfd, label, feature="watchpoints")


__all__ = [
    "HARDWARE_EVENTS",
    "SOFTWARE_EVENTS",
    "WATCH_MODES",
    "attach_perf_event",
    "attach_watchpoint",
    "event_attr",
]
