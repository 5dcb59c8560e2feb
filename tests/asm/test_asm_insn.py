"""Encoding and decoding of single instructions, including the two-slot lddw."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf.asm import LDDW, DecodeError, Insn, decode, encode


def test_mov_imm_bytes() -> None:
    # mov64 r0, 1 is b7 00 0000 01000000 in the kernel's own dumps.
    assert Insn(0xB7, dst=0, imm=1).encode() == bytes.fromhex("b700000001000000")


def test_lddw_two_slots() -> None:
    insn = Insn(LDDW, dst=1, imm=0x1122334455667788)
    raw = insn.encode()
    assert raw == bytes.fromhex("18010000887766550000000044332211")
    assert decode(raw) == [insn]
    assert insn.slots == 2


def test_registers_pack_src_high_nibble() -> None:
    raw = Insn(0xBF, dst=3, src=10).encode()
    assert raw[1] == 0xA3


def test_truncated_lddw_is_an_error() -> None:
    with pytest.raises(DecodeError, match="second half"):
        decode(Insn(LDDW, imm=1).encode()[:8])


def test_length_not_multiple_of_8() -> None:
    with pytest.raises(DecodeError, match="multiple of 8"):
        decode(b"\x00" * 9)


@given(
    st.integers(0, 255).filter(lambda op: op != LDDW),
    st.integers(0, 15),
    st.integers(0, 15),
    st.integers(-(2**15), 2**15 - 1),
    st.integers(-(2**31), 2**31 - 1),
)
@settings(deadline=None)
def test_round_trip_one_slot(op: int, dst: int, src: int, off: int, imm: int) -> None:
    insn = Insn(op, dst, src, off, imm)
    assert decode(insn.encode()) == [insn]


@given(st.integers(0, 2**64 - 1), st.integers(0, 6))
@settings(deadline=None)
def test_round_trip_lddw(imm: int, src: int) -> None:
    insn = Insn(LDDW, 2, src, 0, imm)
    assert decode(encode([insn, Insn(0x95)])) == [insn, Insn(0x95)]
