"""Builtin variables: where each is allowed, and its type in the current probe.

Also resolves ``args`` per attach point: tracepoint records from the tracefs format file
(``struct _tracepoint_<cat>_<name>``), raw tracepoint / fentry / fexit arguments from BTF,
uprobe parameters from the binary's DWARF (:mod:`pybpf.passes.uprobeargs`).
Results are kept in ``ctx.probe_args`` (per probe) and ``ctx.args_by_match`` (per concrete
probe name) for code generation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pybpf.lang import ast
from pybpf.passes import types as T

if TYPE_CHECKING:
    from pybpf.passes.typecheck import Checker
    from pybpf.tracefs import Field as TpField

_SIMPLE: dict[str, T.Type] = {
    "pid": T.UINT32, "tid": T.UINT32, "uid": T.UINT32, "gid": T.UINT32, "cpu": T.UINT32,
    "ncpus": T.UINT32, "numaid": T.UINT32, "nsecs": T.UINT64, "elapsed": T.UINT64,
    "jiffies": T.UINT64, "cgroup": T.UINT64, "rand": T.UINT32, "cpid": T.UINT32,
    "usermode": T.UINT8, "comm": T.StringType(16), "__builtin_pid": T.UINT32,
    "__builtin_tid": T.UINT32, "__builtin_comm": T.StringType(16),
    "probe": T.OpaqueIdType("probe"), "username": T.OpaqueIdType("username"),
}  # fmt: skip

_ARGN = {"kprobe", "uprobe", "usdt", "kretprobe", "uretprobe"}
_RETVAL = {"kretprobe", "uretprobe", "fexit"}
# Not uretprobe: at a function's return its argument registers hold other values (bpftrace).
_ARGS = {"tracepoint", "rawtracepoint", "tp_btf", "fentry", "fexit", "uprobe", "usdt", "iter"}
_FUNC = {"kprobe", "kretprobe", "uprobe", "uretprobe", "fentry", "fexit"}


def _spelled(p: str) -> str:
    return p.upper() if p in ("begin", "end") else p


def builtin_type(chk: Checker, e: ast.Builtin) -> T.Type:
    """Type of builtin ``e`` in the checker's current probe (errors where not allowed)."""
    name = e.name
    provs = chk.providers()
    if name in _SIMPLE:
        return _SIMPLE[name]
    if name in ("kstack", "ustack"):
        mode = str(chk.ctx.config.get("stack_mode", "bpftrace"))
        return T.StackType(name == "ustack", T.StackMode(mode))
    if name == "ctx":
        return _ctx_type(chk)
    if name == "curtask":
        st = chk.types.struct("task_struct")
        return T.PointerType(st) if st is not None else T.UINT64
    if (chk.func is not None and name in ("args", "retval", "func")) or not provs:
        if chk.func is not None:
            chk.error(f"Builtin {name} not supported outside probe", e.span)
            return T.NONE
    if name.startswith(("arg", "sarg")) and name not in ("args",):
        bad = [p for p in provs if p not in _ARGN or (name.startswith("sarg") and p == "usdt")]
        if bad:
            chk.error(f"The {name} builtin can only be used with 'kprobes', 'uprobes' and "
                      "'usdt' probes", e.span)  # fmt: skip
            return T.NONE
        return T.UINT64
    if name == "retval":
        bad = [p for p in provs if p not in _RETVAL]
        if bad:
            hint = " (try to use args->ret instead)" if bad[0] == "tracepoint" else ""
            chk.error("The retval builtin can only be used with 'kretprobe' and 'uretprobe' "
                      f"and 'fexit' probes{hint}", e.span)  # fmt: skip
            return T.NONE
        assert chk.probe is not None
        known = chk.ctx.probe_retval.get(chk.probe.index)
        if known is None and provs == ["fexit"] and chk.types.btf is not None:
            ap = chk.probe.attach_points[0]
            func = (ap.matches[0] if ap.matches else ap.name).split(":")[-1]
            known = chk.types.btf.func_return(func)
            if known is not None:
                chk.ctx.probe_retval[chk.probe.index] = known
        return known if known is not None else T.INT64
    if name == "func":
        bad = [p for p in provs if p not in _FUNC]
        if bad:
            chk.error(f"The func builtin can not be used with '{_spelled(bad[0])}' probes", e.span)
            return T.NONE
        user = all(p.startswith("u") for p in provs)
        return T.SymbolType("usym" if user else "ksym")
    if name == "args":
        bad = [p for p in provs if p not in _ARGS]
        if bad:
            chk.error("The args builtin can only be used with tracepoint, rawtracepoint, "
                      f"fentry/fexit and uprobe probes ({_spelled(bad[0])} used here)",
                      e.span)  # fmt: skip
            return T.NONE
        return probe_args(chk, e)
    chk.error(f"Unknown builtin variable: {name}", e.span)
    return T.NONE


def _ctx_type(chk: Checker) -> T.Type:
    """``ctx``: in an iterator probe the kernel's ``struct bpf_iter__<target> *`` (so
    ``ctx->task->pid`` is typed through BTF, as in bpftrace), elsewhere ``void *``."""
    provs = chk.providers()
    if provs and all(p == "iter" for p in provs) and chk.probe is not None:
        st = chk.types.struct(f"bpf_iter__{chk.probe.attach_points[0].func}")
        if st is not None:
            return T.PointerType(st)
    return T.PointerType(T.VOID)


