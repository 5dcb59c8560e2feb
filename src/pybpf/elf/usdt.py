"""USDT probes: SystemTap SDT notes (``.note.stapsdt``) and their argument specs.

A note holds the probe's pc, the link-time address of ``.stapsdt.base`` and the semaphore's
address, then "provider\\0name\\0args\\0". If the file was prelinked, ``.stapsdt.base`` moved
and the pc moves with it. Arguments are GNU assembler operands with a size prefix:
``-4@%eax`` (signed 4-byte register), ``8@-8(%rbp)`` (memory), ``4@$5`` (constant),
``8@(%rax,%rbx,8)`` (base + index * scale). Only x86-64 operands are understood.
"""

from __future__ import annotations

import enum
import re
import struct

from pybpf.elf.reader import ElfError, ElfFile
from pybpf.records import dataclass

NT_STAPSDT = 3

# Offsets of the registers in x86-64 ``struct pt_regs``: what a BPF program reads.
PT_REGS_OFFSETS = {
    "r15": 0, "r14": 8, "r13": 16, "r12": 24, "rbp": 32, "rbx": 40, "r11": 48, "r10": 56,
    "r9": 64, "r8": 72, "rax": 80, "rcx": 88, "rdx": 96, "rsi": 104, "rdi": 112,
    "rip": 128, "rsp": 152,
}  # fmt: skip

_ALIASES: dict[str, str] = {}
for _r in ("ax", "bx", "cx", "dx"):
    _ALIASES.update({f"r{_r}": f"r{_r}", f"e{_r}": f"r{_r}", _r: f"r{_r}", f"{_r[0]}l": f"r{_r}"})
    _ALIASES[f"{_r[0]}h"] = f"r{_r}"
for _r in ("si", "di", "bp", "sp"):
    _ALIASES.update({f"r{_r}": f"r{_r}", f"e{_r}": f"r{_r}", _r: f"r{_r}", f"{_r}l": f"r{_r}"})
for _n in range(8, 16):
    for _suffix in ("", "d", "w", "b"):
        _ALIASES[f"r{_n}{_suffix}"] = f"r{_n}"
_ALIASES.update({"rip": "rip", "eip": "rip"})


class ArgKind(enum.Enum):
    """How a USDT argument's value is obtained."""

    CONST = "const"  # the value itself
    REG = "reg"  # the register's value
    MEM = "mem"  # *(reg + offset)
    SIB = "sib"  # *(reg + index * scale + offset)


@dataclass(frozen=True)
class ArgSpec:
    """One parsed USDT argument. ``reg``/``index`` are canonical 64-bit register names."""

    text: str
    size: int
    signed: bool
    kind: ArgKind
    value: int = 0  # the constant for CONST, the displacement for MEM/SIB
    reg: str = ""
    index: str = ""
    scale: int = 1
    symbol: str = ""  # a symbolic displacement such as ``counter(%rip)``

    @property
    def reg_offset(self) -> int:
        """Offset of ``reg`` in x86-64 ``struct pt_regs``."""
        return PT_REGS_OFFSETS[self.reg]

    @property
    def index_offset(self) -> int:
        """Offset of ``index`` in x86-64 ``struct pt_regs``."""
        return PT_REGS_OFFSETS[self.index]


_REG = r"%(\w+)"
_MEM_RE = re.compile(
    rf"^(?P<disp>[^(]*)\(\s*(?:{_REG})?\s*(?:,\s*{_REG}\s*(?:,\s*(?P<scale>\d+))?)?\s*\)$"
)
_DISP_RE = re.compile(r"^(?P<sym>[A-Za-z_.$][\w.$@]*)?\s*(?P<num>[-+]?\s*(?:0x[0-9a-fA-F]+|\d+))?$")


def _reg(name: str, text: str) -> str:
    canon = _ALIASES.get(name)
    if canon is None:
        raise ElfError(f"USDT argument '{text}': unknown register %{name}")
    return canon


def _int(text: str) -> int:
    return int(text.replace(" ", ""), 0)


