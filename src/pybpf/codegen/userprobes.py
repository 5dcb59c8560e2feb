"""Programs for process-level probes: uprobes (one per match), USDT (one per probe site, so
each gets its own argument specs), watchpoints, and the kernel-function probes this kernel
may lack (compiled anyway; attaching reports what is missing).

Also the builtins that depend on them: ``cpid`` (read from a one-entry array user space
fills in after starting the child), ``argN`` of USDT probes (from the note's operand
specs), ``func`` of uprobes (the probed address and the pid, printed as a symbol) and a
uprobe's whole ``args`` (its DWARF-typed parameters; ``args.x`` is a context load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.asm.opcodes import AluOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, R6
from pybpf.codegen.frame import CodegenError, Val
from pybpf.codegen.helpers import Helper
from pybpf.codegen.spec import MapDef, ProgDef
from pybpf.lang import ast
from pybpf.passes.types import IntType, StructType, Type
from pybpf.procs import PROVIDERS

if TYPE_CHECKING:
    from pybpf.codegen.probe import ProbeGen
    from pybpf.codegen.script import ScriptGen
    from pybpf.elf.usdt import ArgSpec


CPID_MAP = "cpid"
"""One-entry array holding the ``-c`` child's pid (written before programs load)."""

_PROG_TYPES = {"watchpoint": "perf_event", "asyncwatchpoint": "perf_event"}


def generate(sg: ScriptGen, probe: ast.Probe, ap: ast.AttachPoint) -> None:
    """Append the program(s) of attach point ``ap`` of ``probe`` to the script."""
    from pybpf.codegen.probe import ProbeGen

    prov = ap.provider
    if prov == "usdt":
        _usdt(sg, probe, ap)
        return
    matches = ap.matches or [ap.name]
    ptype = _PROG_TYPES.get(prov, "kprobe")
    if prov in ("uprobe", "uretprobe") and len(matches) > 1 and not _uses_probe(probe):
        _uprobe_multi(sg, probe, ap, matches)
        return
    target = in_process(ap.target, sg.pid)
    for match in matches:
        # A wildcard's matches name their functions; a plain point keeps its func (+off).
        func = match.rsplit(":", 1)[-1] if any(c in ap.func for c in "*?[") else ap.func
        gen = ProbeGen(sg, probe, sg._probe_id(match), user_space=prov.startswith("u"))
        if func:
            gen.func_name = func_name_id(sg, func)  # type: ignore[attr-defined]
        code = gen.generate()
        info = _info(ap)
        info["func"] = func
        if target:
            info["target"] = target
        sg.out.progs.append(ProgDef(match, ptype, prov, code, [info], label=match, span=ap.span))


def _uses_probe(probe: ast.Probe) -> bool:
    return any(isinstance(n, ast.Builtin) and n.name == "probe" for n in ast.walk(probe))


def _uprobe_multi(sg: ScriptGen, probe: ast.Probe, ap: ast.AttachPoint, matches: list[str]) -> None:
    """One program on one ``uprobe_multi`` link for every match of a wildcard: attaching
    and (above all) detaching hundreds of single uprobes takes seconds, one link does not.
    Each match keeps an attach entry (bpftrace's probe count); the first carries the link.
    """
    from pybpf.codegen.probe import ProbeGen

    gen = ProbeGen(sg, probe, sg._probe_id(matches[0]), user_space=True)
    gen.func_name = -1  # type: ignore[attr-defined]  # from the link's cookie
    code = gen.generate()
    funcs = [m.rsplit(":", 1)[-1] for m in matches]
    cookies = [func_name_id(sg, f) for f in funcs]
    attach: list[dict[str, object]] = []
    for i, f in enumerate(funcs):
        info = _info(ap)
        info.update(func=f, multi=funcs if i == 0 else [], cookies=cookies if i == 0 else [])
        attach.append(info)
    sg.out.progs.append(ProgDef(matches[0], "kprobe", ap.provider, code, attach,
                                label=ap.name, span=ap.span))  # fmt: skip


def _info(ap: ast.AttachPoint) -> dict[str, object]:
    return {
        "provider": ap.provider,
        "target": ap.target,
        "func": ap.func,
        "offset": ap.offset,
        "address": ap.address,
        "length": ap.length,
        "mode": ap.mode,
    }


def _usdt(sg: ScriptGen, probe: ast.Probe, ap: ast.AttachPoint) -> None:
    from pybpf import elf
    from pybpf.codegen.probe import ProbeGen
    from pybpf.elf.reader import ElfError

    matches = ap.matches or [ap.name]
    for match in matches:
        parts = match.split(":")
        ns, name = (parts[-2], parts[-1]) if len(parts) >= 4 else ("", parts[-1])
        path = in_process(ap.target, sg.pid) or ap.target
        try:
            sites = [
                p
                for p in elf.usdt_probes(elf.resolve_binary(path))
                if p.name == name and (not ns or p.provider == ns)
            ]
        except (ElfError, OSError) as e:
            raise CodegenError(f"usdt {path}: {e}", ap.span) from None
        if not sites:
            raise CodegenError(f"usdt probe not found: {match}", ap.span)
        for site in sites:
            gen = ProbeGen(sg, probe, sg._probe_id(f"usdt:{site.path}:{site.provider}:{name}"),
                           user_space=True)  # fmt: skip
            try:
                gen.usdt_args = site.args  # type: ignore[attr-defined]
            except ElfError as e:
                raise CodegenError(str(e), ap.span) from None
            code = gen.generate()
            info = _info(ap)
            info.update(target=site.path, offset=site.offset, semaphore=site.semaphore_offset,
                        func=f"{site.provider}:{name}")  # fmt: skip
            label = f"usdt:{site.path}:{site.provider}:{name}"
            sg.out.progs.append(ProgDef(label, "kprobe", "usdt", code, [info], label=label,
                                        span=ap.span))  # fmt: skip


