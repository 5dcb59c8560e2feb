"""The C-like dialect of the kernel verifier, bpftool and LLVM: ``r0 = *(u32 *)(r1 +4)``.

Accepted spellings (``rN`` is 64-bit, ``wN`` selects the 32-bit ALU or JMP32 form):

- ``rD = rS`` ``rD = IMM`` ``rD = IMM ll`` ``rD op= rS|IMM`` (``+= -= *= /= |= &= <<= >>=
  %= ^= s>>= s/= s%=``), ``rD = -rD``, ``rD = (s8|s16|s32)rS``, ``rD = be16|le32|bswap64 rD``
- ``rD = *(u8|u16|u32|u64|s8|s16|s32 *)(rS +OFF)``, ``*(u32 *)(rD -8) = rS|IMM``,
  ``r0 = *(u8 *)skb[IMM]``, ``r0 = *(u16 *)skb[rS + IMM]``
- ``lock *(u64 *)(rD +OFF) += rS`` (also ``|= &= ^=``), ``rS = atomic[64]_fetch_add((u64
  *)(rD +OFF), rS)``, ``..._xchg(...)``, ``r0 = atomic[64]_cmpxchg((u64 *)(rD +OFF), r0, rS)``
- ``rD = map[id:N]`` / ``map[fd:N]`` / ``map_fd N`` (src 1), ``map[id:N][0]+OFF`` (src 2),
  ``map[idx:N]`` (5), ``map[idx:N][0]+OFF`` (6), ``btf_id[N]`` (3), ``subprog[+N|label]`` (4)
- ``if rD OP rS|IMM goto TARGET`` (``== != > >= < <= & s> s>= s< s<=``), ``goto TARGET``,
  ``gotol TARGET``, ``may_goto TARGET``; TARGET is ``pc+N``, ``+N`` or a label
- ``call NAME#N`` (the number wins; the name is informative), ``call N``, ``call NAME``
  (a helper name, else a label: a local call), ``call pc+N``, ``call kernel-function#N``,
  ``callx rN``, ``exit``
"""

from __future__ import annotations

from pybpf.asm import builder as b
from pybpf.asm._lex import Line
from pybpf.asm.helpers import helper_id
from pybpf.asm.insn import Insn
from pybpf.asm.opcodes import LDDW, AluOp, AtomicOp, JmpOp, PseudoSrc, Size

_TYPES = {"u8": (Size.B, False), "u16": (Size.H, False), "u32": (Size.W, False),
          "u64": (Size.DW, False), "s8": (Size.B, True), "s16": (Size.H, True),
          "s32": (Size.W, True)}  # fmt: skip
_ASSIGN = {
    "+=": AluOp.ADD, "-=": AluOp.SUB, "*=": AluOp.MUL, "/=": AluOp.DIV, "|=": AluOp.OR,
    "&=": AluOp.AND, "<<=": AluOp.LSH, ">>=": AluOp.RSH, "%=": AluOp.MOD, "^=": AluOp.XOR,
    "s>>=": AluOp.ARSH, "s/=": AluOp.DIV, "s%=": AluOp.MOD,
}  # fmt: skip
_CMP = {
    "==": JmpOp.JEQ, "!=": JmpOp.JNE, ">": JmpOp.JGT, ">=": JmpOp.JGE, "<": JmpOp.JLT,
    "<=": JmpOp.JLE, "&": JmpOp.JSET, "s>": JmpOp.JSGT, "s>=": JmpOp.JSGE, "s<": JmpOp.JSLT,
    "s<=": JmpOp.JSLE,
}  # fmt: skip
_LOCK = {"+=": AtomicOp.ADD, "|=": AtomicOp.OR, "&=": AtomicOp.AND, "^=": AtomicOp.XOR}
_FETCH = {"add": AtomicOp.ADD, "or": AtomicOp.OR, "and": AtomicOp.AND, "xor": AtomicOp.XOR}

Target = str | int
Parsed = tuple[Insn, Target | None]


