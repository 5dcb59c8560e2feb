"""No traceback, ever: arbitrary bytecode gives a result or a VMError/verdict."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf.asm import Insn
from pybpf.verifier import verify
from pybpf.vm import Machine, VMError

# mostly valid opcodes so that programs get past the structural checks and run
OPCODES = sorted(
    {0x07, 0x0F, 0x04, 0x0C, 0x17, 0x1F, 0x27, 0x2F, 0x37, 0x3F, 0x47, 0x57, 0x67, 0x6F, 0x77,
     0x87, 0x97, 0x9F, 0xA7, 0xB7, 0xBF, 0xC7, 0xCF, 0xD4, 0xDC, 0xD7, 0x05, 0x06, 0x15, 0x1D,
     0x25, 0x2D, 0x55, 0x5D, 0x65, 0xA5, 0x16, 0x1E, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x62,
     0x6A, 0x72, 0x7A, 0x63, 0x6B, 0x73, 0x7B, 0xC3, 0xDB, 0x85, 0x8D, 0x95, 0x18, 0x00, 0xFF}
)  # fmt: skip

insns = st.builds(
    Insn,
    st.sampled_from(OPCODES),
    st.integers(0, 11),
    st.integers(0, 11),
    st.integers(-8, 8),
    st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, 1, 5, 16, 32, 64, 0xE1, 0xF1])),
)
programs = st.lists(insns, min_size=1, max_size=14).map(lambda p: [*p, Insn(0x95)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.binary(max_size=16))
def test_vm_never_raises_anything_else(prog: list[Insn], mem: bytes) -> None:
    results = []
    for engine in ("interp", "compiled"):
        try:
            results.append(Machine(insn_limit=5000).load(prog, engine).run(mem))
        except VMError as e:
            results.append(("error", e.pc))
    if all(isinstance(r, int) for r in results):
        assert results[0] == results[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.sampled_from(["socket_filter", "xdp", "tracepoint", "conformance"]))
def test_verifier_never_raises(prog: list[Insn], ptype: str) -> None:
    v = verify(prog, ptype, mem_size=8)
    assert v.ok or (v.error is not None and v.error.message)


@st.composite
def _valid_insn(draw: st.DrawFn) -> Insn:
    kind = draw(st.sampled_from(["alu", "alu", "mov", "ldx", "st", "stx", "jmp", "call", "ptr"]))
    r = st.integers(0, 9)
    small = st.integers(-20, 20)
    if kind == "alu":
        cls = draw(st.sampled_from([0x07, 0x04]))
        code = draw(st.sampled_from([0x00, 0x10, 0x20, 0x40, 0x50, 0xA0, 0x30, 0x90]))
        if draw(st.booleans()):
            return Insn(cls | code | 0x08, draw(r), draw(r))
        return Insn(cls | code, draw(r), 0, 0, draw(small) or 1)
    if kind == "mov":
        return Insn(0xB7, draw(r), 0, 0, draw(small))
    if kind == "ptr":
        return Insn(0xBF, draw(r), draw(st.sampled_from([1, 10])))
    size = draw(st.sampled_from([0x00, 0x08, 0x10, 0x18]))
    base = draw(st.sampled_from([1, 10, 0, 2, 3]))
    off = draw(st.one_of(small, st.sampled_from([-512, -520, -8, 8, 16])))
    if kind == "ldx":
        return Insn(0x61 | size, draw(r), base, off)
    if kind == "st":
        return Insn(0x62 | size, base, 0, off, draw(small))
    if kind == "stx":
        return Insn(0x63 | size, base, draw(r), off)
    if kind == "call":
        return Insn(0x85, 0, 0, 0, draw(st.sampled_from([5, 7, 8])))
    code = draw(st.sampled_from([0x10, 0x20, 0x50, 0xA0, 0x60, 0xC0]))
    return Insn(0x05 | code, draw(r), 0, draw(st.integers(0, 3)), draw(small))


def _fix(prog: list[Insn]) -> list[Insn]:
    n = len(prog)
    out = [i if not i.is_branch else Insn(i.opcode, i.dst, 0, min(i.off, n - k), i.imm)
           for k, i in enumerate(prog, 1)]  # fmt: skip
    return [Insn(0xB7, 0, 0, 0, 0), *out, Insn(0x95)]


valid_programs = st.lists(_valid_insn(), min_size=1, max_size=12).map(_fix)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_programs, st.binary(min_size=1, max_size=24))
def test_verified_wellformed_programs_never_fault(prog: list[Insn], mem: bytes) -> None:
    if not verify(prog, "conformance", mem_size=len(mem)).ok:
        return
    for engine in ("interp", "compiled"):
        Machine(insn_limit=200_000).load(prog, engine).run(mem)


def _loop(args: tuple[list[Insn], list[Insn], int, int]) -> list[Insn]:
    pre, body, iters, cond = args
    body = [i for i in body if i.dst != 9 and not i.is_branch]
    pre = [i if not i.is_branch else Insn(i.opcode, i.dst, 0, 0, i.imm) for i in pre]
    nb = sum(i.slots for i in body)
    counted = [
        Insn(0xB7, 9, 0, 0, iters),
        *body,
        Insn(0x17, 9, 0, 0, 1),
        Insn(cond, 9, 0, -(nb + 2)),
    ]
    return [Insn(0xB7, 0, 0, 0, 0), *pre, *counted, Insn(0x95)]


loop_programs = st.tuples(
    st.lists(_valid_insn(), max_size=6),
    st.lists(_valid_insn(), min_size=1, max_size=8),
    st.integers(1, 40),
    st.sampled_from([0x55, 0x65, 0x25]),  # jne / jsgt / jgt r9, 0: back to the body
).map(_loop)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loop_programs, st.binary(min_size=1, max_size=24))
def test_verified_loops_end_and_never_fault(prog: list[Insn], mem: bytes) -> None:
    # accepted loops must also end: the instruction budget is never reached
    if not verify(prog, "conformance", mem_size=len(mem)).ok:
        return
    for engine in ("interp", "compiled"):
        Machine(insn_limit=2_000_000).load(prog, engine).run(mem)
