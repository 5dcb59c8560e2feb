"""Formatters: disassembly records -> text in the ``%r`` dialect, the C-like dialect, or
exactly what ``bpftool prog dump xlated`` prints.

``rfmt`` and ``c`` output re-assembles to the same bytes (invalid encodings come out as
``.raw`` words). ``xlated`` follows the kernel's ``print_bpf_insn`` and bpftool's callbacks:
helper calls are named from the registry when imm is a helper id, else by ``resolve_call``
(bpftool resolves translated calls through /proc/kallsyms; see :func:`kallsyms_resolver`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from pybpf.asm.disasm import Record, disassemble, disassemble_one
from pybpf.asm.forms import Form
from pybpf.asm.helpers import helper_name
from pybpf.asm.insn import Insn
from pybpf.asm.opcodes import AluOp, AtomicOp, Class, JmpOp, PseudoSrc, Size
from pybpf.records import replace

CallResolver = Callable[[Insn], "str | None"]

LDST = {Size.W: "u32", Size.H: "u16", Size.B: "u8", Size.DW: "u64"}
LDSX = {Size.W: "s32", Size.H: "s16", Size.B: "s8"}
ALU_OPS = {
    AluOp.ADD: "+=", AluOp.SUB: "-=", AluOp.MUL: "*=", AluOp.DIV: "/=", AluOp.OR: "|=",
    AluOp.AND: "&=", AluOp.LSH: "<<=", AluOp.RSH: ">>=", AluOp.MOD: "%=", AluOp.XOR: "^=",
    AluOp.MOV: "=", AluOp.ARSH: "s>>=",
}  # fmt: skip
SIGNED_ALU_OPS = {AluOp.DIV: "s/=", AluOp.MOD: "s%="}
JMP_OPS = {
    JmpOp.JEQ: "==", JmpOp.JGT: ">", JmpOp.JLT: "<", JmpOp.JGE: ">=", JmpOp.JLE: "<=",
    JmpOp.JSET: "&", JmpOp.JNE: "!=", JmpOp.JSGT: "s>", JmpOp.JSLT: "s<", JmpOp.JSGE: "s>=",
    JmpOp.JSLE: "s<=",
}  # fmt: skip


def format_rfmt_line(rec: Record) -> str:
    """One record in the ``%r`` dialect: ``add32 %r0, 1``."""
    if not rec.operands:
        return rec.mnemonic
    return f"{rec.mnemonic} {', '.join(str(op) for op in rec.operands)}"


def _mem(insn: Insn, base: int, sign: bool = False) -> str:
    size = Size(insn.opcode & 0x18)
    return f"*({LDSX[size] if sign else LDST[size]} *)(r{base} {insn.off:+d})"


def _body(rec: Record, xlated: bool, resolve_call: CallResolver | None) -> str:
    """The C-like text of one record; ``xlated`` selects bpftool's lossy spellings."""
    insn, form = rec.insn, rec.form
    if form is None:
        if not xlated:
            return format_rfmt_line(rec)
        if insn.opcode == 0xC2:  # BPF_ST|BPF_NOSPEC, kernel-internal
            return "nospec"
        # The kernel's printer ignores fields a form does not use (bpftool shows the
        # per-CPU address move "mov r0, r0" with off -1 as "r0 = r0"): do the same.
        lenient = _lenient(rec)
        if lenient is None or lenient.form is None:
            return _bug(insn)
        form = lenient.form
    r = "w" if insn.opcode & 0x07 in (Class.ALU, Class.JMP32) else "r"
    d, s = insn.dst, insn.src
    op = insn.opcode & 0xF0
    if form == Form.ALU_REG or form == Form.ALU_IMM:
        signed = insn.off == 1 and op in SIGNED_ALU_OPS
        sym = SIGNED_ALU_OPS[AluOp(op)] if signed else ALU_OPS[AluOp(op)]
        rhs = f"{r}{s}" if form == Form.ALU_REG else str(insn.imm)
        return f"{r}{d} {sym} {rhs}"
    if form == Form.MOVSX:
        return f"{r}{d} = (s{insn.off}){r}{s}"
    if form == Form.NEG:
        return f"{r}{d} = -{r}{d}"
    if form == Form.ENDIAN:
        return f"r{d} = {'be' if insn.opcode & 0x08 else 'le'}{insn.imm} r{d}"
    if form == Form.BSWAP:
        return f"r{d} = bswap{insn.imm} r{d}"
    if form == Form.LDDW:
        return f"r{d} = {_lddw(insn, xlated)}"
    if form == Form.LD_ABS:
        return f"r0 = *({LDST[Size(insn.opcode & 0x18)]} *)skb[{insn.imm}]"
    if form == Form.LD_IND:
        return f"r0 = *({LDST[Size(insn.opcode & 0x18)]} *)skb[r{s} + {insn.imm}]"
    if form in (Form.LDX, Form.LDXSX):
        return f"r{d} = {_mem(insn, s, form == Form.LDXSX)}"
    if form == Form.ST:
        return f"{_mem(insn, d)} = {insn.imm}"
    if form == Form.STX:
        return f"{_mem(insn, d)} = r{s}"
    if form == Form.ATOMIC:
        return _atomic(insn)
    return _jump(insn, form, r, xlated, resolve_call)


