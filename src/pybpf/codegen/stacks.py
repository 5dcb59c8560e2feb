# mypy: disable-error-code="no-any-return"
"""``kstack`` / ``ustack``: stack ids from ``bpf_get_stackid`` into a stack-trace map.

A kernel stack is stored as its u64 stack id; a user stack as (id, pid) so that user space
can symbolise it against the right process. The stack-trace maps are sized like the script
maps (not bpftrace's 131,072 preallocated entries, 136 MB of locked memory).
"""

from __future__ import annotations

from typing import Any

from pybpf.asm.opcodes import AluOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, R6
from pybpf.codegen.frame import Val
from pybpf.codegen.helpers import Helper
from pybpf.passes.types import StackType, Type

Gen = Any
USER_STACK = 1 << 8
"""``BPF_F_USER_STACK``."""
MAX_FRAMES = 127


def stack_map_name(user: bool, limit: int = MAX_FRAMES) -> str:
    """The stack-trace map for kernel or user stacks of at most ``limit`` frames.

    A limited stack has its own map whose values hold ``limit`` frames: the kernel then
    hashes only those, so stacks that differ deeper down share one id, one map key, as in
    bpftrace (which prints ``@[kstack(3)]`` keys once per distinct 3-frame stack).
    """
    base = "ustacks" if user else "kstacks"
    return base if limit >= MAX_FRAMES else f"{base}_{limit}"


class StackGen:
    """Mixin of :class:`ProbeGen`: stacks."""

    def stack_value(self: Gen, t: Type, user: bool) -> Val:
        """The stack id (and pid for user stacks) of the current context."""
        st = t if isinstance(t, StackType) else StackType(user)
        name = self.script.stack_map(user, st.limit)
        self.frame.before_call()
        self.em.mov(R1, R6)
        self.em.ld_map(R2, name)
        self.em.movi(R3, USER_STACK if user else 0)
        self.frame.call(Helper.GET_STACKID)
        if not user:
            return self.frame.result_r0(st)
        dst = self.alloc_mem(st)
        dst.type = st
        self.em.stx(8, FP, dst.off, R0)
        self.frame.call(Helper.GET_CURRENT_PID_TGID)
        self.em.alui(AluOp.RSH, R0, 32)
        self.em.stx(8, FP, dst.off + 8, R0)
        return dst


__all__ = ["MAX_FRAMES", "USER_STACK", "StackGen", "stack_map_name"]
