"""``args`` of uprobes, typed from the target binary's DWARF (as bpftrace does).

Each parameter becomes a field of an ``args`` struct (origin ``"args"``, like fentry's) whose
offset is the saved register's offset in ``struct pt_regs``: code generation reads
``args.x`` as one u64 load from the context and narrows it to the parameter's width.
Parameters BPF cannot read (floating point in xmm registers, structs passed by value) are
left out but remembered, so that using them says "x has unsupported type"; a function with
parameters on the stack cannot use ``args`` at all (bpftrace's rule).  Pointers are user
pointers; structs behind them keep their DWARF layout (origin ``"dwarf"``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from pybpf.passes import types as T

if TYPE_CHECKING:
    from pybpf.elf.dwarf import DwType, Function
    from pybpf.lang import ast
    from pybpf.passes.context import PassContext
    from pybpf.passes.typecheck import Checker

PT_REGS_OFFSET = {"rdi": 112, "rsi": 104, "rdx": 96, "rcx": 88, "r8": 72, "r9": 64}
"""Byte offsets of the argument registers in x86-64 ``struct pt_regs`` (the uprobe ctx)."""

PT_REGS_SIZE = 168
"""``sizeof(struct pt_regs)`` on x86-64 (21 saved registers)."""

STACK_ARGS = "'args' builtin is not supported for probes with stack-passed arguments."


class DwarfTypes:
    """Converts DWARF types to front-end types (cached, so recursive structs terminate)."""

    def __init__(self) -> None:
        self._cache: dict[int, T.Type] = {}

    def convert(self, t: DwType) -> T.Type:
        """The front-end type of a value of DWARF type ``t`` (``none`` if unsupported)."""
        t = t.strip()
        hit = self._cache.get(id(t))
        if hit is None:
            hit = self._convert(t)
            self._cache[id(t)] = hit
        return hit

    def _convert(self, t: DwType) -> T.Type:
        if t.tag == "void":
            return T.VOID
        if t.tag == "base":
            if t.size not in (1, 2, 4, 8) or t.encoding not in _INT_ENCODINGS:
                return T.NONE
            return T.IntType(t.size * 8, t.encoding in _SIGNED)
        if t.tag == "enum":
            return T.IntType(max(t.size, 1) * 8, False) if t.size in (1, 2, 4, 8) else T.NONE
        if t.tag == "pointer":
            target = t.target.strip() if t.target is not None else None
            if target is None or target.tag in ("func", "void", "unknown"):
                return T.PointerType(T.VOID, T.AddrSpace.USER)
            return T.PointerType(self.convert(target), T.AddrSpace.USER)
        if t.tag == "array":
            elem = t.target.strip() if t.target is not None else None
            if elem is None:
                return T.NONE
            if elem.tag == "base" and elem.size == 1 and elem.encoding in _CHAR_ENCODINGS:
                return T.StringType(max(t.count, 1))
            return T.ArrayType(self.convert(elem), t.count)
        if t.tag in ("struct", "union"):
            return T.StructType(t.name, t.tag, t.size, "dwarf", resolver=lambda: self._fields(t))
        return T.NONE

    def _fields(self, t: DwType) -> tuple[T.Field, ...]:
        return tuple(
            T.Field(m.name, self.convert(m.type), m.offset, m.bit_offset, m.bit_size)
            for m in t.members
        )


# DW_ATE_* encodings (as in pybpf.elf.dwarf, not imported: a BEGIN-only script's type
# check must not load the ELF layer).
_SIGNED = frozenset({0x05, 0x06})  # signed, signed_char
_CHAR_ENCODINGS = frozenset({0x06, 0x08})  # signed_char, unsigned_char
_INT_ENCODINGS = _CHAR_ENCODINGS | {0x02, 0x05, 0x07}  # boolean, signed, unsigned


def args_struct(func: Function) -> tuple[T.StructType, bool]:
    """The ``args`` struct of ``func`` and whether some parameter is on the stack."""
    from pybpf.elf import abi

    conv = DwarfTypes()
    fields: list[T.Field] = []
    unsupported: set[str] = set()
    on_stack = False
    for p, loc in zip(func.params, abi.locate(func), strict=True):
        if loc.where is abi.Where.STACK:
            on_stack = True
        t = conv.convert(p.type) if loc.where is abi.Where.REG else T.NONE
        if isinstance(t, T.NoneType):
            # Not readable from a register (or of no BPF type): known by name, so that
            # using it says why, but not a field (``print(args)`` leaves it out).
            unsupported.add(p.name)
        else:
            fields.append(T.Field(p.name, t, PT_REGS_OFFSET[abi.ARG_REGS[loc.reg]]))
    done = tuple(f for f in fields if f.name)
    # The size of the whole context: ``print(args)`` copies it and decodes each field at
    # its register's offset (low bytes first: the value at the parameter's width).
    st = T.StructType(f"_uprobe_args_{func.name}", "struct", PT_REGS_SIZE, "args",
                      resolver=lambda: done)  # fmt: skip
    _UNSUPPORTED[id(st)] = frozenset(unsupported)
    # Forgotten with the struct (a long-lived API session compiles many scripts).
    weakref.finalize(st, _UNSUPPORTED.pop, id(st), None)
    return st, on_stack


# id(args struct) -> its unreadable parameters (while the struct lives).
_UNSUPPORTED: dict[int, frozenset[str]] = {}


def unsupported_param(st: T.StructType, name: str) -> bool:
    """Whether ``name`` is a parameter of ``st``'s function that BPF cannot read."""
    return name in _UNSUPPORTED.get(id(st), ())


