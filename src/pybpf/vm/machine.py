"""The VM's world: memory, maps, helper environment, and loaded programs.

A :class:`Machine` owns one address space. Maps are created in it, programs are loaded
into it (their ``lddw`` map references resolved against its maps), and every run of a
program in it shares those maps, as programs in one kernel do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pybpf.asm.insn import Insn
from pybpf.records import dataclass, field
from pybpf.vm.errors import VMError
from pybpf.vm.helpers import HELPERS, Helper
from pybpf.vm.maps import ArrayMap, VMMap, create_map
from pybpf.vm.memory import Memory
from pybpf.vm.program import Prepared, prepare, pseudo_func_offset
from pybpf.vm.semantics import M64

if TYPE_CHECKING:
    from pybpf.vm.engine import Program

STACK_SIZE = 512
MAX_FRAMES = 8
DEFAULT_LIMIT = 10_000_000
MAP_TAG = 0xFFFF_8000_0000_0000
"""Map "pointers" live far above every region, one per fd: they are handles, not memory."""
FUNC_TAG = 0xFFFF_C000_0000_0000
"""``lddw rX, func`` values: the tag or'ed with the function's entry slot."""


@dataclass
class Env:
    """Values the context helpers return; inject your own for tests."""

    pid: int = 4242
    tgid: int = 4242
    uid: int = 0
    gid: int = 0
    comm: str = "pybpf-vm"
    cpu: int = 0
    ncpus: int = 1
    clock: Callable[[], int] = field(default=time.monotonic_ns)
    seed: int = 0


class Machine:
    """One address space with its maps; load programs into it and run them."""

    def __init__(self, env: Env | None = None, insn_limit: int = DEFAULT_LIMIT) -> None:
        self.env = env or Env()
        self.mem = Memory()
        self.maps: dict[int, VMMap] = {}
        self.helpers: dict[int, Helper] = dict(HELPERS)
        self.trace: list[str] = []
        self.rng = random.Random(self.env.seed)
        self.insn_limit = insn_limit
        self.tail_calls = 0
        self.count = 0
        """Instructions executed by the latest run (tail calls included)."""
        self.stack_bufs = [bytearray(STACK_SIZE) for _ in range(MAX_FRAMES)]
        self.stack_tops = [self.mem.map(b, "stack") + STACK_SIZE for b in self.stack_bufs]
        self._next_fd = 3

    # -- maps -----------------------------------------------------------------------------
    def create_map(
        self,
        map_type: int,
        key_size: int,
        value_size: int,
        max_entries: int,
        fd: int | None = None,
    ) -> int:
        """Create a map and return its fd (the number ``lddw rX, map_fd`` refers to)."""
        if fd is None:
            fd = self._next_fd
        self._next_fd = max(self._next_fd, fd + 1)
        self.maps[fd] = create_map(
            self.mem, map_type, key_size, value_size, max_entries, self.env.ncpus
        )
        return fd

    def map_at(self, addr: int) -> VMMap | None:
        """The map whose handle is ``addr``, or None."""
        if addr & ~0xFFFF_FFFF != MAP_TAG:
            return None
        return self.maps.get(addr & 0xFFFF_FFFF)

    def _resolve_lddw(self, pc: int, src: int, imm: int) -> int:
        if src == 0:
            return imm & M64
        if src == 4:
            return FUNC_TAG | (pc + 1 + pseudo_func_offset(imm))
        fd = imm & 0xFFFF_FFFF
        mp = self.maps.get(fd)
        if mp is None:
            raise VMError(f"fd {fd} is not pointing to valid bpf_map", pc)
        if src in (1, 5):
            return MAP_TAG | fd
        if src in (2, 6):
            off = imm >> 32
            if not isinstance(mp, ArrayMap) or mp.percpu or mp.max_entries < 1:
                raise VMError("direct value access needs a plain array map", pc)
            if off >= mp.value_size:
                raise VMError(
                    f"invalid access to map value pointer, value_size={mp.value_size} off={off}", pc
                )
            return mp.values[0][0][0] + off
        raise VMError(f"unsupported ldimm64 pseudo source {src}", pc)

    # -- programs -------------------------------------------------------------------------
    def load(self, program: Sequence[Insn] | bytes, engine: str = "interp") -> Program:
        """Check and prepare ``program`` for ``engine`` (``interp`` or ``compiled``)."""
        from pybpf.vm.engine import Program

        prep = prepare(program)
        consts: dict[int, int] = {}
        for pc, s in enumerate(prep.slots):
            if s is not None and s[0] == 0x18:
                consts[pc] = self._resolve_lddw(pc, s[2], s[4])
        return Program(self, prep, consts, engine)


def run(
    program: Sequence[Insn] | bytes,
    mem: bytes | bytearray | None = None,
    engine: str = "interp",
    insn_limit: int = DEFAULT_LIMIT,
) -> int:
    """Run ``program`` once in a fresh machine; r1 points at ``mem`` and r2 is its length."""
    m = Machine(insn_limit=insn_limit)
    return m.load(program, engine).run(mem)


__all__ = [
    "DEFAULT_LIMIT",
    "FUNC_TAG",
    "MAP_TAG",
    "MAX_FRAMES",
    "STACK_SIZE",
    "Env",
    "Machine",
    "Prepared",
    "run",
]
