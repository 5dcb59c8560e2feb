"""Broken programs as data: each gets the exact kernel-style message at the exact insn."""

from __future__ import annotations

import pytest

from pybpf.asm import Insn, assemble
from pybpf.asm.builder import SourcePos
from pybpf.verifier import MapInfo, VerifyError, check, verify

MAPS = {3: MapInfo(1, 4, 16, 8), 4: MapInfo(2, 4, 8, 2), 5: MapInfo(27, 0, 0, 4096)}
LOOKUP = "stw [%r10-4], 1\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_fd(3)\ncall 1\n"

CASES = [
    # (name, program, prog type, pc, message)
    ("uninit r0", "exit", "socket_filter", 0, "R0 !read_ok"),
    ("uninit src", "mov %r0, %r3\nexit", "socket_filter", 0, "R3 !read_ok"),
    (
        "scalar deref",
        "mov %r0, 1\nldxdw %r0, [%r0+0]\nexit",
        "socket_filter",
        1,
        "R0 invalid mem access 'scalar'",
    ),
    (
        "unchecked lookup",
        LOOKUP + "ldxdw %r0, [%r0+0]\nexit",
        "socket_filter",
        6,
        "R0 invalid mem access 'map_value_or_null'",
    ),
    (
        "map value oob",
        LOOKUP + "jeq %r0, 0, +1\nldxdw %r0, [%r0+12]\nexit",
        "socket_filter",
        7,
        "invalid access to map value, value_size=16 off=12 size=8",
    ),
    (
        "stack oob",
        "mov %r0, 0\nstdw [%r10-520], 1\nexit",
        "socket_filter",
        1,
        "invalid stack off=-520 size=8",
    ),
    (
        "stack positive",
        "mov %r0, 0\nstb [%r10+0], 1\nexit",
        "socket_filter",
        1,
        "invalid stack off=0 size=1",
    ),
    (
        "misaligned stack",
        "mov %r0, 0\nstw [%r10-6], 1\nexit",
        "socket_filter",
        1,
        "misaligned stack access off 0+-6 size 4",
    ),
    ("unreachable", "mov %r0, 0\nexit\nmov %r0, 1\nexit", "socket_filter", 2, "unreachable insn 2"),
    ("r10 write", "mov %r10, 0\nexit", "socket_filter", 0, "frame pointer is read only"),
    ("infinite loop", "mov %r0, 0\nja -1", "socket_filter", 1, "infinite loop detected at insn 1"),
    (
        "jump out",
        "mov %r0, 0\nja +5\nexit",
        "socket_filter",
        1,
        "jump out of range from insn 1 to 7",
    ),
    ("not last", "mov %r0, 0", "socket_filter", 0, "last insn is not an exit or jmp"),
    ("div zero", "mov %r0, 1\ndiv %r0, 0\nexit", "socket_filter", 1, "div by zero"),
    ("bad shift", "mov %r0, 1\nlsh %r0, 64\nexit", "socket_filter", 1, "invalid shift 64"),
    (
        "map ptr arith",
        "lddw %r1, map_fd(3)\nadd %r1, 1\nexit",
        "socket_filter",
        2,
        "R1 pointer arithmetic on map_ptr prohibited",
    ),
    (
        "or_null arith",
        LOOKUP + "add %r0, 1\nexit",
        "socket_filter",
        6,
        "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first",
    ),
    (
        "helper scalar map",
        "mov %r1, 0\nmov %r2, 0\ncall 1\nexit",
        "socket_filter",
        2,
        "R1 type=0 expected=map_ptr",
    ),
    (
        "helper not allowed",
        "call 16\nexit",
        "socket_filter",
        0,
        "program of this type cannot use helper bpf_get_current_comm#16",
    ),
    (
        "wrong map type",
        LOOKUP.replace("map_fd(3)", "map_fd(5)") + "mov %r0, 0\nexit",
        "socket_filter",
        5,
        "cannot pass map_type 27 into func bpf_map_lookup_elem#1",
    ),
    (
        "ctx bad off",
        "ldxw %r0, [%r1+76]\nexit",
        "socket_filter",
        0,
        "invalid bpf_context access off=76 size=4",
    ),
    (
        "ctx write",
        "stw [%r1+0], 1\nmov %r0, 0\nexit",
        "socket_filter",
        0,
        "invalid bpf_context access off=0 size=4",
    ),
    (
        "packet unchecked",
        "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit",
        "xdp",
        1,
        "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)",
    ),
    (
        "ringbuf leak",
        "lddw %r1, map_fd(5)\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit",
        "socket_filter",
        6,
        "Unreleased reference id=1 alloc_insn=4",
    ),
    (
        "unbounded index",
        LOOKUP + "jeq %r0, 0, +3\nldxdw %r1, [%r0+0]\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit",
        "socket_filter",
        8,
        "math between map_value pointer and register with unbounded min value is not allowed",
    ),
    (
        "callee r2",
        "mov %r1, 1\ncall 2\nexit\nmov %r0, %r2\nexit",
        "socket_filter",
        3,
        "R2 !read_ok",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "ptype", "pc", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_rejection_message(name: str, text: str, ptype: str, pc: int, message: str) -> None:
    text = text.replace("call 2\n", "call local fn\n").replace(
        "exit\nmov %r0, %r2", "exit\nfn:\nmov %r0, %r2"
    )
    v = verify(assemble(text, "rfmt"), ptype, MAPS)
    assert v.error is not None, "accepted"
    assert (v.error.pc, v.error.message) == (pc, message)


def test_error_carries_the_source_span() -> None:
    prog = assemble("mov %r0, 0\n\nldxdw %r0, [%r10-8]\nexit\n", "rfmt", source="x.s")
    v = verify(prog, privileged=False)
    assert v.error is not None
    assert v.error.message == "invalid read from stack R10 off -8+0 size 8"
    assert isinstance(v.error.span, SourcePos) and v.error.span.line == 3
    with pytest.raises(VerifyError) as e:
        check(prog, privileged=False)
    assert e.value.pc == 1 and "insn 1: invalid read from stack" in str(e.value)


def test_privileged_reads_of_uninitialised_stack_are_allowed() -> None:
    prog = assemble("ldxdw %r0, [%r10-8]\nexit", "rfmt")
    assert verify(prog).ok
    assert not verify(prog, privileged=False).ok


def test_back_edges_when_loops_are_not_allowed() -> None:
    prog = assemble("mov %r0, 3\nl:\nsub %r0, 1\njne %r0, 0, l\nexit", "rfmt")
    assert verify(prog).ok
    v = verify(prog, allow_loops=False)
    assert v.error is not None and v.error.message == "back-edge from insn 2 to 1"


def test_unprovable_loop_is_too_large() -> None:
    from pybpf.verifier.check import Verifier

    prog = assemble("ldxw %r2, [%r1+0]\nmov %r0, 0\nl:\nsub %r2, 1\njne %r2, 0, l\nexit", "rfmt")
    v = Verifier(prog, max_loop_iters=300).run()
    assert v.error is not None
    assert v.error.message == (
        "BPF program is too large: the loop at insn 2 is not proven to end after 300 iterations"
    )
    v = Verifier(prog, max_processed=500).run()
    assert v.error is not None and v.error.message == "BPF program is too large. Processed 501 insn"


ACCEPTED = [
    ("checked lookup", LOOKUP + "jeq %r0, 0, +1\nldxdw %r0, [%r0+8]\nexit", "socket_filter"),
    (
        "bounded index",
        LOOKUP + "jeq %r0, 0, +4\nldxdw %r1, [%r0+0]\nand %r1, 7\nadd %r0, %r1\n"
        "ldxdw %r0, [%r0+0]\nexit",
        "socket_filter",
    ),
    (
        "packet checked",
        "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 4\n"
        "jgt %r4, %r3, +1\nldxw %r0, [%r2+0]\nmov %r0, 2\nexit",
        "xdp",
    ),
    (
        "spill fill",
        "stxdw [%r10-8], %r1\nldxdw %r1, [%r10-8]\nldxw %r0, [%r1+0]\nexit",
        "socket_filter",
    ),
    (
        "counted loop",
        "mov %r0, 0\nmov %r1, 100\nl:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, l\nexit",
        "socket_filter",
    ),
    (
        "ringbuf",
        "lddw %r1, map_fd(5)\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, +4\n"
        "stdw [%r0+0], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit",
        "socket_filter",
    ),
    ("tracepoint ctx", "ldxdw %r0, [%r1+16]\nexit", "tracepoint"),
]


@pytest.mark.parametrize(("name", "text", "ptype"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(name: str, text: str, ptype: str) -> None:
    v = verify(assemble(text, "rfmt"), ptype, MAPS)
    assert v.ok, v.error


def test_reserved_fields_and_empty() -> None:
    assert (
        verify([Insn(0x07, 0, 1, 0, 1), Insn(0x95)]).error.message == "BPF_ALU uses reserved fields"
    )  # type: ignore[union-attr]
    assert verify([]).error.message == "empty program"  # type: ignore[union-attr]
