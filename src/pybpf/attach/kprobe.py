"""Kernel probes: kprobes through the kprobe PMU, fentry/fexit through BTF.

Kernels built without CONFIG_KPROBES have no kprobe PMU; then kprobes are reported as not
supported (a clear one-line error), never attempted through tracefs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from pybpf.asm.insn import Insn
from pybpf.attach.btfids import KIND_FUNC, vmlinux_type_id
from pybpf.attach.perf_link import attach_perf_fd
from pybpf.attach.pmu import PMU_DIR, format_bit, pmu_type
from pybpf.bpf import syscall as sc
from pybpf.bpf.link import Link, raw_tracepoint_open
from pybpf.bpf.perf import PerfAttr, open_perf_event
from pybpf.bpf.prog import Program, ProgSpec
from pybpf.bpf.syscall import AttachType, ProgType
from pybpf.errors import NotSupportedError, UsageError


def kprobe_support() -> tuple[bool, str]:
    """(available, reason): whether this kernel can do kprobes at all."""
    if pmu_type("kprobe") is not None:
        return True, ""
    reason = f"no kprobe PMU in {PMU_DIR}"
    if not os.path.exists("/sys/kernel/tracing/kprobe_events"):
        reason = "CONFIG_KPROBES is off"
    return False, reason


def attach_kprobe(prog: Program, func: str, offset: int = 0, *, retprobe: bool = False) -> Link:
    """Attach a ``KPROBE`` program to kernel function ``func`` (+``offset``)."""
    kind = "kretprobe" if retprobe else "kprobe"
    ok, reason = kprobe_support()
    ptype = pmu_type("kprobe")
    if not ok or ptype is None:
        raise NotSupportedError("kprobes", reason)
    config = 0
    if retprobe:
        bit = format_bit("kprobe", "retprobe")
        if bit is None:
            raise NotSupportedError("kretprobes", "the kprobe PMU has no retprobe format bit")
        config |= 1 << bit
    name_buf = bytearray(func.encode() + b"\0")
    attr = PerfAttr(ptype, config, sample_period=1, wakeup=1,
                    config1=sc.address_of(name_buf), config2=offset)  # fmt: skip
    label = f"{kind}:{func}" + (f"+{offset}" if offset else "")
    pfd = open_perf_event(attr, -1, 0, context=f"open {label}", feature="kprobes", keep=name_buf)
    return attach_perf_fd(prog, pfd, label, feature="kprobes")


def fentry_spec(func: str, insns: Sequence[Insn], *, fexit: bool = False) -> ProgSpec:
    """A ``TRACING`` program spec for ``fentry:<func>`` (or ``fexit``)."""
    tid = vmlinux_type_id(func, KIND_FUNC)
    if tid is None:
        raise UsageError(f"kernel function {func}: not found in kernel BTF")
    kind = "fexit" if fexit else "fentry"
    attach = AttachType.TRACE_FEXIT if fexit else AttachType.TRACE_FENTRY
    return ProgSpec(ProgType.TRACING, tuple(insns), expected_attach_type=attach,
                    attach_btf_id=tid, label=f"{kind}:{func}")  # fmt: skip


def attach_fentry(prog: Program) -> Link:
    """Attach a loaded fentry/fexit program (its BTF id names the function)."""
    return Link(raw_tracepoint_open(None, prog.fd), prog.spec.describe())


__all__ = ["attach_fentry", "attach_kprobe", "fentry_spec", "kprobe_support"]