def in_process(name: str, pid: int) -> str | None:
    """The file mapped by process ``pid`` that binary/library ``name`` means, or None.

    ``-p PID`` probes go where that process's code lives: its own ``python3.11`` or
    ``libc`` (by path, or by a name that its file's base name starts with).
    """
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/maps") as f:
            paths = [ln.split(None, 5)[5].strip() for ln in f if len(ln.split(None, 5)) > 5]
    except OSError:
        return None
    files = list(dict.fromkeys(p for p in paths if p.startswith("/")))
    if name in files:
        return name
    base = name.rsplit("/", 1)[-1]
    for path in files:
        b = path.rsplit("/", 1)[-1]
        if b == base or b.startswith((base + ".", "lib" + base + ".", base + "-")):
            return f"/proc/{pid}/root{path}" if not _exists(path) else path
    return None


def _exists(path: str) -> bool:
    import os

    return os.path.exists(path)


def cpid_map(sg: ScriptGen) -> str:
    """The child-pid array (created on first use)."""
    if CPID_MAP not in sg.out.maps:
        sg.out.maps[CPID_MAP] = MapDef(CPID_MAP, "array", 4, 8, 1)
    return CPID_MAP


def user_builtin(gen: ProbeGen, e: ast.Builtin, t: Type) -> Val | None:
    """``cpid``, USDT ``argN`` and uprobe ``func``; None for every other builtin."""
    name = e.name
    if name == "cpid":
        mname = cpid_map(gen.script)
        v = gen.frame.new_reg(t)
        gen.em.ld_map_value(v.reg, mname, 0)
        gen.em.ldx(8, v.reg, v.reg, 0)
        return v
    specs: list[ArgSpec] | None = getattr(gen, "usdt_args", None)
    if specs is not None and name.startswith("arg") and name[3:].isdigit():
        i = int(name[3:])
        if i >= len(specs):
            raise CodegenError(f"usdt probe has {len(specs)} arguments: {name} is not one", e.span)
        return usdt_arg(gen, specs[i], t)
    if name == "func" and gen.user_space_default and getattr(gen, "usdt_args", None) is None:
        return _func_usym(gen, t)
    if name == "args" and isinstance(t, StructType) and t.name.startswith(UPROBE_ARGS_PREFIX):
        return uprobe_args_value(gen, t)
    return None


UPROBE_ARGS_PREFIX = "_uprobe_args_"
"""Name prefix of the ``args`` structs :mod:`pybpf.passes.uprobeargs` builds."""


def uprobe_args_value(gen: ProbeGen, t: StructType) -> Val:
    """Whole ``args`` of a uprobe (``print(args)``, ``@[args]``): a copy of the context laid
    out like ``struct pt_regs`` in which only the parameters' registers are kept, each cut
    to its parameter's width, and every other byte is zero, so that equal arguments make
    equal map keys whatever the rest of the registers held."""
    dst = gen.alloc_mem(t)
    fields = {f.offset: f for f in t.fields}
    for off in range(0, t.size, 8):
        f = fields.get(off)
        if f is None:
            gen.em.sti(8, gen.frame.base_of(dst, R1), dst.off + off, 0)
            continue
        gen.em.ldx(8, R0, R6, off)
        if isinstance(f.type, IntType) and f.type.bits < 64:
            gen.narrow(R0, f.type)
        gen.em.stx(8, gen.frame.base_of(dst, R1), dst.off + off, R0)
    return dst


def user_call(gen: ProbeGen, c: ast.Call, t: Type) -> Val | None:
    """``usym(addr)`` (address + pid, printed as a symbol) and ``uaddr("sym")`` (the
    symbol's address in the probed binary); None for every other call."""
    if c.name == "usym" and len(c.args) == 1 and t.size >= 16:
        v = gen.int_value(c.args[0])
        dst = gen.alloc_mem(t)
        gen.em.stx(8, gen.frame.base_of(dst, R1), dst.off, gen.frame.reg_of(v, R1))
        gen.frame.free(v)
        gen.frame.before_call()
        gen.frame.call(Helper.GET_CURRENT_PID_TGID)
        gen.em.alui(AluOp.RSH, R0, 32)
        gen.em.stx(8, gen.frame.base_of(dst, R1), dst.off + 8, R0)
        return dst
    if c.name == "uaddr" and len(c.args) == 1:
        return Val("imm", t, imm=_uaddr(gen, c))
    return None


