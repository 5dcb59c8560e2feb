"""Abstract machine state: register types, stack slots, call frames, references."""

from __future__ import annotations

from enum import Enum

from pybpf.records import dataclass, field, replace
from pybpf.verifier import scalar as sc
from pybpf.verifier.scalar import Scalar


class Kind(Enum):
    """What a register holds; the value is the kernel's name for it in messages."""

    NOT_INIT = "?"
    SCALAR = "scalar"
    CTX = "ctx"
    STACK = "fp"
    MAP_PTR = "map_ptr"
    MAP_VALUE = "map_value"
    MAP_VALUE_OR_NULL = "map_value_or_null"
    PACKET = "pkt"
    PACKET_END = "pkt_end"
    PACKET_META = "pkt_meta"
    MEM = "mem"
    MEM_OR_NULL = "ringbuf_mem_or_null"
    FUNC = "func"
    MAP_KEY = "map_key"


NULLABLE = {Kind.MAP_VALUE_OR_NULL: Kind.MAP_VALUE, Kind.MEM_OR_NULL: Kind.MEM}


@dataclass(frozen=True)
class MapInfo:
    """What the verifier knows of a map referenced by ``lddw``."""

    map_type: int
    key_size: int
    value_size: int
    max_entries: int


@dataclass(frozen=True, slots=True)
class Reg:
    """One register: ``kind``, a fixed offset ``off`` and a variable part ``var`` (pointers)
    or the value (``var`` for scalars); ``id`` links copies for null checks and packet range,
    ``size`` is the memory size (MEM), ``rng`` the verified packet range."""

    kind: Kind = Kind.NOT_INIT
    off: int = 0
    var: Scalar = sc.ZERO
    map: MapInfo | None = None
    id: int = 0
    size: int = 0
    rng: int = 0
    frame: int = 0  # which call frame a stack pointer belongs to

    @property
    def is_ptr(self) -> bool:
        """Any pointer kind."""
        return self.kind not in (Kind.NOT_INIT, Kind.SCALAR)

    def describe(self) -> str:
        """Kernel-like type text (``fp-8``, ``map_value(off=0,ks=4,vs=8)``, ``scalar``)."""
        if self.kind is Kind.SCALAR:
            return str(self.var) if self.var.is_const else "scalar"
        if self.kind is Kind.STACK:
            return f"fp{self.off:+d}" if self.off else "fp0"
        return str(self.kind.value)

    def subsumes(self, o: Reg) -> bool:
        """Every concrete value of ``o`` is allowed by ``self`` (pruning check)."""
        if self.kind is Kind.NOT_INIT:
            return True
        if self.kind is not o.kind:
            return False
        if self.kind is Kind.SCALAR:
            return self.var.contains(o.var)
        return (
            self.off == o.off
            and self.var.contains(o.var)
            and self.map == o.map
            and self.size == o.size
            and self.rng <= o.rng
            and self.frame == o.frame
            and (self.id == 0) == (o.id == 0)
        )


NOT_INIT = Reg()
UNKNOWN_SCALAR = Reg(Kind.SCALAR, var=sc.UNKNOWN)


def scalar(v: Scalar) -> Reg:
    """A scalar register holding ``v``."""
    return Reg(Kind.SCALAR, var=v)


# stack byte states
INVALID, MISC, ZERO, SPILL = 0, 1, 2, 3


@dataclass
class Frame:
    """One call frame: registers, stack bytes (index 0 is fp-512), spilled registers."""

    regs: list[Reg]
    stack: list[int] = field(default_factory=lambda: [INVALID] * 512)
    spills: dict[int, Reg] = field(default_factory=dict)  # slot start (0..504) -> reg
    ret_pc: int = -1
    entry: int = 0
    callback: int = 0
    """The helper that called this frame as a callback (0 for a plain call)."""

    def copy(self) -> Frame:
        """An independent copy."""
        return Frame(
            list(self.regs),
            list(self.stack),
            dict(self.spills),
            self.ret_pc,
            self.entry,
            self.callback,
        )

    def subsumes(self, o: Frame) -> bool:
        """Pruning check for one frame (identical parts are compared at C speed first)."""
        if self.ret_pc != o.ret_pc:
            return False
        for a, b in zip(self.regs, o.regs, strict=True):
            if a is not b and a != b and not a.subsumes(b):
                return False
        if self.stack != o.stack:
            for s, t in zip(self.stack, o.stack, strict=True):
                if s == t or s == INVALID or (s == MISC and t in (ZERO, SPILL)):
                    continue
                return False
        if self.spills != o.spills:
            for slot, r in self.spills.items():
                other = o.spills.get(slot)
                if other is None or not r.subsumes(other):
                    return False
        return True


@dataclass
class State:
    """The whole abstract state at one instruction."""

    frames: list[Frame]
    refs: dict[int, int] = field(default_factory=dict)  # acquired ref id -> alloc insn

    @property
    def cur(self) -> Frame:
        """The innermost frame."""
        return self.frames[-1]

    def copy(self) -> State:
        """An independent copy."""
        return State([f.copy() for f in self.frames], dict(self.refs))

    def key(self) -> tuple[object, ...]:
        """A hashable exact form (equal keys: equal states), for loop detection."""
        return (
            tuple(
                (tuple(f.regs), bytes(f.stack), frozenset(f.spills.items()), f.ret_pc)
                for f in self.frames
            ),
            frozenset(self.refs),
        )

    def subsumes(self, o: State) -> bool:
        """Everything ``o`` can do, ``self`` was checked to do safely."""
        if len(self.frames) != len(o.frames) or self.refs.keys() != o.refs.keys():
            return False
        return all(a.subsumes(b) for a, b in zip(self.frames, o.frames, strict=True))

    def all_regs(self) -> list[tuple[Frame, int | None, int | None, Reg]]:
        """(frame, reg index or None, spill slot or None, reg) for every register and spill."""
        out: list[tuple[Frame, int | None, int | None, Reg]] = []
        for f in self.frames:
            out += [(f, i, None, r) for i, r in enumerate(f.regs)]
            out += [(f, None, s, r) for s, r in f.spills.items()]
        return out

    def replace_id(self, rid: int, fn: object) -> None:
        """Apply ``fn(reg) -> reg`` to every register and spill sharing id ``rid``."""
        assert callable(fn)
        for f, i, s, r in self.all_regs():
            if rid and r.id == rid:
                new = fn(r)
                if i is not None:
                    f.regs[i] = new
                elif s is not None:
                    f.spills[s] = new


__all__ = [
    "INVALID",
    "MISC",
    "NOT_INIT",
    "NULLABLE",
    "SPILL",
    "UNKNOWN_SCALAR",
    "ZERO",
    "Frame",
    "Kind",
    "MapInfo",
    "Reg",
    "State",
    "replace",
    "scalar",
]
