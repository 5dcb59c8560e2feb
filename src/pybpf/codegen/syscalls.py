"""Syscall wildcards on one raw tracepoint.

``tracepoint:syscalls:sys_enter_*`` stands for ~360 tracepoints. Attaching a perf event to
each is quick, but closing each costs a kernel RCU grace period (~72 ms), so bpftrace takes
~26 s to exit. Instead, a wildcard that matches many ``sys_enter_*`` tracepoints (and whose
body does not read ``args`` or ``probe``, which differ per syscall) is compiled as ONE
raw_tracepoint program on ``sys_enter`` that first checks the syscall number against an
array map filled with the numbers of the matched syscalls. It attaches and detaches in well
under a millisecond.

``sys_exit_*`` wildcards work the same way on the raw ``sys_exit`` tracepoint, whose
arguments are the saved registers and the return value: the syscall number is read from
``regs->orig_ax``, and because every ``sys_exit_*`` record has the same layout
(``__syscall_nr``, ``ret``) the program rebuilds that record on its stack so ``args.ret``
reads exactly as on the real tracepoint. The filter map's value is the probe id plus one,
so ``probe`` names the syscall's own tracepoint. A wildcard matching both kinds
(``sys_*_read``) becomes one program of each kind.

Syscall numbers come from the kernel's uapi header (``asm/unistd_64.h``); without it the
wildcard falls back to one perf event per tracepoint.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, R6, Emitter
from pybpf.codegen.helpers import Helper

if TYPE_CHECKING:
    from pybpf.codegen.probe import ProbeGen

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
    "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
    "/usr/include/asm/unistd_64.h",
)
_NR_RE = re.compile(r"^#define __NR_(\w+)\s+(\d+)", re.M)


def syscall_numbers() -> dict[str, int]:
    """Syscall name -> number for this architecture ({} when the header is missing)."""
    import platform

    if platform.machine() != "x86_64":
        return {}
    for h in _HEADERS:
        try:
            with open(h) as f:
                text = f.read()
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
    return kind_filter(matches, "sys_enter_")


def kind_filter(matches: list[tuple[str, str]], prefix: str) -> dict[int, str] | None:
    """Syscall number -> probe name when every match is a ``prefix`` syscall tracepoint
    (``sys_enter_`` or ``sys_exit_``) with a known number, and there are enough of them."""
    if len(matches) <= THRESHOLD:
        return None
    if not all(c == "syscalls" and n.startswith(prefix) for c, n in matches):
        return None
    nrs = syscall_numbers()
    out: dict[int, str] = {}
    for _, n in matches:
        nr = nrs.get(n[len(prefix) :])
        if nr is None or nr >= MAX_NR:
            return None
        out[nr] = f"tracepoint:syscalls:{n}"
    return out


def split(matches: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Matches grouped as ``sys_enter_``, ``sys_exit_`` and the rest (``""``), in order."""
    out: dict[str, list[tuple[str, str]]] = {"sys_enter_": [], "sys_exit_": [], "": []}
    for c, n in matches:
        kind = next((k for k in ("sys_enter_", "sys_exit_") if n.startswith(k)), "")
        out[kind if c == "syscalls" else ""].append((c, n))
    return out


# x86-64 ``struct pt_regs``: orig_ax (the syscall number) is the 16th u64 (kernel ABI).
_ORIG_AX = 120
#: Size of the ``sys_exit_*`` record rebuilt on the stack: common header, nr, ret.
EXIT_RECORD = 24


def emit_filter(gen: ProbeGen, pro: Emitter, exit_: bool) -> None:
    """The prologue of a raw ``sys_enter``/``sys_exit`` program (ctx in r1): continue only
    for the matched syscalls, leave the probe id at ``gen.filter_slot`` and, for
    ``sys_exit`` bodies that read ``args``, point r6 at a rebuilt tracepoint record."""
    slot = gen.filter_slot
    if exit_:
        # raw sys_exit: args[0] = struct pt_regs *, args[1] = return value.
        pro.ldx(8, R3, R1, 0)
        pro.alui(AluOp.ADD, R3, _ORIG_AX)
        pro.mov(R1, FP)
        pro.alui(AluOp.ADD, R1, slot)
        pro.movi(R2, 8)
        pro.call(Helper.PROBE_READ_KERNEL)
        pro.jmpi(JmpOp.JNE, R0, 0, gen.epilogue)
        pro.ldx(8, R2, FP, slot)
    else:
        pro.ldx(8, R2, R1, 8)  # raw sys_enter: args[1] = syscall number
    pro.jmpi(JmpOp.JGT, R2, MAX_NR - 1, gen.epilogue)
    pro.stx(4, FP, slot, R2)
    if exit_ and gen.ctx:
        rec = gen.exit_record
        pro.sti(8, FP, rec, 0)
        pro.stx(8, FP, rec + 8, R2)  # __syscall_nr (int) and its padding
        pro.ldx(8, R1, R6, 8)
        pro.stx(8, FP, rec + 16, R1)  # ret
        pro.mov(R6, FP)
        pro.alui(AluOp.ADD, R6, rec)
    pro.ld_map(R1, gen.sys_filter)
    pro.mov(R2, FP)
    pro.alui(AluOp.ADD, R2, slot)
    pro.call(Helper.MAP_LOOKUP_ELEM)
    pro.jmpi(JmpOp.JEQ, R0, 0, gen.epilogue)
    pro.ldx(4, R1, R0, 0)
    pro.jmpi(JmpOp.JEQ, R1, 0, gen.epilogue)
    pro.alui(AluOp.SUB, R1, 1)
    pro.stx(8, FP, slot, R1)  # the probe id of this syscall's tracepoint


__all__ = [
    "EXIT_RECORD",
    "MAX_NR",
    "THRESHOLD",
    "emit_filter",
    "enter_filter",
    "kind_filter",
    "split",
    "syscall_numbers",
]
