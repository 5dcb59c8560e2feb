"""Reading and symbolising stacks recorded by ``bpf_get_stackid``."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from pybpf.output.values import StackFrame, StackMode, format_stack

if TYPE_CHECKING:
    from pybpf.bpf.maps import Map
    from pybpf.passes.types import StackType

_MODES = {"bpftrace": StackMode.BPFTRACE, "perf": StackMode.PERF, "raw": StackMode.RAW}


def addresses(m: Map | None, sid: int) -> list[int]:
    """The return addresses of stack ``sid`` (innermost first); [] when unavailable."""
    if m is None or sid < 0:
        return []
    raw = m.lookup(struct.pack("<I", sid))
    if not isinstance(raw, bytes):
        return []
    out = []
    for (addr,) in struct.iter_unpack("<Q", raw):
        if addr == 0:
            break
        out.append(addr)
    return out


def _kernel_frame(addr: int) -> StackFrame:
    from pybpf import kallsyms

    try:
        hit = kallsyms.lookup(addr)
    except Exception:
        hit = None
    if hit is None:
        return StackFrame(addr)
    return StackFrame(addr, hit[0], hit[1])


def user_frame(addr: int, pid: int, cache: dict[int, Any]) -> StackFrame:
    """One user frame of process ``pid`` (symbolizers cached per pid in ``cache``)."""
    from pybpf.runtime.usyms import symbolizer

    sym = symbolizer(pid, cache)
    try:
        hit = sym.symbolize(addr) if sym is not None else None
    except Exception:  # an unreadable file must not lose the whole stack
        hit = None
    if hit is None or hit.symbol is None:
        return StackFrame(addr, None, 0, "")
    return StackFrame(addr, hit.symbol, hit.offset, hit.module)


def render_stack(
    m: Map | None, t: StackType, sid: int, pid: int, cache: dict[int, Any], indent: int = 8
) -> str:
    """bpftrace's text for one stack (kernel frames via kallsyms, user frames via ELF)."""
    addrs = addresses(m, sid)[: t.limit]
    if t.user:
        frames = [user_frame(a, pid, cache) for a in addrs]
    else:
        frames = [_kernel_frame(a) for a in addrs]
    return format_stack(frames, _MODES.get(t.mode.value, StackMode.BPFTRACE), indent)


__all__ = ["addresses", "render_stack", "user_frame"]
