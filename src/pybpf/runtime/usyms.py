"""User-space symbols for ``usym``/``func`` values: (address, pid) -> name.

Symbolizers are kept per pid (a process's memory map is snapshotted while it runs, see
:class:`pybpf.procs.ProcessWatch`), so names still resolve after the process has exited.
"""

from __future__ import annotations

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


SYMBOLIZERS: dict[int, Any] = {}
"""pid -> :class:`~pybpf.elf.symbolize.Symbolizer` (shared by the stacks and ``usym``)."""


NAMES: list[str] = []
"""The running script's strings: a ``usym`` address with bit 63 set is an index here (the
probed function's name, fixed when compiling; see ``codegen.userprobes.FUNC_NAME_TAG``)."""

_TAG = 1 << 63


def symbolizer(pid: int, cache: dict[int, Any] | None = None) -> Any:
    """The (cached) symbolizer of ``pid``; None when its memory map is unreadable."""
    c = SYMBOLIZERS if cache is None else cache
    sym = c.get(pid)
    if sym is None:
        from pybpf.elf.reader import ElfError
        from pybpf.elf.symbolize import Symbolizer

        try:
            sym = c[pid] = Symbolizer(pid)
        except ElfError:
            return None
    return sym


def usym(addr: int, pid: int) -> str:
    """bpftrace's text of a ``usym``: the symbol name, else the address in hex."""
    if addr & _TAG:
        i = addr & ~_TAG
        return NAMES[i] if i < len(NAMES) else f"0x{addr:x}"
    sym = symbolizer(pid)
    hit = sym.symbolize(addr) if sym is not None else None
    if hit is None or hit.symbol is None:
        return f"0x{addr:x}"
    return str(hit.symbol)


__all__ = ["NAMES", "SYMBOLIZERS", "symbolizer", "usym"]
