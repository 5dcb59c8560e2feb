"""The builder API: exact encodings per form, and label resolution in slots."""

from __future__ import annotations

import pytest

from pybpf.asm import AluOp, AtomicOp, Insn, JmpOp, PseudoSrc, Size, encode
from pybpf.asm import builder as b
from pybpf.asm.builder import FP, R0, R1, R2, ProgramBuilder
from pybpf.errors import AsmError


@pytest.mark.parametrize(
    ("insn", "hexbytes"),
    [
        # Encodings as the kernel's own dumps and RFC 9669 give them.
        (b.mov64_imm(R0, 1), "b700000001000000"),
        (b.mov64_reg(R1, FP), "bfa1000000000000"),
        (b.alu64(AluOp.ADD, R1, -8), "07010000f8ffffff"),
        (b.alu32(AluOp.ADD, R1, R2), "0c21000000000000"),
        (b.alu64(AluOp.DIV, R1, R2, signed=True), "3f21010000000000"),
        (b.alu32(AluOp.MOD, R1, 3, signed=True), "9401010003000000"),
        (b.movsx64(R1, R2, 16), "bf21100000000000"),
        (b.movsx32(R1, R2, 8), "bc21080000000000"),
        (b.endian(R0, 16, big=True), "dc00000010000000"),
        (b.endian(R0, 32, big=False), "d400000020000000"),
        (b.bswap(R0, 64), "d700000040000000"),
        (b.ldx(Size.W, R0, R1, 4), "6110040000000000"),
        (b.ldxsx("u8", R0, FP, -1), "91a0ffff00000000"),
        (b.stx("u32", FP, R0, -4), "630afcff00000000"),
        (b.st_imm(Size.DW, FP, -16, 0xAB), "7a0af0ffab000000"),
        (b.atomic(Size.DW, AtomicOp.ADD | AtomicOp.FETCH, FP, R1, -8), "db1af8ff01000000"),
        (b.atomic(Size.W, AtomicOp.XCHG, FP, R1, -8), "c31af8ffe1000000"),
        (b.atomic(Size.DW, AtomicOp.CMPXCHG, FP, R1, -8), "db1af8fff1000000"),
        (b.jmp(JmpOp.JEQ, R0, 0, 1), "1500010000000000"),
        (b.jmp32(JmpOp.JSLT, R1, R2, -3), "ce21fdff00000000"),
        (b.ja(2), "0500020000000000"),
        (b.gotol(-70000), "0600000090eefeff"),
        (b.call("bpf_get_current_pid_tgid"), "850000000e000000"),
        (b.call_local(3), "8510000003000000"),
        (b.call_kfunc(100, 2), "8520020064000000"),
        (b.callx(R2), "8d02000000000000"),
        (b.exit_(), "9500000000000000"),
        (b.ld_map_fd(R1, 4), "18110000040000000000000000000000"),
        (b.ld_map_value(R1, 4, 16), "18210000040000000000000010000000"),
        (b.ld_imm64(R0, -1), "18000000ffffffff00000000ffffffff"),
        (b.ld_abs("u16", 12), "280000000c000000"),
        (b.ld_ind(Size.B, R1, 3), "5010000003000000"),
    ],
)
def test_encodings(insn: Insn, hexbytes: str) -> None:
    assert encode([insn]).hex() == hexbytes


def test_imm_accepts_unsigned_32_bit_spelling() -> None:
    assert b.alu64(AluOp.AND, R1, 0xFFFFFFFF) == b.alu64(AluOp.AND, R1, -1)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: b.mov64_imm(R0, 2**32),
        lambda: b.ldx(Size.W, R0, R1, 1 << 15),
        lambda: b.ldxsx(Size.DW, R0, R1),
        lambda: b.atomic(Size.B, AtomicOp.ADD, FP, R1),
        lambda: b.movsx32(R0, R1, 32),
        lambda: b.alu64(AluOp.ADD, R0, R1, signed=True),
        lambda: b.jmp(JmpOp.CALL, R0, 0, 0),
        lambda: b.call("no_such_helper"),
        lambda: b.ldx("u128", R0, R1),
    ],
)
def test_impossible_combinations_raise_value_error(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]