def parse_arg(text: str) -> ArgSpec:
    """Parse one argument operand such as ``-4@-20(%rbp)``."""
    size_s, at, operand = text.partition("@")
    if not at:
        size_s, operand = "8", text  # operands without a size are pointer-sized
    try:
        size = int(size_s)
    except ValueError:
        raise ElfError(f"USDT argument '{text}': bad size") from None
    signed, size = size < 0, abs(size)
    if size not in (1, 2, 4, 8):
        raise ElfError(f"USDT argument '{text}': bad size {size}")
    operand = operand.strip()
    if operand.startswith("$"):
        try:
            return ArgSpec(text, size, signed, ArgKind.CONST, value=_int(operand[1:]))
        except ValueError:
            raise ElfError(f"USDT argument '{text}': bad constant") from None
    if operand.startswith("%"):
        return ArgSpec(text, size, signed, ArgKind.REG, reg=_reg(operand[1:], text))
    m = _MEM_RE.match(operand)
    if m is None:
        raise ElfError(f"USDT argument '{text}': unsupported operand")
    base, index, scale = m.group(2), m.group(3), m.group("scale")
    d = _DISP_RE.match(m.group("disp").strip())
    if d is None:
        raise ElfError(f"USDT argument '{text}': bad displacement")
    disp = _int(d.group("num")) if d.group("num") else 0
    sym = d.group("sym") or ""
    kind = ArgKind.SIB if index else ArgKind.MEM
    return ArgSpec(
        text,
        size,
        signed,
        kind,
        value=disp,
        reg=_reg(base, text) if base else "",
        index=_reg(index, text) if index else "",
        scale=int(scale) if scale else 1,
        symbol=sym,
    )


def parse_args(text: str) -> list[ArgSpec]:
    """Parse a note's space-separated argument string."""
    return [parse_arg(a) for a in text.split()]


@dataclass(frozen=True)
class UsdtProbe:
    """One USDT probe of a file. Addresses are virtual; ``*_offset`` are file offsets.

    ``offset`` is what the uprobe PMU attaches to; ``semaphore_offset`` (0 when there is no
    semaphore) is its ``ref_ctr_offset``.
    """

    path: str
    provider: str
    name: str
    pc: int
    base: int
    semaphore: int
    args_text: str
    offset: int
    semaphore_offset: int

    @property
    def args(self) -> list[ArgSpec]:
        """The parsed argument specs."""
        return parse_args(self.args_text)


def read_probes(elf: ElfFile) -> list[UsdtProbe]:
    """Every USDT probe of an open ELF file, in note order."""
    sec = elf.section(".note.stapsdt")
    if sec is None:
        return []
    base_sec = elf.section(".stapsdt.base")
    w = 8 if elf.is64 else 4
    fmt = f"{elf.bo}{'QQQ' if elf.is64 else 'III'}"
    out = []
    for note in elf.parse_notes(elf.section_data(sec)):
        if note.name != "stapsdt" or note.type != NT_STAPSDT or len(note.desc) < 3 * w:
            continue
        pc, base, sema = struct.unpack_from(fmt, note.desc, 0)
        strs = note.desc[3 * w :].split(b"\0")
        provider = strs[0].decode("utf-8", "replace")
        name = strs[1].decode("utf-8", "replace") if len(strs) > 1 else ""
        args = strs[2].decode("utf-8", "replace") if len(strs) > 2 else ""
        if base_sec is not None and base:
            # Prelinking moves .stapsdt.base; the probe moved by the same amount.
            pc += base_sec.addr - base
        out.append(
            UsdtProbe(
                elf.path,
                provider,
                name,
                pc,
                base,
                sema,
                args,
                offset=elf.vaddr_to_offset(pc),
                semaphore_offset=elf.vaddr_to_offset(sema) if sema else 0,
            )
        )
    return out


def usdt_probes(path: str) -> list[UsdtProbe]:
    """Every USDT probe of the ELF file at ``path``."""
    with ElfFile(path) as elf:
        return read_probes(elf)


__all__ = [
    "PT_REGS_OFFSETS",
    "ArgKind",
    "ArgSpec",
    "UsdtProbe",
    "parse_arg",
    "parse_args",
    "read_probes",
    "usdt_probes",
]
