"""The assembler's two dialects: spellings, dialect detection, and exact error messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf.asm import AluOp, AtomicOp, Insn, JmpOp, PseudoSrc, Size, assemble, detect_dialect
from pybpf.asm import builder as b
from pybpf.asm.builder import FP, R0, R1, R2, R3, SourcePos
from pybpf.errors import AsmError

C_CASES = [
    ("r0 = *(u32 *)(r1 +4)", b.ldx(Size.W, R0, R1, 4)),
    ("r0 = *(u32 *)(r1 + 4)", b.ldx(Size.W, R0, R1, 4)),
    ("r0 = *(u8 *)(r1)", b.ldx(Size.B, R0, R1, 0)),
    ("w0 = *(u16 *)(r1 -2)", b.ldx(Size.H, R0, R1, -2)),
    ("r1 = *(s16 *)(r10 -2)", b.ldxsx(Size.H, R1, FP, -2)),
    ("*(u64 *)(r10 -8) = r1", b.stx(Size.DW, FP, R1, -8)),
    ("*(u32 *)(r10 -4) = 0x7f", b.st_imm(Size.W, FP, -4, 0x7F)),
    ("r1 += 8", b.alu64(AluOp.ADD, R1, 8)),
    ("r1 s>>= r2", b.alu64(AluOp.ARSH, R1, R2)),
    ("r1 s/= r2", b.alu64(AluOp.DIV, R1, R2, signed=True)),
    ("w1 s%= 3", b.alu32(AluOp.MOD, R1, 3, signed=True)),
    ("w0 = w1", b.mov32_reg(R0, R1)),
    ("w0 = 0xffffffff", b.mov32_imm(R0, -1)),
    ("r0 = -1", b.mov64_imm(R0, -1)),
    ("r0 = 0xffffffff", b.ld_imm64(R0, 0xFFFFFFFF)),  # a 64-bit value: needs lddw
    ("r0 = -2147483649", b.ld_imm64(R0, -(2**31) - 1)),
    ("r0 = 1 ll", b.ld_imm64(R0, 1)),
    ("   0: (18) r0 = 0x1", b.ld_imm64(R0, 1)),  # bpftool's opcode says lddw
    ("r1 = -r1", b.neg64(R1)),
    ("w1 = -w1", b.neg32(R1)),
    ("r1 = (s8)r2", b.movsx64(R1, R2, 8)),
    ("w1 = (s16)w2", b.movsx32(R1, R2, 16)),
    ("r0 = be16 r0", b.endian(R0, 16, big=True)),
    ("r0 = le64 r0", b.endian(R0, 64, big=False)),
    ("r0 = bswap32 r0", b.bswap(R0, 32)),
    ("if r1 > 0x3 goto pc+2", b.jmp(JmpOp.JGT, R1, 3, 2)),
    ("if w1 s< w2 goto +5", b.jmp32(JmpOp.JSLT, R1, b.Reg(2), 5)),
    ("if r1 & r3 goto pc-1", b.jmp(JmpOp.JSET, R1, R3, -1)),
    ("goto +3", b.ja(3)),
    ("gotol +3", b.gotol(3)),
    ("may_goto pc+1", b.may_goto(1)),
    ("r1 = map[id:5]", b.ld_map_fd(R1, 5)),
    ("r1 = map[fd:5]", b.ld_map_fd(R1, 5)),
    ("r1 = map_fd 3", b.ld_map_fd(R1, 3)),
    ("r1 = map[id:5][0]+16", b.ld_map_value(R1, 5, 16)),
    ("r1 = map[idx:0]", b.ld_map_idx(R1, 0)),
    ("r1 = map[idx:2][0]+8", b.ld_map_idx_value(R1, 2, 8)),
    ("r1 = btf_id[77]", b.ld_btf_id(R1, 77)),
    ("r1 = subprog[+4]", b.ld_func(R1, 4)),
    ("call bpf_map_lookup_elem#1", b.call(1)),
    ("call 14", b.call(14)),
    ("call bpf_ktime_get_ns", b.call(5)),
    ("call ktime_get_ns", b.call(5)),
    ("call __htab_map_lookup_elem#330864", b.call(330864)),
    ("call pc+3", b.call_local(3)),
    ("call kernel-function#99", b.call_kfunc(99)),
    ("callx r2", b.callx(R2)),
    ("exit", b.exit_()),
    ("lock *(u64 *)(r10 -8) += r1", b.atomic(Size.DW, AtomicOp.ADD, FP, R1, -8)),
    ("lock *(u32 *)(r10 -4) ^= r1", b.atomic(Size.W, AtomicOp.XOR, FP, R1, -4)),
    (
        "r0 = atomic_fetch_add((u64 *)(r10 -8), r0)",
        b.atomic(Size.DW, AtomicOp.ADD | AtomicOp.FETCH, FP, R0, -8),
    ),
    (
        "r2 = atomic64_fetch_or((u64 *)(r10 -8), r2)",
        b.atomic(Size.DW, AtomicOp.OR | AtomicOp.FETCH, FP, R2, -8),
    ),
    ("r1 = atomic_xchg((u32 *)(r10 -4), r1)", b.atomic(Size.W, AtomicOp.XCHG, FP, R1, -4)),
    (
        "r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r3)",
        b.atomic(Size.DW, AtomicOp.CMPXCHG, FP, R3, -8),
    ),
    ("r0 = *(u16 *)skb[12]", b.ld_abs(Size.H, 12)),
    ("r0 = *(u8 *)skb[r1 + 4]", b.ld_ind(Size.B, R1, 4)),
    ("   7: (85) call bpf_get_current_pid_tgid#14", b.call(14)),
    (".raw 0x0000000000000095", b.exit_()),
]


@pytest.mark.parametrize(("text", "insn"), C_CASES, ids=[c[0] for c in C_CASES])
def test_c_dialect(text: str, insn: Insn) -> None:
    assert assemble(text, "c") == [insn]


RFMT_CASES = [
    ("mov32 %r0, 1", b.mov32_imm(R0, 1)),
    ("ldxb %r0, [%r1+2]", b.ldx(Size.B, R0, R1, 2)),
    ("ldxsw %r0, [%r10-4]", b.ldxsx(Size.W, R0, FP, -4)),
    ("stxdw [%r10-8], %r1", b.stx(Size.DW, FP, R1, -8)),
    ("sth [%r10-2], 0x8001", b.st_imm(Size.H, FP, -2, 0x8001)),
    ("lddw %r0, 0x1122334455667788", b.ld_imm64(R0, 0x1122334455667788)),
    ("lddw %r1, map_value(3, 16)", b.ld_map_value(R1, 3, 16)),
    ("lock fetch add [%r10-8], %r1", b.atomic(Size.DW, AtomicOp.ADD | AtomicOp.FETCH, FP, R1, -8)),
    ("lock fetch_add [%r10-8], %r1", b.atomic(Size.DW, AtomicOp.ADD | AtomicOp.FETCH, FP, R1, -8)),
    ("lock xor32 [%r10-4], %r1", b.atomic(Size.W, AtomicOp.XOR, FP, R1, -4)),
    ("lock cmpxchg32 [%r10-8], %r1", b.atomic(Size.W, AtomicOp.CMPXCHG, FP, R1, -8)),
    ("be32 %r0", b.endian(R0, 32, big=True)),
    ("swap16 %r0", b.bswap(R0, 16)),
    ("neg32 %r3", b.neg32(R3)),
    ("sdiv32 %r0, %r1", b.alu32(AluOp.DIV, R0, R1, signed=True)),
    ("smod %r0, -3", b.alu64(AluOp.MOD, R0, -3, signed=True)),
    ("movsx1664 %r0, %r1", b.movsx64(R0, R1, 16)),
    ("jne %r0, 15, +2", b.jmp(JmpOp.JNE, R0, 15, 2)),
    ("jeq32 %r1, %r2, -1", b.jmp32(JmpOp.JEQ, R1, R2, -1)),
    ("ja32 +100000", b.gotol(100000)),
    ("call 5", b.call(5)),
    ("call %r2", b.callx(R2)),
    ("call kfunc 12, 1", b.call_kfunc(12, 1)),
    ("ldabsh 12", b.ld_abs(Size.H, 12)),
    ("ldindw %r1, 4", b.ld_ind(Size.W, R1, 4)),
]


@pytest.mark.parametrize(("text", "insn"), RFMT_CASES, ids=[c[0] for c in RFMT_CASES])
def test_rfmt_dialect(text: str, insn: Insn) -> None:
    assert assemble(text, "rfmt") == [insn]


def test_labels_and_implicit_exit_label_in_rfmt() -> None:
    prog = assemble("jne %r0, 0, exit\ncall local f\nexit\nf:\nmov %r0, 1\nexit\n")
    assert prog[0].off == 1  # the first exit, at slot 2
    assert prog[1].imm == 1  # f is one slot after the exit
    assert prog[0].span == SourcePos(1, 1, "")


def test_c_labels_and_local_call_by_name() -> None:
    prog = assemble("call sub\nexit\nsub:\n  r0 = 1\n  exit\n", "c")
    assert prog[0] == b.call_local(1)


def test_bpftool_listing_reassembles() -> None:
    text = (
        "   0: (b7) r0 = 0\n"
        "   1: (18) r1 = map[id:4]\n"
        "   3: (bf) r1 = r10\n"
        "   4: (07) r1 += -8\n"
        "   5: (63) *(u32 *)(r10 -4) = r0\n"
        "   6: (15) if r0 == 0x0 goto pc+1\n"
        "   7: (85) call bpf_get_current_pid_tgid#14\n"
        "   8: (95) exit\n"
    )
    assert detect_dialect(text) == "c"
    assert assemble(text) == [
        b.mov64_imm(R0, 0),
        b.ld_map_fd(R1, 4),
        b.mov64_reg(R1, FP),
        b.alu64(AluOp.ADD, R1, -8),
        b.stx(Size.W, FP, R0, -4),
        b.jmp(JmpOp.JEQ, R0, 0, 1),
        b.call(14),
        b.exit_(),
    ]


def test_bpftool_function_signatures_and_line_info_are_skipped() -> None:
    text = "int handle(struct __sk_buff * skb):\n; return 0;\n   0: (b7) r0 = 0\n   1: (95) exit\n"
    assert assemble(text, "c") == [b.mov64_imm(R0, 0), b.exit_()]


@pytest.mark.parametrize(
    ("text", "dialect"),
    [
        ("mov %r0, 1\nexit", "rfmt"),
        ("# comment\nexit\nja +1\n", "rfmt"),
        ("lock\nexit", "rfmt"),
        ("r0 = 1\nexit", "c"),
        ("lock *(u64 *)(r10 -8) += r1", "c"),
        ("  12: (95) exit", "c"),
    ],
)
def test_dialect_detection(text: str, dialect: str) -> None:
    assert detect_dialect(text) == dialect


def test_pseudo_map_value_source() -> None:
    (insn,) = assemble("r1 = map[id:3][0]+8", "c")
    assert insn.src == PseudoSrc.MAP_VALUE and insn.imm == 8 << 32 | 3


ERRORS = [
    ("rfmt", "mov %r0, 1\nmovv %r1, 2", "<asm>:2:1: unknown mnemonic 'movv'"),
    ("rfmt", "mov %r11, 1", "<asm>:1:5: invalid register '%r11' (r0..r10 exist)"),
    ("rfmt", "mov32 %r0, 2147483648", "<asm>:1:12: immediate 2147483648 does not fit in 32 bits"),
    ("rfmt", "ldxw %r0, [%r1+40000]", "<asm>:1:15: offset +40000 does not fit in 16 bits"),
    ("rfmt", "ja nowhere", "<asm>:1:4: unknown label 'nowhere'"),
    ("rfmt", "a:\na:\nexit", "<asm>:2:1: label 'a' defined twice (first defined on line 1)"),
    ("rfmt", "add %r0 1", "<asm>:1:9: expected ',', found '1'"),
    ("rfmt", "exit %r0", "<asm>:1:6: unexpected '%r0' after the instruction"),
    ("rfmt", "lock nand [%r1], %r2", "<asm>:1:6: unknown atomic operation 'nand'"),
    ("rfmt", "movsx3232 %r0, %r1", "<asm>:1:1: unknown mnemonic 'movsx3232'"),
    ("rfmt", "mov %r0, @", "<asm>:1:10: unexpected character '@'"),
    ("c", "r0 = *(u128 *)(r1 +0)", "<asm>:1:8: unknown access type 'u128' (u8..u64, s8..s32)"),
    ("c", "r1 = -r2", "<asm>:1:7: negation must be of the destination register ('r1 = -r1')"),
    ("c", "if r1 ~ 2 goto +1", "<asm>:1:7: unexpected character '~'"),
    ("c", "if r1 = 2 goto +1", "<asm>:1:7: unknown comparison '='"),
    ("c", "if r1 == 2 goto", "<asm>:1:16: expected a jump target: pc+N, +N or a label"),
    (
        "c",
        "r0 = 0x1ffffffffffffffff",
        "<asm>:1:6: immediate 0x1ffffffffffffffff does not fit in 64 bits",
    ),
    ("c", "lock *(u8 *)(r10 -1) += r1", "<asm>:1:1: atomic operations are 32 or 64 bits wide"),
    ("c", "w1 = (s32)w2", "<asm>:1:7: 's32' is not a sign-extension width here"),
    ("c", "frob r1", "<asm>:1:1: unknown mnemonic 'frob'"),
    ("c", "r1 = map[key:3]", "<asm>:1:10: expected 'id', 'fd' or 'idx', found 'key'"),
    ("c", ".raw 0x18", "<asm>:1:1: .raw: lddw at slot 0 is missing its second half"),
]


@pytest.mark.parametrize(("dialect", "text", "message"), ERRORS, ids=[e[1] for e in ERRORS])
def test_error_messages(dialect: str, text: str, message: str) -> None:
    with pytest.raises(AsmError) as info:
        assemble(text, dialect)
    assert str(info.value) == message


def test_error_names_the_source() -> None:
    with pytest.raises(AsmError, match=r"^prog\.s:1:1: unknown mnemonic"):
        assemble("bogus %r1", "rfmt", source="prog.s")


def test_unknown_dialect() -> None:
    with pytest.raises(AsmError, match="unknown dialect 'intel'"):
        assemble("exit", "intel")


_WORDS = (
    "r0 r1 w2 r11 %r1 %r99 = += s>>= * ( ) [ ] u32 s8 u128 + - 0x10 5 99999999999999999999 ll "
    "goto gotol pc if == s< map id : idx fd call callx exit lock fetch add xchg cmpxchg "
    "atomic_fetch_add atomic64_cmpxchg be16 bswap32 subprog btf_id kernel function # skb , "
    "lddw ldxw stxdw mov32 jeq ja32 local map_value func label: .raw 0x18 ; hi @ ~"
)
TOKENS = [*_WORDS.split(), "\n"]


@given(st.lists(st.sampled_from(TOKENS), max_size=14))
@settings(max_examples=300, deadline=None)
def test_no_traceback_ever(tokens: list[str]) -> None:
    text = " ".join(tokens)
    for dialect in ("auto", "rfmt", "c"):
        try:
            assemble(text, dialect)
        except AsmError as e:
            assert e.line >= 1 and e.col >= 1
