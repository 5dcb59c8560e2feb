"""Syscall wildcards on one raw tracepoint.

``tracepoint:syscalls:sys_enter_*`` stands for ~360 tracepoints. Attaching a perf event to
each is quick, but closing each costs a kernel RCU grace period (~72 ms), so bpftrace takes
~26 s to exit. Instead, a wildcard that matches many ``sys_enter_*`` tracepoints (and whose
body does not read ``args`` or ``probe``, which differ per syscall) is compiled as ONE
raw_tracepoint program on ``sys_enter`` that first checks the syscall number against an
array map filled with the numbers of the matched syscalls. It attaches and detaches in well
under a millisecond.

Syscall numbers come from the kernel's uapi header (``asm/unistd_64.h``); without it the
wildcard falls back to one perf event per tracepoint.
"""

from __future__ import annotations

import re
from pathlib import Path

THRESHOLD = 4
"""Wildcards matching more tracepoints than this use the raw tracepoint."""

# Tracepoint names that differ from the __NR_ name, and x86-64 numbers of syscalls newer
# than many distributions' uapi headers (the numbers are kernel ABI and never change).
_ALIASES = {
    "newfstat": "fstat",
    "newlstat": "lstat",
    "newstat": "stat",
    "newuname": "uname",
    "sendfile64": "sendfile",
    "umount": "umount2",
}
_NEWER = {
    "uretprobe": 335,
    "uprobe": 336,
    "cachestat": 451,
    "fchmodat2": 452,
    "map_shadow_stack": 453,
    "futex_wake": 454,
    "futex_wait": 455,
    "futex_requeue": 456,
    "statmount": 457,
    "listmount": 458,
    "lsm_get_self_attr": 459,
    "lsm_set_self_attr": 460,
    "lsm_list_modules": 461,
    "mseal": 462,
    "setxattrat": 463,
    "getxattrat": 464,
    "listxattrat": 465,
    "removexattrat": 466,
    "open_tree_attr": 467,
    "file_getattr": 468,
    "file_setattr": 469,
}
MAX_NR = 1024
_HEADERS = (
    Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    Path("/usr/include/asm/unistd_64.h"),
)
_NR_RE = re.compile(r"^#define __NR_(\w+)\s+(\d+)", re.M)


def syscall_numbers() -> dict[str, int]:
    """Syscall name -> number for this architecture ({} when the header is missing)."""
    import platform

    if platform.machine() != "x86_64":
        return {}
    for h in _HEADERS:
        try:
            text = h.read_text()
        except OSError:
            continue
        nrs = dict(_NEWER)
        nrs.update((m.group(1), int(m.group(2))) for m in _NR_RE.finditer(text))
        for alias, real in _ALIASES.items():
            if real in nrs:
                nrs.setdefault(alias, nrs[real])
        return nrs
    return {}


def enter_filter(matches: list[tuple[str, str]]) -> dict[int, str] | None:
    """Syscall number -> probe name when ``matches`` can use the raw ``sys_enter`` program."""
    if len(matches) <= THRESHOLD:
        return None
    if not all(c == "syscalls" and n.startswith("sys_enter_") for c, n in matches):
        return None
    nrs = syscall_numbers()
    out: dict[int, str] = {}
    for _, n in matches:
        nr = nrs.get(n[len("sys_enter_") :])
        if nr is None or nr >= MAX_NR:
            return None
        out[nr] = f"tracepoint:syscalls:{n}"
    return out


__all__ = ["MAX_NR", "THRESHOLD", "enter_filter", "syscall_numbers"]
