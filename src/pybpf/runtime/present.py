"""Turning decoded values of special types into what bpftrace prints.

Some values are stored as numbers or raw bytes in the kernel and only become text in user
space: ``strerror(n)``, ``ksym(addr)``, ``probe``, ``username``, ``ntop()`` addresses.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence

from pybpf.output.values import Tuple, format_pointer, inet_ntop
from pybpf.passes.types import (
    InetType,
    OpaqueIdType,
    PointerType,
    RecordType,
    StackType,
    SymbolType,
    TimestampType,
    TupleType,
    Type,
)

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

StackResolver = Callable[[StackType, int, int], str]
"""(stack type, stack id, pid) -> the rendered stack."""


STRINGS: list[str] = []
"""Compile-time strings events refer to by index (strftime formats); set by the session."""


def present(
    t: Type | None, v: Any, probe_names: Sequence[str] = (), stacks: StackResolver | None = None
) -> Any:
    """The printable form of value ``v`` of type ``t``."""
    if isinstance(t, TimestampType) and isinstance(v, tuple):
        fid, ns = v
        fmt = STRINGS[fid] if 0 <= fid < len(STRINGS) else "%H:%M:%S"
        return _strftime(fmt, ns)
    if isinstance(t, StackType) and stacks is not None:
        if isinstance(v, bytes | bytearray) and len(v) >= 16:
            sid, pid = struct.unpack_from("<qQ", v)
            return stacks(t, sid, pid)
        if isinstance(v, int):
            return stacks(t, v - (1 << 64) if v >> 63 else v, 0)
    if isinstance(t, InetType) and isinstance(v, tuple):
        fam, addr = v
        try:
            return inet_ntop(fam, addr)
        except (ValueError, OSError):
            return ""
    if isinstance(t, OpaqueIdType):
        return _opaque(t.kind, v, probe_names)
    if isinstance(t, PointerType) and isinstance(v, int):
        # Current bpftrace shows pointers as 0x... (JSON: the number), keys and values alike.
        return format_pointer(v)
    if isinstance(t, SymbolType) and t.kind == "ksym" and isinstance(v, int):
        return _ksym(v)
    if isinstance(t, SymbolType) and t.kind == "usym" and isinstance(v, bytes | bytearray):
        from pybpf.runtime.usyms import usym

        return usym(*struct.unpack_from("<QQ", v)) if len(v) >= 16 else v
    if isinstance(t, TupleType | RecordType) and isinstance(v, Tuple):
        items = tuple(
            present(et, x, probe_names, stacks) for et, x in zip(t.elems, v.items, strict=False)
        )
        return Tuple(items, v.names)
    return v


def _strftime(fmt: str, ns: int) -> str:
    """Local time of monotonic-clock ``ns`` (what ``nsecs`` returns), formatted."""
    import time

    wall = time.time_ns() - time.monotonic_ns() + ns
    secs, rem = divmod(wall, 1_000_000_000)
    fmt = fmt.replace("%f", f"{rem // 1000:06d}")
    return time.strftime(fmt, time.localtime(secs))


def _opaque(kind: str, v: Any, probe_names: Sequence[str]) -> Any:
    if not isinstance(v, int):
        return v
    if kind == "strerror":
        return os.strerror(v)
    if kind == "probe":
        return probe_names[v] if 0 <= v < len(probe_names) else str(v)
    if kind == "username":
        import pwd

        try:
            return pwd.getpwuid(v).pw_name
        except KeyError:
            return str(v)
    return v


def _ksym(addr: int) -> str:
    from pybpf import kallsyms

    try:
        found = kallsyms.lookup(addr)
    except Exception:
        found = None
    return found[0] if found else f"0x{addr:x}"


__all__ = ["StackResolver", "present"]