def parse_statement(ln: Line, hint: int | None) -> Parsed:
    """Parse one C-like statement; ``hint`` is the opcode from a bpftool ``(b7)`` prefix."""
    tok = ln.peek()
    assert tok is not None
    if tok.kind == "reg":
        return _assign(ln, hint)
    if tok.text == "*":
        size, _, base, off = _deref(ln)
        ln.expect("=")
        nxt = ln.peek()
        if nxt is not None and nxt.kind == "reg":
            return b.stx(size, base, ln.reg()[0], off), None
        return b.st_imm(size, base, off, ln.imm32()), None
    ln.pos += 1
    word = tok.text
    if word == "exit":
        return b.exit_(), None
    if word in ("goto", "gotol", "may_goto"):
        wide = word == "gotol"
        insn = b.gotol(0) if wide else b.ja(0) if word == "goto" else b.may_goto(0)
        return insn, _target(ln, wide)
    if word == "if":
        return _if(ln)
    if word == "call":
        return _call(ln)
    if word == "callx":
        return b.callx(ln.reg()[0]), None
    if word == "lock":
        size, _, base, off = _deref(ln)
        optok = ln.next("'+=', '|=', '&=' or '^='")
        if optok.text not in _LOCK:
            raise ln.error(f"'{optok.text}' is not an atomic operation", optok.col)
        return b.atomic(size, _LOCK[optok.text], base, ln.reg()[0], off), None
    raise ln.error(f"unknown mnemonic '{word}'", tok.col)


def _target(ln: Line, wide: bool = False) -> Target:
    tok = ln.peek()
    if tok is not None and tok.text == "pc":
        ln.pos += 1
    elif tok is not None and tok.kind == "id":
        ln.pos += 1
        return tok.text
    nxt = ln.peek()
    if nxt is None or nxt.text not in ("+", "-"):
        raise ln.error("expected a jump target: pc+N, +N or a label")
    return ln.imm32("offset") if wide else ln.off16("jump offset")


def _ptr(ln: Line) -> tuple[Size, bool, int, int]:
    """``(u32 *)(rB +OFF)``: (size, sign-extending, base, off)."""
    ln.expect("(")
    ttok = ln.next("type")
    if ttok.text not in _TYPES:
        raise ln.error(f"unknown access type '{ttok.text}' (u8..u64, s8..s32)", ttok.col)
    ln.expect("*")
    ln.expect(")")
    ln.expect("(")
    base = ln.reg()[0]
    off = 0
    if ln.at("+") or ln.at("-"):
        off = ln.off16("offset")
    ln.expect(")")
    size, signed = _TYPES[ttok.text]
    return size, signed, base, off


def _deref(ln: Line) -> tuple[Size, bool, int, int]:
    ln.expect("*")
    return _ptr(ln)


def _if(ln: Line) -> Parsed:
    d, width, _ = ln.reg()
    optok = ln.next("comparison")
    if optok.text not in _CMP:
        raise ln.error(f"unknown comparison '{optok.text}'", optok.col)
    nxt = ln.peek()
    src = b.Reg(ln.reg()[0]) if nxt is not None and nxt.kind == "reg" else ln.imm32()
    ln.expect("goto")
    target = _target(ln)
    make = b.jmp32 if width == "w" else b.jmp
    return make(_CMP[optok.text], d, src, 0), target


def _call(ln: Line) -> Parsed:
    tok = ln.next("call target")
    if tok.text == "pc":
        ln.pos -= 1
        return b.call_local(0), _target(ln, wide=True)
    if tok.kind == "num":
        ln.pos -= 1
        return b.call(ln.imm32("helper number")), None
    if tok.text == "kernel" and ln.accept("-") and ln.accept("function"):
        ln.expect("#")
        imm = ln.imm32("BTF id")
        off = 0
        if ln.accept("["):
            ln.expect("btf")
            ln.expect(":")
            off = ln.off16("BTF fd index")
            ln.expect("]")
        return b.call_kfunc(imm, off), None
    if tok.kind != "id":
        raise ln.error(f"expected a helper name or number, found '{tok.text}'", tok.col)
    if ln.accept("#"):
        return b.call(ln.imm32("helper number")), None
    hid = helper_id(tok.text)
    if hid is not None:
        return b.call(hid), None
    return b.call_local(0), tok.text


