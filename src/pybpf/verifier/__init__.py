"""The static verifier: checks bytecode the way the kernel does, without a kernel.

``verify(insns, prog_type, maps=...)`` returns a :class:`Verdict`; ``check(...)`` raises
:class:`VerifyError` instead. Each rejection names the instruction index and carries that
instruction's ``span`` (whatever its producer put there), so a front end can point at the
source line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pybpf.asm.insn import Insn
from pybpf.errors import VerifierError
from pybpf.verifier.check import Issue, Verdict, Verifier
from pybpf.verifier.progtypes import PROG_TYPES, ProgType
from pybpf.verifier.state import MapInfo


class VerifyError(VerifierError):
    """Our verifier rejected a program: ``pc``, ``span`` and the kernel-style message."""

    def __init__(self, issue: Issue, log: str = "") -> None:
        super().__init__(f"insn {issue.pc}: {issue.message}", log)
        self.issue = issue
        self.pc = issue.pc
        self.span = issue.span


def verify(
    insns: Sequence[Insn],
    prog_type: str | ProgType = "socket_filter",
    maps: Mapping[int, MapInfo] | None = None,
    *,
    mem_size: int = 0,
    allow_loops: bool = True,
    privileged: bool = True,
) -> Verdict:
    """Verify ``insns`` as a program of ``prog_type``; ``maps`` maps fds to their shapes.

    ``privileged`` models a root loader (the kernel then allows reading uninitialised
    stack); ``allow_loops=False`` rejects every back-edge.
    """
    if isinstance(prog_type, str) and prog_type not in PROG_TYPES:
        raise VerifierError(
            f"unknown program type '{prog_type}' (known: {', '.join(sorted(PROG_TYPES))})"
        )
    return Verifier(
        list(insns), prog_type, maps, mem_size, allow_loops, privileged=privileged
    ).run()


def check(
    insns: Sequence[Insn],
    prog_type: str | ProgType = "socket_filter",
    maps: Mapping[int, MapInfo] | None = None,
    **kw: int | bool,
) -> Verdict:
    """Like :func:`verify` but raise :class:`VerifyError` on rejection."""
    v = verify(insns, prog_type, maps, **kw)  # type: ignore[arg-type]
    if v.error is not None:
        raise VerifyError(v.error, "\n".join(v.log))
    return v


__all__ = ["PROG_TYPES", "Issue", "MapInfo", "Verdict", "VerifyError", "check", "verify"]
