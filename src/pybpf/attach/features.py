"""Attach kinds this kernel supports, found by really attaching a trivial program.

Loading a program type proves little: a ``KPROBE`` program loads fine on a kernel without
kprobes (bpftool then says "kprobe: yes"). Here every kind is attached for real and detached
at once; a kind counts only if that worked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress

from pybpf.attach.btfids import KIND_FUNC, KIND_TYPEDEF, vmlinux_type_id
from pybpf.attach.iter import attach_iter, iter_spec
from pybpf.attach.kprobe import attach_fentry, attach_kprobe, fentry_spec
from pybpf.attach.perf_event import attach_perf_event, attach_watchpoint
from pybpf.attach.tracepoint import (
    attach_raw_tracepoint,
    attach_tp_btf,
    attach_tracepoint,
    tp_btf_spec,
)
from pybpf.attach.uprobe import attach_uprobe, attach_uprobe_multi, resolve_target
from pybpf.bpf.features import RET0, Probe
from pybpf.bpf.prog import Program, ProgSpec
from pybpf.bpf.syscall import AttachType, ProgType
from pybpf.errors import PybpfError

_Closeable = Callable[[ExitStack], object]

_WATCHED = bytearray(8)
"""Memory of our own for the probe watchpoint (a stray hit only runs an empty program)."""


def _attempt(name: str, body: _Closeable) -> Probe:
    with ExitStack() as stack:
        try:
            body(stack)
        except PybpfError as e:
            reason = getattr(e, "reason", "") or str(e)
            return Probe(name, False, reason)
    return Probe(name, True)


def _load(stack: ExitStack, spec: ProgSpec) -> Program:
    return stack.enter_context(Program.load(spec))


def _prog(ptype: ProgType, attach: AttachType | None = None) -> ProgSpec:
    return ProgSpec(ptype, RET0, expected_attach_type=attach)


def _kernel_func() -> str:
    # Any traceable kernel function in BTF will do; this one exists on every kernel.
    return "do_sys_openat2"


def probe_attach_kinds() -> list[Probe]:
    """Try each attach kind; one :class:`Probe` per kind."""
    kp = _prog(ProgType.KPROBE)
    um = _prog(ProgType.KPROBE, AttachType.TRACE_UPROBE_MULTI)
    steps: list[tuple[str, _Closeable]] = [
        ("tracepoint", lambda s: s.enter_context(
            attach_tracepoint(_load(s, _prog(ProgType.TRACEPOINT)), "syscalls",
                              "sys_enter_getpid"))),
        ("raw_tracepoint", lambda s: s.enter_context(
            attach_raw_tracepoint(_load(s, _prog(ProgType.RAW_TRACEPOINT)), "sys_enter"))),
        ("tp_btf", lambda s: s.enter_context(
            attach_tp_btf(_load(s, tp_btf_spec("sys_enter", RET0))))),
        ("fentry", lambda s: s.enter_context(
            attach_fentry(_load(s, fentry_spec(_kernel_func(), RET0))))),
        ("fexit", lambda s: s.enter_context(
            attach_fentry(_load(s, fentry_spec(_kernel_func(), RET0, fexit=True))))),
        ("kprobe", lambda s: s.enter_context(attach_kprobe(_load(s, kp), _kernel_func()))),
        ("kretprobe", lambda s: s.enter_context(
            attach_kprobe(_load(s, kp), _kernel_func(), retprobe=True))),
        ("uprobe", lambda s: s.enter_context(attach_uprobe(_load(s, kp), "libc", "getpid"))),
        ("uretprobe", lambda s: s.enter_context(
            attach_uprobe(_load(s, kp), "libc", "getppid", retprobe=True))),
        ("uprobe_multi", lambda s: s.enter_context(
            attach_uprobe_multi(_load(s, um), "libc", ["getuid"]))),
        ("perf_event", lambda s: s.enter_context(
            attach_perf_event(_load(s, _prog(ProgType.PERF_EVENT)), "cpu-clock",
                              frequency=1, cpus=[0]))),
        ("hardware_event", lambda s: s.enter_context(
            attach_perf_event(_load(s, _prog(ProgType.PERF_EVENT)), "cycles",
                              period=1_000_000, cpus=[0]))),
        ("iter", lambda s: s.enter_context(attach_iter(_load(s, iter_spec("task", RET0))))),
        ("watchpoint", lambda s: s.enter_context(
            attach_watchpoint(_load(s, _prog(ProgType.PERF_EVENT)), id(_WATCHED), 8, "w",
                              pid=os.getpid()))),
    ]  # fmt: skip
    # Detaching waits for RCU grace periods in the kernel (~80 ms for a uprobe); the waits
    # release the GIL, so attempting the kinds side by side makes the whole probe fast.
    # Warm the shared caches (BTF index, libc symbols) first so threads do not race on them.
    _warm()
    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        return list(pool.map(lambda step: _attempt(*step), steps))


def _warm() -> None:
    with suppress(PybpfError):
        vmlinux_type_id("btf_trace_sys_enter", KIND_TYPEDEF)
    with suppress(PybpfError):
        resolve_target("libc", "getpid", 0)


def btf_id_for_probe(name: str) -> int | None:
    """Resolver for :func:`pybpf.bpf.features.probe_prog_types` (typedefs and functions)."""
    kind = KIND_TYPEDEF if name.startswith("btf_trace_") else KIND_FUNC
    return vmlinux_type_id(name, kind)


__all__ = ["btf_id_for_probe", "probe_attach_kinds"]