def _assign(ln: Line, hint: int | None) -> Parsed:
    d, width, _dtok = ln.reg()
    optok = ln.next("'=' or an assignment operator")
    is32 = width == "w"
    if optok.text in _ASSIGN:
        op = _ASSIGN[optok.text]
        signed = optok.text in ("s/=", "s%=")
        nxt = ln.peek()
        src = b.Reg(ln.reg()[0]) if nxt is not None and nxt.kind == "reg" else ln.imm32()
        return (b.alu32 if is32 else b.alu64)(op, d, src, signed=signed), None
    if optok.text != "=":
        raise ln.error(f"expected '=' or an assignment operator, found '{optok.text}'", optok.col)
    return _rhs(ln, d, is32, hint)


def _rhs(ln: Line, d: int, is32: bool, hint: int | None) -> Parsed:
    tok = ln.peek()
    if tok is None:
        raise ln.error("expected a value after '='")
    if tok.kind == "reg":
        s = ln.reg()[0]
        return (b.mov32_reg(d, s) if is32 else b.mov64_reg(d, s)), None
    if tok.text == "-" and (nxt := ln.peek(1)) is not None and nxt.kind == "reg":
        ln.pos += 1
        s, _, stok = ln.reg()
        if s != d:
            raise ln.error("negation must be of the destination register ('r1 = -r1')", stok.col)
        return (b.neg32(d) if is32 else b.neg64(d)), None
    if tok.kind == "num" or tok.text in ("-", "+"):
        return _const(ln, d, is32, hint), None
    if tok.text == "(":
        return _movsx(ln, d, is32), None
    if tok.text == "*":
        return _load(ln, d), None
    if tok.kind == "id":
        return _named(ln, d)
    raise ln.error(f"cannot parse the value starting at '{tok.text}'")


def _const(ln: Line, d: int, is32: bool, hint: int | None) -> Insn:
    if is32:
        return b.mov32_imm(d, ln.imm32())
    save = ln.pos
    value = ln.imm64()
    if ln.accept("ll") or hint == LDDW:
        return b.ld_imm64(d, value)
    ln.pos = save
    v, _, _ = ln.number("immediate")
    if -(2**31) <= v < 2**31:
        return b.mov64_imm(d, v)
    # A mov would sign-extend a 32-bit immediate: only lddw keeps this value.
    return b.ld_imm64(d, value)


def _movsx(ln: Line, d: int, is32: bool) -> Insn:
    ln.expect("(")
    ttok = ln.next("type")
    bits = {"s8": 8, "s16": 16, "s32": 32}.get(ttok.text)
    if bits is None or (is32 and bits == 32):
        raise ln.error(f"'{ttok.text}' is not a sign-extension width here", ttok.col)
    ln.expect(")")
    s = ln.reg()[0]
    return b.movsx32(d, s, bits) if is32 else b.movsx64(d, s, bits)


def _load(ln: Line, d: int) -> Insn:
    save = ln.pos
    ln.expect("*")
    ln.expect("(")
    ttok = ln.next("type")
    if ln.at("*") and ln.at(")", 1) and ln.at("skb", 2):
        ln.pos += 3
        size, _ = _TYPES.get(ttok.text, (None, False))
        if size is None or ttok.text.startswith("s") or d != 0:
            raise ln.error("packet loads are 'r0 = *(u8|u16|u32 *)skb[...]'", ttok.col)
        ln.expect("[")
        nxt = ln.peek()
        if nxt is not None and nxt.kind == "reg":
            s = ln.reg()[0]
            ln.expect("+")
            imm = ln.imm32()
            ln.expect("]")
            return b.ld_ind(size, s, imm)
        imm = ln.imm32()
        ln.expect("]")
        return b.ld_abs(size, imm)
    ln.pos = save
    size, signed, base, off = _deref(ln)
    return (b.ldxsx if signed else b.ldx)(size, d, base, off)


