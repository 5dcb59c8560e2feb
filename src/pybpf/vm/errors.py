"""Errors raised while preparing or running a program in the userspace VM."""

from __future__ import annotations

from pybpf.errors import PybpfError


class VMError(PybpfError):
    """The VM refused or stopped a program; ``pc`` is the instruction (slot) index, or -1.

    ``str()`` is one line: ``insn 7: invalid memory access ...``.
    """

    def __init__(self, message: str, pc: int = -1) -> None:
        self.message = message
        self.pc = pc
        super().__init__(f"insn {pc}: {message}" if pc >= 0 else message)


class MemoryFault(Exception):
    """An access outside every region (internal: the engines turn it into a VMError)."""


class LimitExceeded(Exception):
    """The instruction budget ran out (internal: turned into a VMError)."""


__all__ = ["LimitExceeded", "MemoryFault", "VMError"]