def _bug(insn: Insn) -> str:
    """The kernel printer's text for an opcode it does not know, by class."""
    where = {Class.LD: "ld_", Class.LDX: "ldx_", Class.ST: "st_"}.get(Class(insn.opcode & 7), "")
    return f"BUG_{where}{insn.opcode:02x}"


def _lenient(rec: Record) -> Record | None:
    """The record with the fewest unused fields zeroed that makes it a valid form."""
    alt = disassemble_one(rec.insn, rec.index, max_reg=11)  # r11: the kernel's AX register
    if alt.form is not None:
        return alt
    fields = ("off", "src", "imm", "dst")
    for subset in combinations_all(fields):
        cand = replace(rec.insn, **{f: 0 for f in subset})
        alt = disassemble_one(cand, rec.index)
        if alt.form is not None:
            return alt
    return None


def combinations_all(fields: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every non-empty subset of ``fields``, smallest first."""
    from itertools import combinations

    return [c for n in range(1, len(fields) + 1) for c in combinations(fields, n)]


def _lddw(insn: Insn, xlated: bool) -> str:
    imm = insn.imm & 0xFFFF_FFFF_FFFF_FFFF
    lo, hi = imm & 0xFFFF_FFFF, imm >> 32
    if insn.src == PseudoSrc.MAP_FD:
        # bpftool prints "map[id:%u]" from the low half only.
        return f"map[id:{lo}]" if xlated or not hi else f"map[id:{lo}][hi:{hi}]"
    if xlated or insn.src == PseudoSrc.NONE:
        return f"0x{imm:x}" + ("" if xlated else " ll")
    if insn.src == PseudoSrc.MAP_VALUE:
        return f"map[id:{lo}][0]+{hi}"
    if insn.src == PseudoSrc.MAP_IDX:
        return f"map[idx:{lo}]" + (f"[hi:{hi}]" if hi else "")
    if insn.src == PseudoSrc.MAP_IDX_VALUE:
        return f"map[idx:{lo}][0]+{hi}"
    if insn.src == PseudoSrc.BTF_ID:
        return f"btf_id[{lo}]" + (f"[hi:{hi}]" if hi else "")
    rel = lo - (1 << 32) if lo >= 1 << 31 else lo
    return f"subprog[{rel:+d}]" + (f"[hi:{hi}]" if hi else "")


def _atomic(insn: Insn) -> str:
    d, s, imm = insn.dst, insn.src, insn.imm
    is64 = insn.opcode & 0x18 == Size.DW
    ptr = f"({LDST[Size(insn.opcode & 0x18)]} *)(r{d} {insn.off:+d})"
    if imm in (AtomicOp.ADD, AtomicOp.AND, AtomicOp.OR, AtomicOp.XOR):
        return f"lock *{ptr} {ALU_OPS[AluOp(imm)]} r{s}"
    w = "64" if is64 else ""
    if imm == AtomicOp.CMPXCHG:
        return f"r0 = atomic{w}_cmpxchg({ptr}, r0, r{s})"
    if imm == AtomicOp.XCHG:
        return f"r{s} = atomic{w}_xchg({ptr}, r{s})"
    name = {AtomicOp.ADD: "add", AtomicOp.AND: "and", AtomicOp.OR: "or", AtomicOp.XOR: "xor"}
    return f"r{s} = atomic{w}_fetch_{name[AtomicOp(imm & 0xF0)]}({ptr}, r{s})"


def _jump(insn: Insn, form: Form, r: str, xlated: bool, resolve_call: CallResolver | None) -> str:
    if form == Form.EXIT:
        return "exit"
    if form == Form.JA:
        return f"goto pc{insn.off:+d}"
    if form == Form.GOTOL:
        return f"gotol pc{insn.imm:+d}"
    if form == Form.MAY_GOTO:
        return f"may_goto pc{insn.off:+d}"
    if form == Form.CALLX:
        return f"callx r{insn.dst}"
    if form == Form.CALL_LOCAL:
        if not xlated:
            return f"call pc{insn.imm:+d}"
        # bpftool prints a translated local call by its off field (the kernel keeps the
        # relative target there) and names the JITed subprogram when it can.
        name = resolve_call(insn) if resolve_call else None
        return f"call pc{insn.off:+d}" + (f"#{name}" if name else "")
    if form == Form.CALL_KFUNC:
        kname = (resolve_call(insn) if resolve_call and xlated else None) or "kernel-function"
        btf = f"[btf:{insn.off}]" if insn.off and not xlated else ""
        return f"call {kname}#{insn.imm}{btf}"
    if form == Form.CALL_HELPER:
        hname = helper_name(insn.imm)
        if hname is None and resolve_call is not None:
            hname = resolve_call(insn)
        return f"call {hname or 'unknown'}#{insn.imm}"
    op = JMP_OPS[JmpOp(insn.opcode & 0xF0)]
    rhs = f"{r}{insn.src}" if form == Form.JMP_REG else f"0x{insn.imm & 0xFFFF_FFFF:x}"
    return f"if {r}{insn.dst} {op} {rhs} goto pc{insn.off:+d}"


def format_c_line(rec: Record) -> str:
    """One record in the C-like (kernel verifier / LLVM) dialect: ``r1 += 8``."""
    return _body(rec, False, None)


def format_xlated_line(rec: Record, resolve_call: CallResolver | None = None) -> str:
    """One record exactly as ``bpftool prog dump xlated`` prints it: ``   0: (b7) r0 = 0``."""
    try:
        body = _body(rec, True, resolve_call)
    except (KeyError, ValueError):
        # An invalid field the lenient reading kept (an unknown atomic op, say): the
        # kernel's printer says BUG too.
        body = _bug(rec.insn)
    return f"{rec.index:4d}: ({rec.insn.opcode:02x}) {body}"


def _records(prog: Sequence[Insn] | Iterable[Record]) -> list[Record]:
    items = list(prog)
    if items and isinstance(items[0], Insn):
        return disassemble([i for i in items if isinstance(i, Insn)])
    return [r for r in items if isinstance(r, Record)]


def format_rfmt(prog: Sequence[Insn] | Iterable[Record], labels: bool = False) -> str:
    """A whole program in the ``%r`` dialect, one instruction a line.

    ``labels`` names every jump and call target ``L<slot>:`` instead of writing offsets.
    """
    return _program(_records(prog), format_rfmt_line, labels)


def format_c(prog: Sequence[Insn] | Iterable[Record], labels: bool = False) -> str:
    """A whole program in the C-like dialect, one instruction a line (``labels`` as above)."""
    return _program(_records(prog), format_c_line, labels)


def _program(recs: list[Record], line: Callable[[Record], str], labels: bool) -> str:
    if not labels:
        return "".join(line(r) + "\n" for r in recs)
    starts = {r.index for r in recs}
    names = {t: f"L{t}" for r in recs if (t := _dest(r)) is not None and t in starts}
    out = []
    for rec in recs:
        if rec.index in names:
            out.append(f"{names[rec.index]}:\n")
        text = line(rec)
        dest = _dest(rec)
        if dest in names:
            text = _relabel(text, rec, names[dest])
        out.append(("    " + text if names else text) + "\n")
    return "".join(out)


def _dest(rec: Record) -> int | None:
    """Absolute target slot of a jump, local call or lddw of a function."""
    if rec.target is not None:
        return rec.target
    insn = rec.insn
    if rec.form == Form.LDDW and insn.src == PseudoSrc.FUNC and not insn.imm >> 32:
        lo = insn.imm & 0xFFFF_FFFF
        return rec.index + 1 + (lo - (1 << 32) if lo >= 1 << 31 else lo)
    return None


def _relabel(text: str, rec: Record, name: str) -> str:
    """Replace the relative target at the end of ``text`` with ``name``."""
    dest = _dest(rec)
    assert dest is not None
    rel = dest - rec.index - (1 if rec.form == Form.LDDW else rec.insn.slots)
    for old, new in (
        (f"pc{rel:+d}", name),
        (f"subprog[{rel:+d}]", f"subprog[{name}]"),
        (f"func({rel:+d})", f"func({name})"),
        (f"{rel:+d}", name),
    ):
        if text.endswith(old):
            return text[: -len(old)] + new
    return text


def format_xlated(
    prog: Sequence[Insn] | Iterable[Record], resolve_call: CallResolver | None = None
) -> str:
    """A whole program as bpftool's ``dump xlated`` (lddw numbering skips its second slot)."""
    return "".join(format_xlated_line(r, resolve_call) + "\n" for r in _records(prog))


def kallsyms_resolver(text: str) -> CallResolver:
    """Name translated helper calls the way bpftool does, from ``/proc/kallsyms`` text.

    In a translated program a helper call's imm is the helper's address minus
    ``__bpf_call_base``; the name is the symbol at exactly that address.
    """
    by_addr: dict[int, str] = {}
    base = None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        try:
            addr = int(parts[0], 16)
        except ValueError:
            continue
        if parts[2] == "__bpf_call_base":
            base = addr
        if addr:
            by_addr.setdefault(addr, parts[2])

    def resolve(insn: Insn) -> str | None:
        if base is None or not base:
            return None
        return by_addr.get(base + insn.imm)

    return resolve


__all__ = [
    "CallResolver",
    "format_c",
    "format_c_line",
    "format_rfmt",
    "format_rfmt_line",
    "format_xlated",
    "format_xlated_line",
    "kallsyms_resolver",
]