def _named(ln: Line, d: int) -> Parsed:
    tok = ln.next()
    word = tok.text
    if word in ("be16", "be32", "be64", "le16", "le32", "le64", "bswap16", "bswap32", "bswap64"):
        s, _, stok = ln.reg()
        if s != d:
            raise ln.error("byte swaps work in place ('r1 = be16 r1')", stok.col)
        bits = int(word[-2:])
        return (
            b.bswap(d, bits) if word.startswith("bswap") else b.endian(d, bits, big=word[0] == "b")
        ), None
    if word == "map":
        return _map(ln, d), None
    if word == "map_fd":
        return b.ld_map_fd(d, ln.imm32("map fd", unsigned=True)), None
    if word == "btf_id":
        ln.expect("[")
        v = ln.imm32("BTF id", unsigned=True)
        ln.expect("]")
        return b.ld_imm64(d, v & 0xFFFF_FFFF | _hi(ln) << 32, PseudoSrc.BTF_ID), None
    if word == "subprog":
        ln.expect("[")
        target = _target(ln, wide=True)
        ln.expect("]")
        hi = _hi(ln) << 32
        if isinstance(target, int):
            return b.ld_imm64(d, target & 0xFFFF_FFFF | hi, PseudoSrc.FUNC), None
        return b.ld_imm64(d, hi, PseudoSrc.FUNC), target
    if word.startswith("atomic"):
        return _atomic_fn(ln, d, word, tok.col), None
    raise ln.error(f"unknown value '{word}'", tok.col)


def _hi(ln: Line) -> int:
    """An optional ``[hi:N]`` suffix: the high 32 bits of a pseudo lddw."""
    if not ln.accept("["):
        return 0
    ln.expect("hi")
    ln.expect(":")
    v = ln.imm32("value", unsigned=True)
    ln.expect("]")
    return v & 0xFFFF_FFFF


def _map(ln: Line, d: int) -> Insn:
    ln.expect("[")
    ktok = ln.next("'id', 'fd' or 'idx'")
    if ktok.text not in ("id", "fd", "idx"):
        raise ln.error(f"expected 'id', 'fd' or 'idx', found '{ktok.text}'", ktok.col)
    ln.expect(":")
    v = ln.imm32("map number", unsigned=True) & 0xFFFF_FFFF
    ln.expect("]")
    idx = ktok.text == "idx"
    if ln.at("[") and ln.at("0", 1):
        ln.pos += 2
        ln.expect("]")
        off = 0
        if ln.accept("+"):
            off = ln.imm32("value offset", unsigned=True) & 0xFFFF_FFFF
        kind = PseudoSrc.MAP_IDX_VALUE if idx else PseudoSrc.MAP_VALUE
        return b.ld_imm64(d, off << 32 | v, kind)
    kind = PseudoSrc.MAP_IDX if idx else PseudoSrc.MAP_FD
    return b.ld_imm64(d, _hi(ln) << 32 | v, kind)


def _atomic_fn(ln: Line, d: int, word: str, col: int) -> Insn:
    name = word.removeprefix("atomic64_").removeprefix("atomic_")
    ln.expect("(")
    size, _signed, base, off = _ptr(ln)
    ln.expect(",")
    if name == "cmpxchg":
        r0, _, rtok = ln.reg()
        if r0 != 0 or d != 0:
            raise ln.error(
                "cmpxchg compares with r0: 'r0 = atomic_cmpxchg((u64 *)(rD +OFF), r0, rS)'",
                rtok.col,
            )
        ln.expect(",")
        s = ln.reg()[0]
        ln.expect(")")
        return b.atomic(size, AtomicOp.CMPXCHG, base, s, off)
    s, _, stok = ln.reg()
    ln.expect(")")
    if s != d:
        raise ln.error(
            "the fetched value goes to the source register ('r1 = atomic_xchg(..., r1)')", stok.col
        )
    if name == "xchg":
        return b.atomic(size, AtomicOp.XCHG, base, s, off)
    op = _FETCH.get(name.removeprefix("fetch_")) if name.startswith("fetch_") else None
    if op is None:
        raise ln.error(f"unknown atomic function '{word}'", col)
    return b.atomic(size, op | AtomicOp.FETCH, base, s, off)


__all__ = ["parse_statement"]
