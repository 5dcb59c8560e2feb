"""What each program type's context looks like and which helpers it may call.

Context tables are deliberately conservative subsets of the kernel's ``*_is_valid_access``:
an access outside them is refused even where the kernel might allow it (a false reject is
acceptable; a false accept is not).
"""

from __future__ import annotations

from pybpf.records import dataclass, field
from pybpf.verifier.state import Kind

_BASE = frozenset({1, 2, 3, 5, 6, 7, 8, 12, 14, 112, 113, 114, 115, 125, 130, 131, 132, 133, 134})
_TRACING = _BASE | {4, 14, 15, 16, 45}
_CALLBACKS = frozenset({164, 181})  # bpf_for_each_map_elem, bpf_loop: every type has them


@dataclass(frozen=True)
class CtxField:
    """A context field readable (and maybe writable) at ``off`` with ``sizes``."""

    off: int
    size: int
    sizes: tuple[int, ...] = (4,)
    write: bool = False
    kind: Kind = Kind.SCALAR


@dataclass(frozen=True)
class ProgType:
    """A program type as the verifier sees it."""

    name: str
    prog_type: int
    fields: tuple[CtxField, ...] = ()
    any_read: int = 0  # readable as raw bytes up to this size (tracing contexts), 0 = use fields
    any_read_sizes: tuple[int, ...] = (1, 2, 4, 8)
    helpers: frozenset[int] = field(default=_BASE)
    packet_write: bool = False
    uninit_stack: bool = True
    """Reading never-written stack is allowed (the kernel allows it to privileged users)."""

    def ctx_access(self, off: int, size: int, write: bool) -> CtxField | None:
        """The field an access hits, or None if the access is invalid."""
        if self.any_read:
            if write or off < 0 or off + size > self.any_read or size not in self.any_read_sizes:
                return None
            if off % size:
                return None
            return CtxField(off, size, (size,))
        for f in self.fields:
            if f.off <= off and off + size <= f.off + f.size:
                if write and not f.write:
                    return None
                if size not in f.sizes or off % size:
                    return None
                if write and f.sizes == (1, 2, 4) and size != 4:
                    return None  # writes are full-width only
                if f.kind is not Kind.SCALAR and (off != f.off or write):
                    return None
                return f
        return None


def _skb(tc: bool) -> tuple[CtxField, ...]:
    # plain u32 fields allow aligned narrow reads; only tc may write a few of them
    out = [CtxField(o, 4, (1, 2, 4), write=tc and o in (8, 32, 44)) for o in range(0, 48, 4)]
    out.append(CtxField(48, 20, (1, 2, 4, 8), write=True))  # cb[5]
    out.append(CtxField(68, 4, (1, 2, 4)))  # hash
    if tc:
        out.append(CtxField(72, 4, (1, 2, 4), write=True))  # tc_classid
        out.append(CtxField(76, 4, kind=Kind.PACKET))
        out.append(CtxField(80, 4, kind=Kind.PACKET_END))
    return tuple(out)


_XDP = (
    CtxField(0, 4, kind=Kind.PACKET),
    CtxField(4, 4, kind=Kind.PACKET_END),
    CtxField(8, 4, kind=Kind.PACKET_META),
    CtxField(12, 4),
    CtxField(16, 4),
    CtxField(20, 4),
)

PROG_TYPES: dict[str, ProgType] = {
    "socket_filter": ProgType("socket_filter", 1, _skb(False), helpers=_BASE | {26} | _CALLBACKS),
    "kprobe": ProgType("kprobe", 2, any_read=168, helpers=_TRACING | _CALLBACKS),
    "sched_cls": ProgType(
        "sched_cls", 3, _skb(True), helpers=_BASE | {26, 9} | _CALLBACKS, packet_write=True
    ),
    "tracepoint": ProgType("tracepoint", 5, any_read=2048, helpers=_TRACING | _CALLBACKS),
    "xdp": ProgType("xdp", 6, _XDP, helpers=_BASE | {44, 65} | _CALLBACKS, packet_write=True),
    "perf_event": ProgType("perf_event", 7, any_read=184, helpers=_TRACING | _CALLBACKS),
    "raw_tracepoint": ProgType("raw_tracepoint", 17, any_read=96, helpers=_TRACING | _CALLBACKS),
    # the conformance suite's model: r1 is a buffer of known size, r2 its length
    "conformance": ProgType("conformance", 0, helpers=_TRACING | _CALLBACKS),
}
"""Program types by the names ``pybpf verify --type`` accepts."""

__all__ = ["PROG_TYPES", "CtxField", "ProgType"]
