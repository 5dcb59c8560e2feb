"""Hypothesis strategies for random eBPF programs the kernel verifier accepts.

Programs touch only r0-r9 and the stack (fully initialised first), jump only forward
except for one counted loop, and end by folding every register into r0, so any difference
in any operation shows up in the result. Shared by the engine-vs-engine and VM-vs-kernel
tests.
"""

from __future__ import annotations

from hypothesis import strategies as st

from pybpf.asm import Insn

ALU_CODES = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0]
JMP_CODES = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xA0, 0xB0, 0xC0, 0xD0]
SLOTS = 8  # stack slots fp-8 .. fp-64 in use

imm32 = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([0, 1, -1, 2, 31, 32, 63, 64, -(2**31), 2**31 - 1, 0x7F, 0x80, 0xFFFF]),
)
imm64 = st.one_of(
    st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 2**63, 2**64 - 1, 2**32, 2**31])
)


def _alu_insn(draw: st.DrawFn, regs: int) -> list[Insn]:
    is64 = draw(st.booleans())
    cls = 0x07 if is64 else 0x04
    code = draw(st.sampled_from([*ALU_CODES, 0xD0]))
    dst = draw(st.integers(0, regs - 1))
    src = draw(st.integers(0, regs - 1))
    if code == 0xD0:
        bits = draw(st.sampled_from([16, 32, 64]))
        x = 0 if is64 else draw(st.sampled_from([0, 8]))
        return [Insn(cls | 0xD0 | x, dst, 0, 0, bits)]
    if code == 0x80:
        return [Insn(cls | 0x80, dst)]
    use_x = draw(st.booleans())
    off = 0
    if code in (0x30, 0x90):
        off = draw(st.sampled_from([0, 1]))
    if code == 0xB0 and use_x:
        off = draw(st.sampled_from([0, 8, 16, 32] if is64 else [0, 8, 16]))
    if use_x:
        return [Insn(cls | code | 0x08, dst, src, off, 0)]
    imm = draw(imm32)
    # the kernel refuses constant division by zero and out-of-range constant shifts
    if code in (0x30, 0x90) and imm == 0:
        imm = 7
    if code in (0x60, 0x70, 0xC0):
        imm &= 63 if is64 else 31
    return [Insn(cls | code, dst, 0, off, imm)]


def _mem_insn(draw: st.DrawFn, regs: int) -> list[Insn]:
    size_code, nbytes = draw(st.sampled_from([(0x18, 8), (0x00, 4), (0x08, 2), (0x10, 1)]))
    slot = draw(st.integers(1, SLOTS))
    off = -8 * slot + draw(st.integers(0, 8 // nbytes - 1)) * nbytes
    reg = draw(st.integers(0, regs - 1))
    kind = draw(st.sampled_from(["ldx", "ldxs", "st", "stx", "atomic"]))
    if kind == "ldx":
        return [Insn(0x61 | size_code, reg, 10, off)]
    if kind == "ldxs" and nbytes != 8:
        return [Insn(0x81 | size_code, reg, 10, off)]
    if kind == "st":
        return [Insn(0x62 | size_code, 10, 0, off, draw(imm32))]
    if kind == "atomic" and nbytes in (4, 8):
        aop = draw(st.sampled_from([0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xA0, 0xA1, 0xE1, 0xF1]))
        return [Insn(0xC3 | size_code, 10, reg, off, aop)]
    return [Insn(0x63 | size_code, 10, reg, off)]


def _jmp_insn(draw: st.DrawFn, regs: int, skip: int) -> Insn:
    is32 = draw(st.booleans())
    code = draw(st.sampled_from(JMP_CODES))
    dst = draw(st.integers(0, regs - 1))
    if draw(st.booleans()):
        return Insn(
            (0x06 if is32 else 0x05) | code | 0x08, dst, draw(st.integers(0, regs - 1)), skip
        )
    return Insn((0x06 if is32 else 0x05) | code, dst, 0, skip, draw(imm32))


def _prologue(draw: st.DrawFn) -> list[Insn]:
    out = [Insn(0x18, r, 0, 0, draw(imm64)) for r in range(10)]
    out += [Insn(0x7B, 10, s % 10, -8 * s) for s in range(1, SLOTS + 1)]
    return out


def _epilogue() -> list[Insn]:
    # r0 = xor of everything, then fold the high half in (the kernel returns 32 bits)
    out = [Insn(0xAF, 0, r) for r in range(1, 10)]
    out += [Insn(0x79, 1, 10, -8 * s) for s in range(1, SLOTS + 1) for _ in [0]][:1]
    out += [Insn(0xAF, 0, 1), Insn(0xBF, 1, 0), Insn(0x77, 1, 0, 0, 32), Insn(0xAF, 0, 1)]
    return [*out, Insn(0x95)]


def _body(draw: st.DrawFn, regs: int, n: int) -> list[Insn]:
    body: list[Insn] = []
    for _ in range(n):
        kind = draw(st.sampled_from(["alu", "alu", "alu", "mem", "jmp"]))
        if kind == "alu":
            body += _alu_insn(draw, regs)
        elif kind == "mem":
            body += _mem_insn(draw, regs)
        else:
            body.append(Insn(0x95))  # placeholder: a forward jump fixed up below
    # forward jumps skip 0..3 of the following instructions (never past the body's end)
    out: list[Insn] = []
    for i, insn in enumerate(body):
        if insn.opcode == 0x95:
            room = sum(x.slots for x in body[i + 1 :])
            out.append(_jmp_insn(draw, regs, draw(st.integers(0, min(3, room)))))
        else:
            out.append(insn)
    return _fix_skips(out)


def _fix_skips(insns: list[Insn]) -> list[Insn]:
    # a skip counted in instructions must not land inside an lddw: recount in slots
    out = []
    for i, insn in enumerate(insns):
        if insn.is_branch and insn.off > 0:
            slots = sum(x.slots for x in insns[i + 1 : i + 1 + insn.off])
            insn = Insn(insn.opcode, insn.dst, insn.src, slots, insn.imm)
        out.append(insn)
    return out


@st.composite
def straight_programs(draw: st.DrawFn, max_len: int = 30) -> list[Insn]:
    """Initialised registers and stack, random ALU/memory/forward-jump body, fold, exit."""
    n = draw(st.integers(1, max_len))
    return [*_prologue(draw), *_body(draw, 10, n), *_epilogue()]


@st.composite
def loop_programs(draw: st.DrawFn, max_len: int = 12, max_iters: int = 20) -> list[Insn]:
    """A straight prologue, then a body repeated r9 times (r9 = 1..max_iters)."""
    iters = draw(st.integers(1, max_iters))
    body = _body(draw, 9, draw(st.integers(1, max_len)))
    nslots = sum(i.slots for i in body)
    loop = [
        *body,
        Insn(0x17, 9, 0, 0, 1),  # r9 -= 1
        Insn(0x55, 9, 0, -(nslots + 2), 0),  # if r9 != 0 goto body
    ]
    return [*_prologue(draw), Insn(0xB7, 9, 0, 0, iters), *loop, *_epilogue()]


__all__ = ["loop_programs", "straight_programs"]
