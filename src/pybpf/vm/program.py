"""A program prepared for execution: slots decoded, checked, functions and targets found.

Both engines start from a :class:`Prepared`: ``slots[pc]`` is ``(opcode, dst, src, off,
imm)`` for the instruction starting at slot ``pc`` and None for the second half of ``lddw``.
Preparation rejects what must never run: malformed instructions (the verifier's own check),
jumps out of range or into the middle of ``lddw``, calls to nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.asm.insn import Insn, decode
from pybpf.records import dataclass, field
from pybpf.verifier.opcheck import check_insn
from pybpf.vm.errors import VMError

Slot = tuple[int, int, int, int, int]


@dataclass
class Prepared:
    """Decoded and checked instructions, by slot index."""

    slots: list[Slot | None]
    funcs: list[int] = field(default_factory=list)
    """Entry slots of the main program (0) and of every ``call local`` target, sorted."""
    spans: list[object | None] = field(default_factory=list)

    def jump_target(self, pc: int) -> int:
        """Target slot of the branch at ``pc`` (``gotol`` uses imm)."""
        op, _, _, off, imm = self.slots[pc]  # type: ignore[misc]
        return pc + 1 + (imm if op == 0x06 else off)


def prepare(program: Sequence[Insn] | bytes) -> Prepared:
    """Decode (if bytes) and check ``program``; raises :class:`VMError` on a bad one."""
    insns = decode(program) if isinstance(program, bytes | bytearray) else list(program)
    if not insns:
        raise VMError("program is empty")
    slots: list[Slot | None] = []
    spans: list[object | None] = []
    for insn in insns:
        msg = check_insn(insn, allow_callx=True)
        if msg:
            raise VMError(msg, len(slots))
        slots.append((insn.opcode, insn.dst, insn.src, insn.off, insn.imm))
        spans.append(insn.span)
        if insn.opcode == 0x18:
            slots.append(None)
            spans.append(insn.span)
    prep = Prepared(slots, spans=spans)
    funcs = {0}
    for pc, s in enumerate(slots):
        if s is None:
            continue
        op, _, src, _, imm = s
        cls = op & 0x07
        if cls in (0x05, 0x06) and op & 0xF0 not in (0x80, 0x90):
            tgt = prep.jump_target(pc)
            _check_target(slots, pc, tgt, "jump")
        elif op == 0x85 and src == 1:
            tgt = pc + 1 + imm
            _check_target(slots, pc, tgt, "call")
            funcs.add(tgt)
        elif op == 0x18 and src == 4:
            tgt = pc + 1 + pseudo_func_offset(imm)
            _check_target(slots, pc, tgt, "function address")
            funcs.add(tgt)
    prep.funcs = sorted(funcs)
    return prep


def _check_target(slots: list[Slot | None], pc: int, tgt: int, what: str) -> None:
    if not 0 <= tgt < len(slots):
        raise VMError(f"{what} out of range from insn {pc} to {tgt}", pc)
    if slots[tgt] is None:
        raise VMError(f"{what} into the middle of ldimm64 from insn {pc} to {tgt}", pc)


def pseudo_func_offset(imm: int) -> int:
    """Signed instruction offset held in the first slot of ``lddw rX, func``."""
    lo = imm & 0xFFFF_FFFF
    return lo - (1 << 32) if lo & 0x8000_0000 else lo


def func_of(prep: Prepared, pc: int) -> int:
    """Entry slot of the function containing ``pc``."""
    best = 0
    for f in prep.funcs:
        if f <= pc:
            best = f
    return best


__all__ = ["Prepared", "Slot", "func_of", "prepare", "pseudo_func_offset"]