def signature(t: T.Type) -> tuple[object, ...]:
    """What must agree between the matches of one probe using ``args`` (names, types,
    registers): one program serves them all."""
    if not isinstance(t, T.StructType):
        return (t,)
    return (*((f.name, str(f.type), f.offset) for f in t.fields), _UNSUPPORTED.get(id(t)))


def resolve(chk: Checker, ap: ast.AttachPoint, match: str) -> T.Type | None:
    """``args`` of one uprobe match, or None after reporting why there is none."""
    func = match.rsplit(":", 1)[-1] if match.count(":") >= 2 else ap.func
    where = f"{ap.provider}:{func}"
    if ap.address or ap.offset:
        chk.error(f"Unable to get arguments for {where}: args are only known at a "
                  "function's entry (no offset or address)", ap.span)  # fmt: skip
        return None
    lookup = getattr(chk.ctx.catalog, "uprobe_function", None)
    info: Function | None = lookup(ap.target, func) if lookup is not None else None
    if info is None:
        has = getattr(chk.ctx.catalog, "has_debug_info", None)
        why = f"No debuginfo found for {ap.target}"
        if has is not None and has(ap.target):
            why = f"{func} not found in the debug info of {ap.target}"
        chk.error(f"Unable to get arguments for {where}: {why}", ap.span)
        return None
    st, on_stack = args_struct(info)
    if on_stack:
        chk.error(STACK_ARGS, ap.span)
        return None
    if not info.params:
        chk.error("Cannot read function parameters", ap.span)
        return None
    return st


def probe_uprobe_args(chk: Checker, probe: ast.Probe) -> T.Type:
    """``args`` of a uprobe probe: every match must have the same parameters."""
    ctx = chk.ctx
    first: T.Type | None = None
    for ap in probe.attach_points:
        for match in ap.matches or [ap.name]:
            t = ctx.args_by_match.get(match)
            if t is None:
                t = resolve(chk, ap, match)
                if t is None:
                    return T.NONE
                ctx.args_by_match[match] = t
            if first is None:
                first = t
            elif signature(t) != signature(first):
                chk.error("Probe has attach points with mixed arguments", ap.span)
                return T.NONE
    return first if first is not None else T.NONE


_CONVERTER = DwarfTypes()  # DWARF types live as long as their file's cache entry


def struct_resolver(
    ctx: PassContext, probe: ast.Probe
) -> Callable[[str, str, bool], T.StructType | None] | None:
    """In a uprobe, ``struct X`` (casts, sizeof) also names the target binary's DWARF
    struct, as in bpftrace; None elsewhere.  The resolver looks in the probed function's
    compile unit, or (``everywhere``) in every unit."""
    aps = probe.attach_points
    lookup = getattr(ctx.catalog, "uprobe_struct", None)
    if lookup is None or not aps or any(ap.provider not in _UPROBES for ap in aps):
        return None

    def resolve(name: str, kind: str, everywhere: bool) -> T.StructType | None:
        for ap in aps:
            near = "" if any(c in ap.func for c in "*?[") else ap.func
            if not near and not everywhere:
                continue
            dt = lookup(ap.target, name, kind, near, everywhere)
            if dt is not None:
                t = _CONVERTER.convert(dt)
                if isinstance(t, T.StructType):
                    return t
        return None

    return resolve


_UPROBES = ("uprobe", "uretprobe")


def is_funcarg(t: T.Type) -> bool:
    """True for an ``args`` struct of function parameters (uprobe, fentry, raw tracepoint)."""
    return isinstance(t, T.StructType) and t.origin == "args"


__all__ = [
    "PT_REGS_OFFSET",
    "STACK_ARGS",
    "DwarfTypes",
    "args_struct",
    "is_funcarg",
    "probe_uprobe_args",
    "resolve",
    "signature",
    "struct_resolver",
    "unsupported_param",
]
