"""User-space probes through the uprobe PMU, and multi-uprobe links.

The uprobe PMU takes the binary's path in ``config1`` (a pointer), the file offset of the
probed instruction in ``config2``, the return-probe bit from sysfs ``format/retprobe`` and
a USDT semaphore offset in ``config`` bits 32-63. The kernel removes the probe when the fd
closes, even after SIGKILL -- unlike tracefs ``uprobe_events``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence

from pybpf import elf
from pybpf.attach.group import LinkGroup
from pybpf.attach.perf_link import attach_perf_fd
from pybpf.attach.pmu import format_bit, pmu_type
from pybpf.bpf import syscall as sc
from pybpf.bpf.link import Link, link_create
from pybpf.bpf.perf import PerfAttr, open_perf_event
from pybpf.bpf.prog import Program
from pybpf.bpf.syscall import AttachType
from pybpf.errors import NotSupportedError, UsageError

BPF_F_UPROBE_MULTI_RETURN = 1


def resolve_target(path: str, symbol: str | None, offset: int) -> tuple[str, int]:
    """(absolute binary path, file offset) for ``path:symbol+offset`` or ``path:offset``."""
    binary = elf.resolve_binary(path)
    if symbol:
        return binary, function_offset(binary, symbol, offset)
    return binary, offset


def function_offset(binary: str, func: str, off: int = 0) -> int:
    """File offset of ``func+off`` in ``binary`` (its debug file's symbols included).

    Like bpftrace, an offset must fall inside the function (its symbol size) and on an
    instruction boundary: a breakpoint written into the middle of an instruction would
    corrupt the traced program. Boundaries are checked with capstone (optional extra).
    """
    tab = elf.symbol_table(binary)
    sym = tab.find(func)
    base = tab.vaddr_to_offset(sym.value)
    if off:
        if off >= sym.size:
            raise UsageError(f"Offset outside the function bounds ('{func}' size is {sym.size})")
        _check_boundary(binary, f"{binary}:{func}+{off}", base, off)
    return base + off


def _check_boundary(binary: str, where: str, base: int, off: int) -> None:
    try:
        import capstone
    except ImportError:
        raise UsageError(
            f"Can't check if uprobe is in proper place (install capstone: "
            f"pip install 'pybpf[jit]'): {where}"
        ) from None
    try:
        with open(binary, "rb") as f:
            f.seek(base)
            code = f.read(off + 16)
    except OSError as e:
        msg = f"Failed to check if uprobe is in proper place: {where}: {e.strerror}"
        raise UsageError(msg) from None
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    for addr, size, _m, _o in md.disasm_lite(code, 0):
        if addr == off:
            return
        if addr + size > off:
            raise UsageError(f"Could not add uprobe into middle of instruction: {where}")
    raise UsageError(f"Failed to check if uprobe is in proper place: {where}")


def attach_uprobe(
    prog: Program,
    path: str,
    symbol: str | None = None,
    offset: int = 0,
    *,
    retprobe: bool = False,
    pid: int = -1,
    ref_ctr_offset: int = 0,
) -> Link:
    """Attach a ``KPROBE``-type program at ``path:symbol+offset`` (or a raw file offset).

    ``pid`` limits the probe to one process; ``ref_ctr_offset`` is a USDT semaphore.
    """
    kind = "uretprobe" if retprobe else "uprobe"
    ptype = pmu_type("uprobe")
    if ptype is None:
        raise NotSupportedError(kind, "no uprobe PMU in /sys/bus/event_source/devices")
    binary, off = resolve_target(path, symbol, offset)
    label = f"{kind}:{binary}:{symbol or hex(off)}" + (f"+{offset}" if symbol and offset else "")
    config = ref_ctr_offset << 32
    if retprobe:
        bit = format_bit("uprobe", "retprobe")
        if bit is None:
            raise NotSupportedError("uretprobe", "the uprobe PMU has no retprobe format bit")
        config |= 1 << bit
    path_buf = bytearray(binary.encode() + b"\0")
    attr = PerfAttr(ptype, config, sample_period=1, wakeup=1,
                    config1=sc.address_of(path_buf), config2=off)  # fmt: skip
    cpu = -1 if pid >= 0 else 0
    pfd = open_perf_event(attr, pid, cpu, context=f"open {label}", feature=kind, keep=path_buf)
    return attach_perf_fd(prog, pfd, label)


def find_usdt(path: str, provider: str, name: str) -> list[elf.UsdtProbe]:
    """Every location of USDT probe ``provider:name`` in ``path`` (one per inlined site)."""
    binary = elf.resolve_binary(path)
    found = [p for p in elf.usdt_probes(binary) if p.provider == provider and p.name == name]
    if not found:
        raise UsageError(f"usdt:{binary}:{provider}:{name}: no such probe")
    return found


def attach_usdt(prog: Program, path: str, provider: str, name: str, *, pid: int = -1) -> LinkGroup:
    """Attach a ``KPROBE``-type program to every location of USDT probe ``provider:name``.

    Probes guarded by a semaphore get it counted up by the kernel (``ref_ctr_offset``) for
    as long as the links live, so the traced program actually reaches its probe sites.
    """
    links: list[Link] = []
    try:
        for p in find_usdt(path, provider, name):
            links.append(attach_uprobe(prog, p.path, offset=p.offset, pid=pid,
                                       ref_ctr_offset=p.semaphore_offset))  # fmt: skip
    except BaseException:
        for link in links:
            link.close()
        raise
    return LinkGroup(links, f"usdt:{path}:{provider}:{name}")


def attach_uprobe_multi(
    prog: Program,
    path: str,
    symbols: Sequence[str] = (),
    offsets: Sequence[int] = (),
    *,
    retprobe: bool = False,
    pid: int = 0,
    cookies: Sequence[int] = (),
) -> Link:
    """One ``BPF_TRACE_UPROBE_MULTI`` link over many functions of one binary.

    The program must be loaded with ``expected_attach_type=AttachType.TRACE_UPROBE_MULTI``.
    """
    binary = elf.resolve_binary(path)
    tab = elf.symbol_table(binary)
    offs = [tab.symbol_offset(s) for s in symbols] + list(offsets)
    if not offs:
        raise NotSupportedError("uprobe_multi", "no functions to attach to")
    path_buf = bytearray(binary.encode() + b"\0")
    off_buf = bytearray(struct.pack(f"<{len(offs)}Q", *offs))
    ck_buf = bytearray(struct.pack(f"<{len(cookies)}Q", *cookies)) if cookies else None
    tail = struct.pack(
        "<QQQQIII", sc.address_of(path_buf), sc.address_of(off_buf), 0,
        sc.address_of(ck_buf), len(offs), BPF_F_UPROBE_MULTI_RETURN if retprobe else 0, pid,
    )  # fmt: skip
    kind = "uretprobe_multi" if retprobe else "uprobe_multi"
    label = f"{kind}:{os.path.basename(binary)}:{len(offs)} functions"
    lfd = link_create(prog.fd, 0, AttachType.TRACE_UPROBE_MULTI, tail=tail,
                      context=f"attach {label}", feature=kind)  # fmt: skip
    del path_buf, off_buf, ck_buf
    return Link(lfd, label)


__all__ = [
    "attach_uprobe",
    "attach_uprobe_multi",
    "attach_usdt",
    "find_usdt",
    "function_offset",
    "resolve_target",
]
