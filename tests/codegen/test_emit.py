"""The emitter: labels resolve to slot offsets, trivial jumps vanish, spans and map
relocations follow their instructions."""

from __future__ import annotations

import pytest

from pybpf.asm.opcodes import LDDW, AluOp, JmpOp, PseudoSrc
from pybpf.codegen.emit import R0, R1, R6, Emitter
from pybpf.codegen.expr import fold
from pybpf.codegen.maps import _bucket_const
from pybpf.output.values import hist_index, lhist_index


def test_forward_jump_counts_lddw_as_two_slots() -> None:
    em = Emitter()
    end = em.label("end")
    em.jmpi(JmpOp.JEQ, R1, 0, end)
    em.movi(R0, 1 << 40)  # lddw: two slots
    em.movi(R0, 1)
    em.place(end)
    em.exit()
    code = em.finish()
    assert code.insns[0].off == 3
    assert code.insns[1].opcode == LDDW
    assert code.slots() == 5


def test_backward_jump() -> None:
    em = Emitter()
    top = em.label("top")
    em.place(top)
    em.alui(AluOp.ADD, R1, 1)
    em.jmpi(JmpOp.JLT, R1, 10, top)
    em.exit()
    assert em.finish().insns[1].off == -2


def test_jump_to_next_instruction_is_dropped() -> None:
    em = Emitter()
    nxt = em.label()
    em.ja(nxt)
    em.place(nxt)
    em.exit()
    assert len(em.finish().insns) == 1


def test_mov_to_same_register_is_omitted() -> None:
    em = Emitter()
    em.mov(R6, R6)
    em.exit()
    assert len(em.finish().insns) == 1


def test_spans_and_map_relocations_survive() -> None:
    em = Emitter()
    with em.at("span-a"):
        em.movi(R0, 0)
        em.ld_map(R1, "counts")
    with em.at("span-b"):
        em.ld_map_value(R1, "globals", 8)
    em.exit()
    code = em.finish()
    assert [i.span for i in code.insns[:3]] == ["span-a", "span-a", "span-b"]
    assert code.map_relocs == {1: "counts", 2: "globals"}
    assert code.insns[1].src == PseudoSrc.MAP_FD
    assert code.insns[2].src == PseudoSrc.MAP_VALUE
    assert code.insns[2].imm >> 32 == 8


def test_unplaced_label_is_an_error() -> None:
    em = Emitter()
    em.ja(em.label("nowhere"))
    with pytest.raises(ValueError, match="nowhere"):
        em.finish()


@pytest.mark.parametrize(
    ("op", "a", "b", "signed", "want"),
    [
        ("+", 1, 2, True, 3),
        ("-", 0, 1, False, (1 << 64) - 1),
        ("-", 0, 1, True, -1),
        ("*", 1 << 62, 4, True, 0),
        ("/", 7, 2, False, 3),
        ("%", 7, 0, False, None),
        ("<", -1, 0, True, 1),
        ("<", -1, 0, False, 0),
        (">>", -8, 1, True, -4),
        ("&&", 1, 0, True, 0),
    ],
)
def test_fold(op: str, a: int, b: int, signed: bool, want: int | None) -> None:
    assert fold(op, a, b, signed) == want


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_hist_buckets_match_the_output_layer(k: int) -> None:
    for v in [-5, 0, 1, 2, 3, 4, 5, 7, 8, 100, 1023, 1024, 1 << 40, (1 << 63) - 1]:
        assert _bucket_const("hist", v, (k,)) == hist_index(v, k), (v, k)


def test_lhist_buckets_match_the_output_layer() -> None:
    for v in range(-10, 120, 7):
        assert _bucket_const("lhist", v, (0, 100, 10)) == lhist_index(v, 0, 100, 10)


def test_context_copy_elided_when_only_read_before_the_first_call() -> None:
    em = Emitter()
    em.mov(R6, R1)
    em.mov(R1, R6)
    em.call(27)
    em.exit()
    em.elide_ctx_copy()
    code = em.finish()
    assert [i.is_call for i in code.insns] == [True, False]


def test_context_copy_kept_when_read_after_a_call() -> None:
    em = Emitter()
    em.mov(R6, R1)
    em.call(5)
    em.ldx(8, R0, R6, 16)
    em.exit()
    em.elide_ctx_copy()
    assert len(em.finish().insns) == 4