def probe_args(chk: Checker, e: ast.Builtin) -> T.Type:
    """The ``args`` type of the current probe (first match; others recorded per match)."""
    probe = chk.probe
    assert probe is not None
    ctx = chk.ctx
    if probe.index in ctx.probe_args:
        return ctx.probe_args[probe.index]
    if all(ap.provider == "uprobe" for ap in probe.attach_points):
        from pybpf.passes.uprobeargs import probe_uprobe_args

        uargs = probe_uprobe_args(chk, probe)
        if chk.report:
            ctx.probe_args[probe.index] = uargs
        return uargs
    first: T.Type | None = None
    for ap in probe.attach_points:
        for match in ap.matches or [ap.name]:
            t = ctx.args_by_match.get(match)
            if t is None:
                t = _args_for(chk, ap, match)
                if t is None:
                    continue
                ctx.args_by_match[match] = t
            if first is None:
                first = t
    if first is None:
        chk.error(f"Can not resolve the args of {probe.attach_points[0].raw}", e.span)
        first = T.NONE
    if chk.report:
        ctx.probe_args[probe.index] = first
    return first


def _args_for(chk: Checker, ap: ast.AttachPoint, match: str) -> T.Type | None:
    parts = match.split(":")
    p = ap.provider
    if p == "tracepoint" and len(parts) == 3:
        same = _exit_record(chk, parts[1], parts[2])
        return same if same is not None else tracepoint_struct(chk, parts[1], parts[2])
    b = chk.types.btf
    if b is None:
        return None
    params: list[tuple[str, T.Type]] | None = None
    if p in ("rawtracepoint", "tp_btf"):
        params = b.rawtp_params(parts[-1])
    elif p in ("fentry", "fexit"):
        params = b.func_params(parts[-1])
        if p == "fexit":
            ret = b.func_return(parts[-1])
            if ret is not None and chk.probe is not None:
                chk.ctx.probe_retval[chk.probe.index] = ret
    if params is None:
        return None
    fields = tuple(T.Field(n, t, 8 * i) for i, (n, t) in enumerate(params))
    name = f"_{p}_args_{parts[-1]}"
    return T.StructType(name, "struct", 8 * len(fields), "args", resolver=lambda: fields)


def _tp_field_type(f: TpField, user: bool) -> T.Type:
    base = f.type.replace("const ", "").replace("volatile ", "").strip()
    space = T.AddrSpace.USER if user else T.AddrSpace.KERNEL
    is_char = base in ("char", "unsigned char", "signed char", "u8", "__u8", "s8")
    if f.data_loc or f.rel_loc:
        elem: T.Type = T.StringType(64) if is_char else T.ArrayType(T.UINT8, 0)
        return T.DataLocType(elem)
    if f.array_len is not None:
        n = f.array_len
        # Only plain ``char`` arrays are strings, as in bpftrace (clang's Char_S/Char_U):
        # ``__u8 daddr[4]`` is an ``unsigned int8[4]`` array (``buf(args.daddr)`` reads 4).
        if base == "char":
            return T.StringType(max(n, 1))
        esize = f.size // n if n else 1
        return T.ArrayType(T.IntType(max(esize, 1) * 8, f.signed), n)
    if base.endswith("*"):
        target = base.rstrip("*").strip()
        tt: T.Type = T.VOID
        if target in ("char", "unsigned char", "signed char"):
            tt = T.INT8
        elif target.startswith("struct "):
            tt = T.StructType(target[7:].strip(), "struct", 0, "btf")
        return T.PointerType(tt, space)
    if f.size in (1, 2, 4, 8):
        return T.IntType(f.size * 8, f.signed)
    return T.ArrayType(T.UINT8, f.size)


def _constant(fields: tuple[T.Field, ...]) -> Callable[[], tuple[T.Field, ...]]:
    """A struct resolver returning fields already known."""
    return lambda: fields


def _exit_record(chk: Checker, cat: str, name: str) -> T.StructType | None:
    """Every ``syscalls:sys_exit_*`` record has the same layout (``__syscall_nr``, ``ret``):
    once one is read, the others reuse its fields instead of ~360 format-file reads."""
    if cat != "syscalls" or not name.startswith("sys_exit_"):
        return None
    for key, t in chk.ctx.args_by_match.items():
        if key.startswith("tracepoint:syscalls:sys_exit_") and isinstance(t, T.StructType):
            return T.StructType(
                f"_tracepoint_{cat}_{name}", "struct", t.byte_size, "tracepoint",
                resolver=_constant(t.fields),
            )  # fmt: skip
    return None


def tracepoint_struct(chk: Checker, cat: str, name: str) -> T.Type | None:
    """``struct _tracepoint_<cat>_<name>`` from the format file (None if missing)."""
    fmt = chk.ctx.catalog.tracepoint_format(cat, name)
    if fmt is None:
        return None
    user = cat == "syscalls"
    resolve = chk.types.struct

    def conv(f: TpField) -> T.Type:
        t = _tp_field_type(f, user)
        # Struct pointers in formats name kernel structs: give them their BTF layout.
        if isinstance(t, T.PointerType) and isinstance(t.target, T.StructType):
            real = resolve(t.target.name)
            if real is not None:
                t = T.PointerType(real, t.space)
        return t

    fields = tuple(T.Field(f.name, conv(f), f.offset) for f in fmt.fields)
    return T.StructType(
        f"_tracepoint_{cat}_{name}", "struct", fmt.size, "tracepoint", resolver=lambda: fields
    )
