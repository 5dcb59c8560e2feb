"""Classic BPF instructions: opcode constants, the instruction value and tcpdump's listings.

The three listing styles are those of ``tcpdump -d``, ``-dd`` and ``-ddd`` (libpcap's
``bpf_image`` and tcpdump's ``bpf_dump``), reproduced character for character so that a
listing can be compared with tcpdump's as text.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from pybpf.records import dataclass

# Classes.
LD, LDX, ST, STX, ALU, JMP, RET, MISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
# Sizes.
W, H, B = 0x00, 0x08, 0x10
# Modes.
IMM, ABS, IND, MEM, LEN, MSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xA0
# ALU operations.
ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR = (
    0x00,
    0x10,
    0x20,
    0x30,
    0x40,
    0x50,
    0x60,
    0x70,
    0x80,
    0x90,
    0xA0,
)
# Jumps.
JA, JEQ, JGT, JGE, JSET = 0x00, 0x10, 0x20, 0x30, 0x40
# Sources.
K, X = 0x00, 0x08
# RET sources and MISC operations.
RET_A = 0x10
TAX, TXA = 0x00, 0x80
# Linux's ancillary-data loads live at negative offsets from SKF_AD_OFF.
SKF_AD_OFF = -0x1000
SKF_AD_PKTTYPE = 4
SKF_AD_VLAN_TAG = 44
SKF_AD_VLAN_TAG_PRESENT = 48
# How bpf_image names Linux ancillary-data loads (offsets from SKF_AD_OFF).
ANCILLARY = {0: "proto", 4: "type", 8: "ifidx", 12: "nla", 16: "nlan", 20: "mark", 24: "queue",
             28: "hatype", 32: "rxhash", 36: "cpu", 44: "vlan_tci", 48: "vlanp", 56: "rand"}  # fmt: skip
MEMWORDS = 16

U32 = 0xFFFF_FFFF


def bpf_class(code: int) -> int:
    """Instruction class (low 3 bits)."""
    return code & 0x07


def bpf_op(code: int) -> int:
    """ALU or jump operation."""
    return code & 0xF0


def bpf_src(code: int) -> int:
    """K or X operand."""
    return code & 0x08


def bpf_size(code: int) -> int:
    """Load width."""
    return code & 0x18


def bpf_mode(code: int) -> int:
    """Load addressing mode."""
    return code & 0xE0


@dataclass(frozen=True, slots=True)
class CInsn:
    """One classic BPF instruction (``struct sock_filter``)."""

    code: int
    jt: int = 0
    jf: int = 0
    k: int = 0

    def encode(self) -> bytes:
        """Host-order ``struct sock_filter`` bytes (as the kernel's SO_ATTACH_FILTER wants)."""
        return struct.pack("=HBBI", self.code, self.jt, self.jf, self.k & U32)


def encode(prog: Sequence[CInsn]) -> bytes:
    """A whole program as ``struct sock_filter`` array bytes."""
    return b"".join(i.encode() for i in prog)


def _s32(v: int) -> int:
    v &= U32
    return v - (1 << 32) if v & 0x8000_0000 else v


_ALU_NAMES = {
    ADD: "add",
    SUB: "sub",
    MUL: "mul",
    DIV: "div",
    MOD: "mod",
    AND: "and",
    OR: "or",
    XOR: "xor",
    LSH: "lsh",
    RSH: "rsh",
}
_JMP_NAMES = {JEQ: "jeq", JGT: "jgt", JGE: "jge", JSET: "jset"}
_SIZE_NAMES = {W: "ld", H: "ldh", B: "ldb"}


def _op_operand(ins: CInsn, n: int) -> tuple[str, str]:
    """Mnemonic and operand text exactly as libpcap's ``bpf_image`` prints them."""
    code, k = ins.code, ins.k
    cls = bpf_class(code)
    if cls == RET:
        return "ret", ("" if bpf_op(code) == RET_A else f"#{_s32(k)}")
    if cls == LD:
        mode = bpf_mode(code)
        name = _SIZE_NAMES.get(bpf_size(code), "ld")
        if mode == ABS:
            off = _s32(k) - SKF_AD_OFF
            if _s32(k) < 0 and off in ANCILLARY:
                return name, f"[{ANCILLARY[off]}]"
            return name, f"[{_s32(k)}]"
        if mode == IND:
            return name, f"[x + {_s32(k)}]"
        if mode == LEN:
            return "ld", "#pktlen"
        if mode == IMM:
            return "ld", f"#0x{k & U32:x}"
        if mode == MEM:
            return "ld", f"M[{_s32(k)}]"
    if cls == LDX:
        mode = bpf_mode(code)
        if mode == IMM:
            return "ldx", f"#0x{k & U32:x}"
        if mode == MSH:
            return "ldxb", f"4*([{_s32(k)}]&0xf)"
        if mode == MEM:
            return "ldx", f"M[{_s32(k)}]"
        if mode == LEN:
            return "ldx", "#pktlen"
    if cls == ST:
        return "st", f"M[{_s32(k)}]"
    if cls == STX:
        return "stx", f"M[{_s32(k)}]"
    if cls == JMP:
        op = bpf_op(code)
        if op == JA:
            return "ja", f"{n + 1 + (k & U32)}"
        name = _JMP_NAMES.get(op, "unimp")
        return name, ("x" if bpf_src(code) == X else f"#0x{k & U32:x}")
    if cls == ALU:
        op = bpf_op(code)
        if op == NEG:
            return "neg", ""
        name = _ALU_NAMES.get(op, "unimp")
        if bpf_src(code) == X:
            return name, "x"
        if op in (AND, OR, XOR):
            return name, f"#0x{k & U32:x}"
        return name, f"#{_s32(k)}"
    if cls == MISC:
        return ("tax" if code & 0xF8 == TAX else "txa"), ""
    return "unimp", f"0x{code:x}"


def image(ins: CInsn, n: int) -> str:
    """One ``tcpdump -d`` line for instruction ``n``."""
    op, operand = _op_operand(ins, n)
    if bpf_class(ins.code) == JMP and bpf_op(ins.code) != JA:
        return f"({n:03d}) {op:<8} {operand:<16} jt {n + 1 + ins.jt}\tjf {n + 1 + ins.jf}"
    return f"({n:03d}) {op:<8} {operand}"


def listing(prog: Iterable[CInsn], style: str = "d") -> str:
    """The program as ``tcpdump -d`` (style "d"), ``-dd`` ("dd") or ``-ddd`` ("ddd") prints it."""
    insns = list(prog)
    if style == "d":
        lines = [image(i, n) for n, i in enumerate(insns)]
    elif style == "dd":
        lines = [f"{{ 0x{i.code:x}, {i.jt}, {i.jf}, 0x{i.k & U32:08x} }}," for i in insns]
    elif style == "ddd":
        lines = [str(len(insns))] + [f"{i.code} {i.jt} {i.jf} {i.k & U32}" for i in insns]
    else:
        raise ValueError(f"unknown listing style {style!r}")
    return "\n".join(lines) + "\n"


_MNEMONIC_LD = {"ld": W, "ldh": H, "ldb": B}


def parse_listing(text: str) -> list[CInsn]:
    """Read a ``tcpdump -d`` listing back into instructions (the inverse of :func:`listing`)."""
    out: list[CInsn] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        close = line.index(")")
        n = int(line[1:close])
        body = line[close + 2 :]
        op = body[:8].strip()
        rest = body[9:]
        jt = jf = 0
        if "jt " in rest:
            operand, _, tail = rest.partition(" jt ")
            jts, _, jfs = tail.partition("\tjf ")
            jt, jf = int(jts) - n - 1, int(jfs) - n - 1
            rest = operand
        out.append(_parse_one(op, rest.strip(), n, jt, jf))
    return out


def _num(text: str) -> int:
    return int(text, 16) if text.startswith("0x") else int(text)


def _parse_one(op: str, arg: str, n: int, jt: int, jf: int) -> CInsn:
    if op == "ret":
        return CInsn(RET | (RET_A if not arg else K), 0, 0, _num(arg[1:]) & U32 if arg else 0)
    if op in _MNEMONIC_LD:
        size = _MNEMONIC_LD[op]
        if arg == "#pktlen":
            return CInsn(LD | W | LEN)
        if arg.startswith("#"):
            return CInsn(LD | IMM, 0, 0, _num(arg[1:]) & U32)
        if arg.startswith("M["):
            return CInsn(LD | MEM, 0, 0, int(arg[2:-1]))
        if arg.startswith("[x + "):
            return CInsn(LD | IND | size, 0, 0, int(arg[5:-1]) & U32)
        inner = arg[1:-1]
        names = {v: k for k, v in ANCILLARY.items()}
        if inner in names:
            return CInsn(LD | ABS | size, 0, 0, (SKF_AD_OFF + names[inner]) & U32)
        return CInsn(LD | ABS | size, 0, 0, int(inner) & U32)
    if op == "ldx":
        if arg.startswith("M["):
            return CInsn(LDX | MEM, 0, 0, int(arg[2:-1]))
        if arg == "#pktlen":
            return CInsn(LDX | W | LEN)
        return CInsn(LDX | IMM, 0, 0, _num(arg[1:]) & U32)
    if op == "ldxb":
        return CInsn(LDX | MSH | B, 0, 0, int(arg[4:].split("]")[0]))
    if op in ("st", "stx"):
        return CInsn(ST if op == "st" else STX, 0, 0, int(arg[2:-1]))
    if op == "ja":
        return CInsn(JMP | JA, 0, 0, int(arg) - n - 1)
    if op == "tax":
        return CInsn(MISC | TAX)
    if op == "txa":
        return CInsn(MISC | TXA)
    if op == "neg":
        return CInsn(ALU | NEG)
    jmps = {v: k for k, v in _JMP_NAMES.items()}
    alus = {v: k for k, v in _ALU_NAMES.items()}
    src = X if arg == "x" else K
    k = 0 if arg == "x" else _num(arg[1:]) & U32
    if op in jmps:
        return CInsn(JMP | jmps[op] | src, jt, jf, k)
    if op in alus:
        return CInsn(ALU | alus[op] | src, 0, 0, k)
    raise ValueError(f"cannot parse listing line for {op!r}")
