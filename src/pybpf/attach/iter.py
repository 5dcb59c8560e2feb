"""BPF iterators (``iter/task`` and friends): a ``TRACING`` program linked with
``BPF_TRACE_ITER``; every ``BPF_ITER_CREATE`` fd read to EOF runs it over the objects."""

from __future__ import annotations

import struct
from collections.abc import Sequence

from pybpf.asm.insn import Insn
from pybpf.attach.btfids import KIND_FUNC, vmlinux_type_id
from pybpf.bpf.link import Link, iter_create, link_create, read_all
from pybpf.bpf.prog import Program, ProgSpec
from pybpf.bpf.syscall import AttachType, ProgType
from pybpf.errors import UsageError


class IterLink(Link):
    """An iterator link; :meth:`read` runs one pass and returns what the program wrote."""

    def read(self) -> bytes:
        """Create an iterator instance, read it to EOF, close it."""
        with iter_create(self.fd) as fd:
            return read_all(fd)

    def read_text(self) -> str:
        """:meth:`read` decoded as UTF-8."""
        return self.read().decode(errors="replace")


def iter_spec(target: str, insns: Sequence[Insn], **kw: object) -> ProgSpec:
    """A program spec for iterator ``target`` (``task``, ``bpf_map``, ``tcp`` ...)."""
    tid = vmlinux_type_id(f"bpf_iter_{target}", KIND_FUNC)
    if tid is None:
        raise UsageError(f"iterator {target}: no bpf_iter_{target} in kernel BTF")
    return ProgSpec(
        ProgType.TRACING, tuple(insns), expected_attach_type=AttachType.TRACE_ITER,
        attach_btf_id=tid, label=f"iter:{target}", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def attach_iter(prog: Program) -> IterLink:
    """Link an iterator program (no target parameters: iterate everything)."""
    lfd = link_create(prog.fd, 0, AttachType.TRACE_ITER, tail=struct.pack("<QI", 0, 0),
                      context=f"attach {prog.spec.describe()}")  # fmt: skip
    return IterLink(lfd, prog.spec.describe())


__all__ = ["IterLink", "attach_iter", "iter_spec"]
