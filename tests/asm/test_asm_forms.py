"""Every instruction form: classification, encode/decode and text round trips (both dialects)."""

from __future__ import annotations

import pytest
from asm_strategies import any_insn
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf.asm import Form, Insn, assemble, classify, decode, disassemble, encode, is_valid
from pybpf.asm import builder as b
from pybpf.asm.fmt import format_c, format_rfmt
from pybpf.asm.forms import InvalidInsn
from pybpf.asm.opcodes import AluOp, AtomicOp, JmpOp, Size


@given(any_insn)
@settings(max_examples=300, deadline=None)
def test_every_form_is_valid_and_round_trips_bytes(insn: Insn) -> None:
    assert is_valid(insn)
    assert decode(encode([insn])) == [insn]


@given(st.lists(any_insn, min_size=1, max_size=12))
@settings(max_examples=150, deadline=None)
def test_rfmt_text_reassembles_to_same_bytes(prog: list[Insn]) -> None:
    assert encode(assemble(format_rfmt(prog), "rfmt")) == encode(prog)
    assert encode(assemble(format_rfmt(prog, labels=True), "rfmt")) == encode(prog)


@given(st.lists(any_insn, min_size=1, max_size=12))
@settings(max_examples=150, deadline=None)
def test_c_text_reassembles_to_same_bytes(prog: list[Insn]) -> None:
    assert encode(assemble(format_c(prog), "c")) == encode(prog)
    assert encode(assemble(format_c(prog, labels=True), "c")) == encode(prog)


@given(st.lists(st.integers(-3, 3), min_size=1, max_size=8), st.integers(0, 7))
@settings(deadline=None)
def test_labelled_listing_round_trips_in_range_jumps(offsets: list[int], lddw_at: int) -> None:
    # Jumps and calls that land inside the program get labels; all must re-assemble.
    prog: list[Insn] = []
    for i, off in enumerate(offsets):
        prog.append([b.ja(off), b.call_local(off), b.jmp(JmpOp.JEQ, 1, 0, off)][i % 3])
        if i == lddw_at:
            prog.append(b.ld_func(2, off))
    prog.append(b.exit_())
    for fmt, dialect in ((format_rfmt, "rfmt"), (format_c, "c")):
        text = fmt(prog, labels=True)
        assert assemble(text, dialect) == prog, text


def test_labelled_listing_names_targets() -> None:
    prog = [b.jmp(JmpOp.JNE, 0, 0, 2), b.call_local(1), b.exit_(), b.exit_()]
    assert format_c(prog, labels=True) == (
        "    if r0 != 0x0 goto L3\n    call L3\n    exit\nL3:\n    exit\n"
    )


@given(st.binary(min_size=8, max_size=64).filter(lambda r: len(r) % 8 == 0))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_round_trip_through_text(raw: bytes) -> None:
    # Invalid encodings come out as .raw words, so any decodable program round-trips.
    # (decode keeps only the imm of lddw's second slot, so compare with its re-encoding.)
    try:
        prog = decode(raw)
    except ValueError:
        return  # a truncated lddw
    assert encode(assemble(format_rfmt(prog), "rfmt")) == encode(prog)
    assert encode(assemble(format_c(prog), "c")) == encode(prog)


@pytest.mark.parametrize(
    ("insn", "form"),
    [
        (b.alu64(AluOp.DIV, 1, b.R2, signed=True), Form.ALU_REG),
        (b.alu32(AluOp.MOD, 1, 7, signed=True), Form.ALU_IMM),
        (b.movsx64(1, 2, 32), Form.MOVSX),
        (b.endian(1, 16, big=True), Form.ENDIAN),
        (b.bswap(1, 64), Form.BSWAP),
        (b.ld_map_fd(1, 3), Form.LDDW),
        (b.ldxsx(Size.H, 1, 2, -2), Form.LDXSX),
        (b.atomic(Size.W, AtomicOp.CMPXCHG, 10, 1, -4), Form.ATOMIC),
        (b.gotol(70000), Form.GOTOL),
        (b.call_local(5), Form.CALL_LOCAL),
        (b.call_kfunc(1234), Form.CALL_KFUNC),
        (b.callx(3), Form.CALLX),
        (b.may_goto(2), Form.MAY_GOTO),
        (b.exit_(), Form.EXIT),
    ],
)
def test_classify_names_the_form(insn: Insn, form: Form) -> None:
    assert classify(insn) == form


@pytest.mark.parametrize(
    ("insn", "reason"),
    [
        (Insn(0x07, off=1, imm=1), "offset 1 is not allowed"),  # add64 imm with off
        (Insn(0x07, src=1, imm=1), "reserved field src"),
        (Insn(0x0F, imm=1), "reserved field imm"),
        (Insn(0x84, imm=1), "reserved field imm"),  # neg with imm
        (Insn(0xDC, imm=8), "byte swap width 8"),
        (Insn(0xDF, imm=16), "ALU64|END|X"),
        (Insn(0x95, dst=1), "reserved field dst"),
        (Insn(0x05, imm=1), "reserved field imm"),  # ja with imm
        (Insn(0x99), "sign-extending 64-bit load"),
        (Insn(0xDB, imm=0x02), "atomic operation 0x2"),
        (Insn(0xB7, dst=11), "register number above r10"),
        (Insn(0x86), "not defined in class JMP32"),  # call in JMP32
        (Insn(0xB4, off=8, src=1), "offset 8 is not allowed"),  # movsx needs X
        (Insn(0xBC, off=32, src=1), "offset 32 is not allowed"),  # movsx32 of 32
        (Insn(0xF7), "unknown ALU operation"),
    ],
)
def test_classify_rejects_reserved_encodings(insn: Insn, reason: str) -> None:
    with pytest.raises(InvalidInsn, match=reason):
        classify(insn)


def test_records_carry_slot_index_and_targets() -> None:
    prog = [b.ld_imm64(1, 1 << 40), b.jmp(JmpOp.JEQ, 1, 0, 1), b.exit_(), b.exit_()]
    recs = disassemble(prog)
    assert [r.index for r in recs] == [0, 2, 3, 4]
    assert recs[1].target == 4
    assert recs[1].mnemonic == "jeq"
    assert str(recs[0].operands[1]) == "0x10000000000"


def test_invalid_record_explains_and_prints_raw_words() -> None:
    (rec,) = disassemble([Insn(0x07, off=1, imm=1)])
    assert rec.form is None
    assert "offset 1" in rec.error
    assert format_rfmt([rec]) == ".raw 0x0000000100010007\n"


@given(st.binary(min_size=8, max_size=8))
@settings(max_examples=300, deadline=None)
def test_xlated_style_prints_any_slot(raw: bytes) -> None:
    from pybpf.asm.fmt import format_xlated

    if raw[0] == 0x18:
        raw += bytes(8)  # complete the lddw
    line = format_xlated(decode(raw))
    assert line.startswith(f"   0: ({raw[0]:02x}) ")


def test_xlated_style_reports_unknown_atomic_as_bug() -> None:
    from pybpf.asm.fmt import format_xlated

    assert format_xlated([Insn(0xDB, 10, 1, -8, 0x11)]) == "   0: (db) BUG_db\n"
    assert format_xlated([Insn(0x99, 1, 2)]) == "   0: (99) BUG_ldx_99\n"  # no s64 load