def test_labels_resolve_in_slots_across_lddw() -> None:
    pb = ProgramBuilder()
    pb.jmp(JmpOp.JEQ, R1, 0, "out")  # slot 0
    pb.emit(b.ld_map_fd(R1, 3))  # slots 1-2
    pb.ja("out")  # slot 3
    pb.label("back")
    pb.emit(b.mov64_imm(R0, 1))  # slot 4
    pb.label("out")
    pb.emit(b.exit_())  # slot 5
    pb.jmp32(JmpOp.JNE, R0, R1, "back")  # slot 6
    pb.gotol("out")  # slot 7
    pb.call_local("back")  # slot 8
    pb.ld_func(R2, "back")  # slots 9-10
    prog = pb.build()
    assert prog[0].off == 4  # 5 - (0 + 1)
    assert prog[2].off == 1  # 5 - (3 + 1)
    assert prog[5].off == -3  # 4 - (6 + 1)
    assert prog[6].imm == -3  # 5 - (7 + 1)
    assert prog[7].imm == -5  # 4 - (8 + 1)
    # 4 - (9 + 1) = -6: a function address counts from lddw's second slot (the kernel's
    # rule, target = pc + 1 + imm), in the low half only (the kernel wants the high half zero)
    assert prog[8].imm == 2**32 - 6 and prog[8].src == PseudoSrc.FUNC
    assert prog[8] == b.ld_func(R2, -6)


def test_label_at_end_and_numeric_targets() -> None:
    pb = ProgramBuilder()
    pb.ja("end")
    pb.ja(-1)
    pb.label("end")
    assert [i.off for i in pb.build()] == [1, -1]


def test_fresh_labels_are_unique() -> None:
    pb = ProgramBuilder()
    assert pb.new_label() != pb.new_label()


def test_label_errors() -> None:
    pb = ProgramBuilder()
    pb.label("a", b.SourcePos(3, 1, "x.s"))
    with pytest.raises(
        AsmError, match=r"x\.s:4:1: label 'a' defined twice \(first defined on line 3\)"
    ):
        pb.label("a", b.SourcePos(4, 1, "x.s"))
    pb.ja("nowhere")
    with pytest.raises(AsmError, match="unknown label 'nowhere'"):
        pb.build()


def test_out_of_range_jump_is_an_error() -> None:
    pb = ProgramBuilder()
    pb.ja("far")
    pb.emit(*[b.exit_()] * (1 << 15))
    pb.label("far")
    pb.emit(b.exit_())
    with pytest.raises(AsmError, match="out of range"):
        pb.build()
    pb2 = ProgramBuilder()
    pb2.gotol("far")
    pb2.emit(*[b.exit_()] * (1 << 15))
    pb2.label("far")
    assert pb2.build()[0].imm == 1 << 15


@pytest.mark.kernel
def test_function_address_is_what_the_kernel_expects() -> None:
    """``lddw func(label)`` as a bpf_loop callback: the kernel runs the right subprogram."""
    from pybpf.asm import assemble
    from pybpf.bpf import Program, ProgSpec, ProgType

    prog = assemble(
        """
        mov %r1, 10
        lddw %r2, func(cb)
        mov %r3, 0
        mov %r4, 0
        call 181
        exit
    cb:
        mov %r0, 0
        exit
        """
    )
    from pybpf.runtime.btfinfo import func_btf

    # A program with a callback needs BTF func_info; the callback starts at slot 7.
    btf_fd, btf_fields = func_btf([7])
    with btf_fd, Program.load(ProgSpec(ProgType.SOCKET_FILTER, tuple(prog), **btf_fields)) as p:
        assert p.test_run(b"\0" * 64).retval == 10  # bpf_loop ran the callback 10 times
