"""The ``%r`` dialect of the conformance suite: ``add32 %r0, 1``, ``ldxb %r0, [%r1+2]``.

One statement per line; ``#`` and ``;`` start comments; ``name:`` defines a label. Jump
targets are labels or signed slot offsets (``+3``, ``-1``). As in the conformance suite's
own assembler, ``exit`` names the first ``exit`` instruction unless a label says otherwise.
Extensions beyond the suite: ``ldxs{b,h,w}``, ``movsx{8,16,32}{32,64}``, ``ja32``,
``may_goto``, ``call kfunc N``, ``ldabs*``/``ldind*``, pseudo ``lddw`` operands
(``map_fd(3)``, ``map_value(3, 16)``, ``btf_id(N)``, ``func(label)``, ``map_idx(0)``,
``map_idx_value(0, 8)``) and ``.raw 0x...`` for any 64-bit word.
"""

from __future__ import annotations

from pybpf.asm import builder as b
from pybpf.asm._lex import Line
from pybpf.asm.insn import Insn
from pybpf.asm.opcodes import AluOp, AtomicOp, JmpOp, PseudoSrc, Size

_SIZES = {"b": Size.B, "h": Size.H, "w": Size.W, "dw": Size.DW}
_ALU = {
    "add": AluOp.ADD, "sub": AluOp.SUB, "mul": AluOp.MUL, "div": AluOp.DIV, "or": AluOp.OR,
    "and": AluOp.AND, "lsh": AluOp.LSH, "rsh": AluOp.RSH, "mod": AluOp.MOD, "xor": AluOp.XOR,
    "mov": AluOp.MOV, "arsh": AluOp.ARSH, "sdiv": AluOp.DIV, "smod": AluOp.MOD,
}  # fmt: skip
_JMP = {
    "jeq": JmpOp.JEQ, "jgt": JmpOp.JGT, "jge": JmpOp.JGE, "jset": JmpOp.JSET,
    "jne": JmpOp.JNE, "jsgt": JmpOp.JSGT, "jsge": JmpOp.JSGE, "jlt": JmpOp.JLT,
    "jle": JmpOp.JLE, "jslt": JmpOp.JSLT, "jsle": JmpOp.JSLE,
}  # fmt: skip
_ATOMIC = {"add": AtomicOp.ADD, "or": AtomicOp.OR, "and": AtomicOp.AND, "xor": AtomicOp.XOR}
_PSEUDO = {
    "map_fd": PseudoSrc.MAP_FD, "map_value": PseudoSrc.MAP_VALUE, "btf_id": PseudoSrc.BTF_ID,
    "func": PseudoSrc.FUNC, "map_idx": PseudoSrc.MAP_IDX,
    "map_idx_value": PseudoSrc.MAP_IDX_VALUE,
}  # fmt: skip

Target = str | int
Parsed = tuple[Insn, Target | None]


def _split32(name: str) -> tuple[str, bool]:
    return (name[:-2], True) if name.endswith("32") else (name, False)


def _target(ln: Line) -> Target:
    tok = ln.peek()
    if tok is not None and tok.kind == "id":
        ln.pos += 1
        return tok.text
    if tok is not None and tok.text in ("+", "-"):
        return ln.off16("jump offset")
    raise ln.error("expected a label or a signed offset like +3")


def _wide_target(ln: Line) -> Target:
    tok = ln.peek()
    if tok is not None and tok.kind == "id":
        ln.pos += 1
        return tok.text
    if tok is not None and tok.text in ("+", "-"):
        return ln.imm32("offset")
    raise ln.error("expected a label or a signed offset like +3")


def _mem(ln: Line) -> tuple[int, int]:
    ln.expect("[")
    base, _, _ = ln.reg("%")
    off = 0
    if ln.at("+") or ln.at("-"):
        off = ln.off16("offset")
    ln.expect("]")
    return base, off


def _comma(ln: Line) -> None:
    ln.expect(",")


def parse_statement(ln: Line, mnemonic: str) -> Parsed:
    """Parse the operands of ``mnemonic`` (already consumed) into one instruction."""
    name, is32 = _split32(mnemonic)
    if mnemonic == "exit":
        return b.exit_(), None
    if mnemonic in ("ja", "ja32", "may_goto", "gotol"):
        if mnemonic in ("ja32", "gotol"):
            return b.gotol(0), _wide_target(ln)
        return (b.ja(0) if mnemonic == "ja" else b.may_goto(0)), _target(ln)
    if mnemonic == "call":
        return _call(ln)
    if mnemonic == "lock":
        return _lock(ln), None
    if mnemonic == "lddw":
        return _lddw(ln)
    if name in _ALU:
        return _alu(ln, name, is32), None
    if name == "neg":
        d, _, _ = ln.reg("%")
        return (b.neg32(d) if is32 else b.neg64(d)), None
    if name in _JMP:
        return _jmp(ln, name, is32)
    for prefix, big in (("be", True), ("le", False)):
        if mnemonic in (f"{prefix}16", f"{prefix}32", f"{prefix}64"):
            d, _, _ = ln.reg("%")
            return b.endian(d, int(mnemonic[2:]), big=big), None
    if mnemonic in ("bswap16", "bswap32", "bswap64", "swap16", "swap32", "swap64"):
        d, _, _ = ln.reg("%")
        return b.bswap(d, int(mnemonic[-2:])), None
    if mnemonic.startswith("movsx"):
        return _movsx(ln, mnemonic), None
    return _memop(ln, mnemonic), None


