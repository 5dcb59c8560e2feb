"""The intermediate form libpcap's code generator builds: basic blocks of statements ending
in one conditional branch, glued with ``and``/``or``/``not`` by back-patching.

The unresolved exits of a partial program form a chain threaded through the very edge
fields that will later hold the targets; ``sense`` says which edge of each block is on the
"true" chain. Keeping this exact shape is what makes our unoptimised listings come out
instruction for instruction like libpcap's.
"""

from __future__ import annotations

from pybpf.cbpf import insn as I
from pybpf.records import dataclass, field


@dataclass(eq=False, slots=True)
class Stmt:
    """One non-branch statement (or NOP, code -1, left by the optimiser)."""

    code: int
    k: int = 0


NOP = -1


@dataclass(eq=False)
class Block:
    """A basic block: statements, then the branch ``code``/``k`` (or a ``ret``)."""

    code: int
    k: int = 0
    stmts: list[Stmt] = field(default_factory=list)
    jt: Block | None = None
    jf: Block | None = None
    sense: bool = False
    head: Block | None = None
    # Used by the optimiser and by the emitter.
    id: int = 0
    offset: int = 0
    longjt: int = 0
    longjf: int = 0
    mark: int = 0
    # Optimiser state (pybpf.cbpf.optimize._Info), kept on the block for speed.
    opt: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.head is None:
            self.head = self

    @property
    def is_ret(self) -> bool:
        """True for a ``ret`` leaf."""
        return I.bpf_class(self.code) == I.RET


def new_block(code: int, k: int = 0, stmts: list[Stmt] | None = None) -> Block:
    """A fresh block with its own chain (``head`` is itself)."""
    return Block(code, k & I.U32, stmts if stmts is not None else [])


def backpatch(lst: Block | None, target: Block) -> None:
    """Point every exit on the chain ``lst`` at ``target``."""
    while lst is not None:
        if not lst.sense:
            nxt, lst.jt = lst.jt, target
        else:
            nxt, lst.jf = lst.jf, target
        lst = nxt


def merge(b0: Block, b1: Block) -> None:
    """Append chain ``b1`` to the end of chain ``b0``."""
    p = b0
    while True:
        nxt = p.jf if p.sense else p.jt
        if nxt is None:
            break
        p = nxt
    if p.sense:
        p.jf = b1
    else:
        p.jt = b1


def gen_and(b0: Block, b1: Block) -> None:
    """``b0 and b1``; the result is ``b1`` (whose head becomes ``b0``'s)."""
    assert b1.head is not None
    backpatch(b0, b1.head)
    b0.sense = not b0.sense
    b1.sense = not b1.sense
    merge(b1, b0)
    b1.sense = not b1.sense
    b1.head = b0.head


def gen_or(b0: Block, b1: Block) -> None:
    """``b0 or b1``; the result is ``b1``."""
    assert b1.head is not None
    b0.sense = not b0.sense
    backpatch(b0, b1.head)
    b0.sense = not b0.sense
    merge(b1, b0)
    b1.head = b0.head


def gen_not(b: Block) -> None:
    """Negate ``b`` by swapping its true and false chains."""
    b.sense = not b.sense