def _uaddr(gen: ProbeGen, c: ast.Call) -> int:
    from pybpf import elf
    from pybpf.elf.reader import ElfError

    arg = c.args[0]
    if not isinstance(arg, ast.String):
        raise CodegenError("uaddr() needs a string literal", c.span)
    targets = [ap.target for ap in gen.probe.attach_points if ap.provider in ("uprobe",
               "uretprobe", "usdt")]  # fmt: skip
    if not targets:
        raise CodegenError("uaddr() can only be used in uprobe and usdt probes", c.span)
    try:
        return int(elf.find_symbol(elf.resolve_binary(targets[0]), arg.value).value)
    except (ElfError, OSError, KeyError, LookupError) as e:
        raise CodegenError(f'uaddr("{arg.value}"): {e}', c.span) from None


def usdt_arg(gen: ProbeGen, spec: ArgSpec, t: Type) -> Val:
    """One USDT operand: a constant, a saved register, or user memory at an address."""
    from pybpf.elf.usdt import ArgKind

    width = IntType(spec.size * 8, spec.signed)
    if spec.kind is ArgKind.CONST:
        return Val("imm", t, imm=spec.value)
    if spec.symbol:
        raise CodegenError(f"usdt argument '{spec.text}': symbolic operands are not supported")
    if spec.kind is ArgKind.REG:
        v = gen.frame.new_reg(t)
        gen.em.ldx(8, v.reg, R6, spec.reg_offset)
        if spec.size < 8:
            gen.narrow(v.reg, width)
        return v
    slot = gen.frame.alloc_stack(8)
    gen.frame.before_call()
    gen.em.sti(8, FP, slot, 0)
    gen.em.ldx(8, R3, R6, spec.reg_offset)
    if spec.kind is ArgKind.SIB:
        gen.em.ldx(8, R1, R6, spec.index_offset)
        if spec.scale != 1:
            gen.em.alui(AluOp.MUL, R1, spec.scale)
        gen.em.alu(AluOp.ADD, R3, R1)
    if spec.value:
        gen.em.alui(AluOp.ADD, R3, spec.value)
    gen.em.mov(R1, FP)
    gen.em.alui(AluOp.ADD, R1, slot)
    gen.em.movi(R2, spec.size)
    gen.frame.call(Helper.PROBE_READ_USER)
    v = gen.frame.new_reg(t)
    gen.em.ldx(8, v.reg, FP, slot)
    if spec.size < 8:
        gen.narrow(v.reg, width)
    return v


_GET_ATTACH_COOKIE = 174  # bpf_get_attach_cookie

FUNC_NAME_TAG = 1 << 63
"""Set in a ``usym`` address that is really an index into ``CompiledScript.strings``: the
probed function's name, known when compiling (or from the link's cookie), so ``func`` prints
right even after a short-lived process is gone (user addresses never have bit 63 set)."""


def func_name_id(sg: ScriptGen, name: str) -> int:
    """The index of ``name`` in the script's strings (added once)."""
    strings = sg.out.strings
    if name not in strings:
        strings.append(name)
    return strings.index(name)


def _func_usym(gen: ProbeGen, t: Type) -> Val:
    """``func`` of a uprobe: a 16-byte ``usym`` value, the probed function's name id
    (tagged) when known, else (probed address, pid)."""
    name_id: int | None = getattr(gen, "func_name", None)
    if name_id is not None and t.size >= 16:
        dst = gen.alloc_mem(t)
        if name_id >= 0:
            gen.em.movi(R0, name_id)
        else:
            gen.frame.before_call()
            gen.em.mov(R1, R6)
            gen.frame.call(_GET_ATTACH_COOKIE)
        gen.em.movi(R1, 1)
        gen.em.alui(AluOp.LSH, R1, 63)
        gen.em.alu(AluOp.OR, R0, R1)
        gen.em.stx(8, gen.frame.base_of(dst, R1), dst.off, R0)
        gen.em.sti(8, gen.frame.base_of(dst, R1), dst.off + 8, 0)
        return dst
    gen.frame.before_call()
    if t.size < 16:
        gen.em.mov(R1, R6)
        gen.frame.call(Helper.GET_FUNC_IP)
        return gen.frame.result_r0(t)
    dst = gen.alloc_mem(t)
    gen.frame.before_call()
    gen.em.mov(R1, R6)
    gen.frame.call(Helper.GET_FUNC_IP)
    gen.em.stx(8, gen.frame.base_of(dst, R1), dst.off, R0)
    gen.frame.call(Helper.GET_CURRENT_PID_TGID)
    gen.em.alui(AluOp.RSH, R0, 32)
    gen.em.stx(8, gen.frame.base_of(dst, R1), dst.off + 8, R0)
    return dst


__all__ = [
    "CPID_MAP",
    "FUNC_NAME_TAG",
    "PROVIDERS",
    "UPROBE_ARGS_PREFIX",
    "cpid_map",
    "func_name_id",
    "generate",
    "in_process",
    "uprobe_args_value",
    "usdt_arg",
    "user_builtin",
    "user_call",
]