def _alu(ln: Line, name: str, is32: bool) -> Insn:
    d, _, _ = ln.reg("%")
    _comma(ln)
    op = _ALU[name]
    signed = name in ("sdiv", "smod")
    tok = ln.peek()
    src = b.Reg(ln.reg("%")[0]) if tok is not None and tok.kind == "reg" else ln.imm32()
    return (b.alu32 if is32 else b.alu64)(op, d, src, signed=signed)


def _jmp(ln: Line, name: str, is32: bool) -> Parsed:
    d, _, _ = ln.reg("%")
    _comma(ln)
    tok = ln.peek()
    src = b.Reg(ln.reg("%")[0]) if tok is not None and tok.kind == "reg" else ln.imm32()
    _comma(ln)
    target = _target(ln)
    return (b.jmp32 if is32 else b.jmp)(_JMP[name], d, src, 0), target


def _movsx(ln: Line, mnemonic: str) -> Insn:
    spec = {"movsx832": (8, 32), "movsx1632": (16, 32), "movsx864": (8, 64),
            "movsx1664": (16, 64), "movsx3264": (32, 64)}.get(mnemonic)  # fmt: skip
    if spec is None:
        raise ln.error(f"unknown mnemonic '{mnemonic}'", ln.tokens[0].col)
    d, _, _ = ln.reg("%")
    _comma(ln)
    s, _, _ = ln.reg("%")
    return b.movsx32(d, s, spec[0]) if spec[1] == 32 else b.movsx64(d, s, spec[0])


def _call(ln: Line) -> Parsed:
    tok = ln.peek()
    if tok is not None and tok.kind == "reg":
        return b.callx(ln.reg("%")[0]), None
    mode = "helper"
    if tok is not None and tok.text in ("helper", "local", "kfunc", "runtime"):
        mode = tok.text
        ln.pos += 1
    if mode == "local":
        return b.call_local(0), _wide_target(ln)
    imm = ln.imm32("helper number" if mode == "helper" else "BTF id")
    if mode == "helper":
        return b.call(imm), None
    off = 0
    if ln.accept(","):
        off = ln.off16("BTF fd index")
    return b.call_kfunc(imm, off), None


def _lock(ln: Line) -> Insn:
    if ln.done():
        raise ln.error(
            "invalid number of operands for lock: expected 'lock [fetch] OP [reg+off], reg'"
        )
    tok = ln.next("atomic operation")
    words = [tok.text]
    if tok.text == "fetch":
        words.append(ln.next("atomic operation").text)
    opname = "_".join(words)
    base, is32 = _split32(opname)
    fetch = base.startswith("fetch_")
    base = base.removeprefix("fetch_")
    if base in _ATOMIC:
        op = _ATOMIC[base] | (AtomicOp.FETCH if fetch else 0)
    elif base in ("xchg", "cmpxchg") and not fetch:
        op = AtomicOp.XCHG if base == "xchg" else AtomicOp.CMPXCHG
    else:
        raise ln.error(f"unknown atomic operation '{' '.join(words)}'", tok.col)
    if ln.done():
        raise ln.error("invalid number of operands for lock: expected '[reg+off], reg'")
    dst, off = _mem(ln)
    if ln.done():
        raise ln.error("invalid number of operands for lock: expected '[reg+off], reg'")
    _comma(ln)
    src, _, _ = ln.reg("%")
    return b.atomic(Size.W if is32 else Size.DW, op, dst, src, off)


def _lddw(ln: Line) -> Parsed:
    d, _, _ = ln.reg("%")
    _comma(ln)
    tok = ln.peek()
    if tok is not None and tok.kind == "id":
        kind = _PSEUDO.get(tok.text)
        if kind is None:
            raise ln.error(f"unknown lddw operand '{tok.text}'")
        ln.pos += 1
        ln.expect("(")
        target: Target | None = None
        nxt = ln.peek()
        if kind == PseudoSrc.FUNC and nxt is not None and nxt.kind == "id":
            target, lo = nxt.text, 0
            ln.pos += 1
        else:
            lo = ln.imm32("value")
        hi = 0
        if ln.accept(","):
            hi = ln.imm32("offset")
        ln.expect(")")
        imm = (hi & 0xFFFF_FFFF) << 32 | lo & 0xFFFF_FFFF
        return b.ld_imm64(d, imm, kind), target
    return b.ld_imm64(d, ln.imm64()), None


def _memop(ln: Line, mnemonic: str) -> Insn:
    for prefix in ("ldxs", "ldx", "stx", "st", "ldabs", "ldind"):
        rest = mnemonic[len(prefix) :]
        if mnemonic.startswith(prefix) and rest in _SIZES:
            size = _SIZES[rest]
            break
    else:
        raise ln.error(f"unknown mnemonic '{mnemonic}'", ln.tokens[0].col)
    if prefix in ("ldx", "ldxs"):
        d, _, _ = ln.reg("%")
        _comma(ln)
        s, off = _mem(ln)
        return (b.ldxsx if prefix == "ldxs" else b.ldx)(size, d, s, off)
    if prefix == "ldabs":
        return b.ld_abs(size, ln.imm32())
    if prefix == "ldind":
        s, _, _ = ln.reg("%")
        _comma(ln)
        return b.ld_ind(size, s, ln.imm32())
    d, off = _mem(ln)
    _comma(ln)
    if prefix == "stx":
        return b.stx(size, d, ln.reg("%")[0], off)
    return b.st_imm(size, d, off, ln.imm32())


def raw_insn(words: list[int]) -> Insn:
    """The instruction encoded by one or two 64-bit little-endian words (``.raw``)."""
    from pybpf.asm.insn import decode

    data = b"".join(w.to_bytes(8, "little") for w in words)
    out = decode(data)
    if len(out) != 1:
        raise ValueError("expected exactly one instruction")
    return out[0]


__all__ = ["parse_statement", "raw_insn"]
