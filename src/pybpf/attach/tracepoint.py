"""Tracepoints three ways: perf tracepoint events, raw tracepoints, and BTF-typed (tp_btf)."""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.asm.insn import Insn
from pybpf.attach.btfids import KIND_TYPEDEF, vmlinux_type_id
from pybpf.attach.perf_link import attach_perf_fd
from pybpf.bpf.link import Link, raw_tracepoint_open
from pybpf.bpf.perf import PerfAttr, open_perf_event
from pybpf.bpf.prog import Program, ProgSpec
from pybpf.bpf.syscall import AttachType, PerfType, ProgType
from pybpf.errors import UsageError


def attach_tracepoint(
    prog: Program, category: str, name: str, *, use_link: bool = True, tp_id: int | None = None
) -> Link:
    """Attach a ``TRACEPOINT`` program to ``category:name`` through a perf tracepoint event.

    ``use_link=False`` forces the pre-link ``PERF_EVENT_IOC_SET_BPF`` way (old kernels).
    ``tp_id`` is the tracepoint's perf event id when the caller knows it already (else it is
    read from tracefs).
    """
    label = f"tracepoint:{category}:{name}"
    if tp_id is None:
        from pybpf import tracefs

        tp_id = tracefs.tracepoint_id(category, name)
    # One event on CPU 0 is enough: the program hangs off the tracepoint itself and runs on
    # every CPU.
    attr = PerfAttr(PerfType.TRACEPOINT, tp_id, sample_period=1, wakeup=1)
    pfd = open_perf_event(attr, -1, 0, context=f"open {label}")
    return attach_perf_fd(prog, pfd, label, use_link=use_link)


def attach_raw_tracepoint(prog: Program, name: str) -> Link:
    """Attach a ``RAW_TRACEPOINT`` program to tracepoint ``name`` (e.g. ``sys_enter``)."""
    return Link(raw_tracepoint_open(name, prog.fd), f"rawtracepoint:{name}")


def tp_btf_id(name: str) -> int:
    """The vmlinux BTF id of ``btf_trace_<name>``, what a tp_btf program attaches to."""
    tid = vmlinux_type_id(f"btf_trace_{name}", KIND_TYPEDEF)
    if tid is None:
        raise UsageError(f"tracepoint {name}: no btf_trace_{name} in kernel BTF")
    return tid


def tp_btf_spec(name: str, insns: Sequence[Insn], **kw: object) -> ProgSpec:
    """A ``TRACING`` program spec for BTF tracepoint ``name`` (``tp_btf:<name>``)."""
    return ProgSpec(
        ProgType.TRACING, tuple(insns), expected_attach_type=AttachType.TRACE_RAW_TP,
        attach_btf_id=tp_btf_id(name), label=f"tp_btf:{name}", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def attach_tp_btf(prog: Program) -> Link:
    """Attach a program loaded from :func:`tp_btf_spec` (its BTF id names the tracepoint)."""
    return Link(raw_tracepoint_open(None, prog.fd), prog.spec.describe())


__all__ = [
    "attach_raw_tracepoint",
    "attach_tp_btf",
    "attach_tracepoint",
    "tp_btf_id",
    "tp_btf_spec",
]
