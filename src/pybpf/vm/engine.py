"""A loaded program and the run loop shared by both engines (setup, tail calls, errors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.vm.errors import VMError
from pybpf.vm.helpers import TailCall
from pybpf.vm.program import Prepared

if TYPE_CHECKING:
    from collections.abc import Callable

    from pybpf.vm.machine import Machine

ENGINES = ("interp", "compiled")


class Program:
    """A program loaded into a :class:`Machine`, ready to run on one engine."""

    def __init__(
        self, machine: Machine, prep: Prepared, consts: dict[int, int], engine: str
    ) -> None:
        if engine not in ENGINES:
            raise VMError(f"unknown engine '{engine}' (expected one of {', '.join(ENGINES)})")
        self.machine = machine
        self.prep = prep
        self.consts = consts
        self.engine = engine
        self._entry: Callable[[Program, int, int], int] | None = None

    @property
    def slots(self) -> int:
        """Program length in slots."""
        return len(self.prep.slots)

    def entry(self) -> Callable[[Program, int, int], int]:
        """The engine's ``run(program, r1, r2) -> r0`` (translated on first use)."""
        if self._entry is None:
            if self.engine == "compiled":
                from pybpf.vm.compiled import translate

                self._entry = translate(self)
            else:
                from pybpf.vm.interp import interpret

                self._entry = interpret
        return self._entry

    def run(self, mem: bytes | bytearray | None = None) -> int:
        """Run once: r1 points at ``mem`` (a bytearray is used in place), r2 is its length.

        Returns r0. Raises :class:`VMError` (with the instruction index) on any fault.
        """
        m = self.machine
        m.count = 0
        m.tail_calls = 0
        base = 0
        if mem is not None:
            buf = mem if isinstance(mem, bytearray) else bytearray(mem)
            base = m.mem.map(buf, "input")
        m.stack_bufs[0][:] = bytes(len(m.stack_bufs[0]))
        prog: Program = self
        try:
            while True:
                try:
                    return prog.entry()(prog, base, 0 if mem is None else len(mem))
                except TailCall as t:
                    target = t.target
                    assert isinstance(target, Program)
                    prog = target
        finally:
            if base:
                m.mem.unmap(base)


__all__ = ["ENGINES", "Program"]
