"""Hand-built test programs (raw Insns with label-resolved jumps) for kernel tests.

The assembler is another engineer's; these tests build bytecode directly so that the bpf
layer is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.asm import Insn

# helper ids (include/uapi/linux/bpf.h)
MAP_LOOKUP_ELEM = 1
MAP_UPDATE_ELEM = 2
GET_CURRENT_PID_TGID = 14
PERF_EVENT_OUTPUT = 25
RINGBUF_OUTPUT = 130
BPF_F_CURRENT_CPU = 0xFFFFFFFF


@dataclass(frozen=True)
class Label:
    """A jump target."""

    name: str


@dataclass(frozen=True)
class Jump:
    """A conditional/unconditional jump to a label (``op`` is the full opcode)."""

    op: int
    label: str
    dst: int = 0
    imm: int = 0


def build(items: list[Insn | Label | Jump]) -> list[Insn]:
    """Resolve labels into slot offsets."""
    pos: dict[str, int] = {}
    slot = 0
    for it in items:
        if isinstance(it, Label):
            pos[it.name] = slot
        else:
            slot += it.slots if isinstance(it, Insn) else 1
    out: list[Insn] = []
    slot = 0
    for it in items:
        if isinstance(it, Label):
            continue
        if isinstance(it, Jump):
            out.append(Insn(it.op, it.dst, 0, pos[it.label] - slot - 1, it.imm))
            slot += 1
        else:
            out.append(it)
            slot += it.slots
    return out


def mov(dst: int, imm: int) -> Insn:
    return Insn(0xB7, dst, 0, 0, imm)


def movr(dst: int, src: int) -> Insn:
    return Insn(0xBF, dst, src)


def add(dst: int, imm: int) -> Insn:
    return Insn(0x07, dst, 0, 0, imm)


def call(helper: int) -> Insn:
    return Insn(0x85, 0, 0, 0, helper)


def ld_map(dst: int, fd: int) -> Insn:
    return Insn(0x18, dst, 1, 0, fd)


def exit_() -> Insn:
    return Insn(0x95)


def stw(dst: int, off: int, src: int) -> Insn:
    """*(u32 *)(dst + off) = src"""
    return Insn(0x63, dst, src, off)


def stdw(dst: int, off: int, src: int) -> Insn:
    """*(u64 *)(dst + off) = src"""
    return Insn(0x7B, dst, src, off)


def ret0() -> list[Insn]:
    return [mov(0, 0), exit_()]


def pid_filter(tid: int) -> list[Insn | Label | Jump]:
    """r6 = tgid (the user-space pid); exit unless the current thread id is ``tid``.

    Filtering on the *thread* keeps counts exact even when another thread of the test
    process (pytest-xdist's I/O thread, say) makes the same call.
    """
    return [
        call(GET_CURRENT_PID_TGID),
        Insn(0xBC, 1, 0, 0, 0),  # w1 = w0: the thread id (low half, zero-extended)
        Insn(0x77, 0, 0, 0, 32),  # r0 >>= 32: the tgid
        movr(6, 0),
        Jump(0x55, "out", dst=1, imm=tid),  # if r1 != tid goto out
    ]


def count_by_pid(map_fd: int, tid: int | None = None) -> list[Insn]:
    """map[tgid] += 1 (u32 key, u64 value), optionally only for ``pid``."""
    head: list[Insn | Label | Jump] = (
        pid_filter(tid) if tid is not None
        else [call(GET_CURRENT_PID_TGID), Insn(0x77, 0, 0, 0, 32), movr(6, 0)]
    )  # fmt: skip
    return build([
        *head,
        stw(10, -4, 6),
        mov(1, 1),
        stdw(10, -16, 1),
        ld_map(1, map_fd),
        movr(2, 10), add(2, -4),
        call(MAP_LOOKUP_ELEM),
        Jump(0x15, "init", dst=0, imm=0),  # if r0 == 0 goto init
        mov(1, 1),
        Insn(0xDB, 0, 1, 0, 0),  # lock *(u64 *)(r0 + 0) += r1
        Jump(0x05, "out"),
        Label("init"),
        ld_map(1, map_fd),
        movr(2, 10), add(2, -4),
        movr(3, 10), add(3, -16),
        mov(4, 0),
        call(MAP_UPDATE_ELEM),
        Label("out"),
        mov(0, 0),
        exit_(),
    ])  # fmt: skip


def output_pid(map_fd: int, tid: int, ringbuf: bool) -> list[Insn]:
    """Send the 8-byte pid_tgid value to a ring buffer or perf buffer, only for ``pid``.

    Failed sends are counted into slot 0 of nothing: the reader's own counters tell.
    """
    send: list[Insn | Label | Jump]
    if ringbuf:
        send = [ld_map(1, map_fd), movr(2, 10), add(2, -8), mov(3, 8), mov(4, 0),
                call(RINGBUF_OUTPUT)]  # fmt: skip
    else:
        send = [movr(1, 7), ld_map(2, map_fd), Insn(0x18, 3, 0, 0, BPF_F_CURRENT_CPU),
                movr(4, 10), add(4, -8), mov(5, 8), call(PERF_EVENT_OUTPUT)]  # fmt: skip
    return build([
        movr(7, 1),  # keep ctx for perf_event_output
        *pid_filter(tid),
        stdw(10, -8, 6),
        *send,
        Label("out"),
        mov(0, 0),
        exit_(),
    ])  # fmt: skip


def reserve_then(map_fd: int, tid: int, discard: bool) -> list[Insn]:
    """bpf_ringbuf_reserve 8 bytes, write the tgid, then submit (or discard) the record."""
    finish = 133 if discard else 132  # bpf_ringbuf_discard / bpf_ringbuf_submit
    return build([
        *pid_filter(tid),
        ld_map(1, map_fd),
        mov(2, 8),
        mov(3, 0),
        call(131),  # bpf_ringbuf_reserve(map, 8, 0)
        Jump(0x15, "out", dst=0, imm=0),
        stdw(0, 0, 6),
        movr(1, 0),
        mov(2, 0),
        call(finish),
        Label("out"),
        mov(0, 0),
        exit_(),
    ])  # fmt: skip
