"""Whole-script code generation: maps, programs per attach point, events.

``generate(program)`` turns a (parsed, and where available type-checked) AST into a
:class:`~pybpf.codegen.spec.CompiledScript`. Programs:

* ``BEGIN``/``END`` (and ``begin``/``end``): raw_tracepoint programs run once with
  ``BPF_PROG_TEST_RUN`` (tracing helpers, no attachment needed).
* ``tracepoint``: one program per matched tracepoint when the body reads ``args`` (field
  offsets differ), otherwise one program attached to every match.
* ``interval``/``profile``/``software``: perf_event programs.
* ``rawtracepoint``: raw_tracepoint programs; ``uprobe``/``uretprobe``: kprobe programs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from pybpf.codegen import userprobes
from pybpf.codegen.attach import expand_tracepoints, normalize
from pybpf.codegen.frame import CodegenError
from pybpf.codegen.infer import type_of
from pybpf.codegen.maps import AGG_FUNCS
from pybpf.codegen.probe import _CTX_BUILTINS, ProbeGen, uses_ctx
from pybpf.codegen.spec import CompiledScript, MapDef, ProgDef
from pybpf.errors import PybpfError
from pybpf.lang import ast
from pybpf.passes.types import INT64, AggType, TupleType, Type

_AGG_SIZES = {"count": 8, "sum": 8, "min": 16, "max": 16, "avg": 16, "stats": 16}
_DECL_KINDS = {
    "hash": "hash",
    "lruhash": "lru_hash",
    "percpuhash": "percpu_hash",
    "percpulruhash": "lru_percpu_hash",
    "percpuarray": "percpu_array",
}


class ScriptGen:
    """Shared state of one script's generation."""

    def __init__(
        self,
        program: ast.Program,
        *,
        max_strlen: int = 1024,
        max_map_keys: int = 4096,
        unsafe: bool = False,
        ringbuf_size: int = 1 << 21,  # 2 MiB: see CompiledScript.ringbuf_size
        resources: Any = None,
        pid: int = 0,
    ) -> None:
        self.program = program
        #: ``-p PID``: binary and library names resolve through that process's mappings.
        self.pid = pid
        #: The front end's resource analysis (map key/value types unified over all uses).
        self.resources = resources
        self.max_strlen = max_strlen
        self.max_map_keys = max_map_keys
        self.unsafe = unsafe
        self.out = CompiledScript(max_strlen=max_strlen, ringbuf_size=ringbuf_size)
        self.events = self.out.events
        self.ringbuf_size = ringbuf_size
        self.ncpus = os.cpu_count() or 1
        self.var_types: dict[str, Type] = {}
        self._scratch = 0
        self._kernel_names: set[str] = set()

    # -- internal maps --------------------------------------------------------------------------
    def ringbuf_name(self) -> str:
        """The event ring buffer (created on first use)."""
        if "ringbuf" not in self.out.maps:
            self.out.maps["ringbuf"] = MapDef("ringbuf", "ringbuf", 0, 0, self.ringbuf_size)
            self.globals_name()
        return "ringbuf"

    def globals_name(self) -> str:
        """A one-entry array: [start ns, lost events] (read by ``elapsed``, lost counting)."""
        if "globals" not in self.out.maps:
            self.out.maps["globals"] = MapDef("globals", "array", 4, 16, 1)
        return "globals"

    def stack_map(self, user: bool, limit: int = 127) -> str:
        """The stack-trace map for kernel or user stacks of ``limit`` frames (made on first use)."""
        from pybpf.codegen.stacks import MAX_FRAMES, stack_map_name

        name = stack_map_name(user, limit)
        if name not in self.out.maps:
            size = 8 * max(1, min(limit, MAX_FRAMES))
            self.out.maps[name] = MapDef(name, "stack_trace", 4, size, self.max_map_keys)
        return name

    def scratch_name(self) -> str:
        """The per-CPU scratch memory map."""
        return "scratch"

    def need_scratch(self, size: int) -> None:
        """Grow the scratch map to at least ``size`` bytes."""
        self._scratch = max(self._scratch, size)
        self.out.maps["scratch"] = MapDef(
            "scratch", "percpu_array", 4, (self._scratch + 7) // 8 * 8, 1
        )

    def require_unsafe(self, what: str, span: object) -> None:
        """``system``/``cat`` need ``--unsafe`` (bpftrace's wording)."""
        if not self.unsafe:
            raise CodegenError(f"{what}() is an unsafe function being used in safe mode", span)

    # -- script maps ----------------------------------------------------------------------------
    def map_for(self, m: ast.Map) -> MapDef:
        """The map definition of script map ``m`` (an int64 hash if never assigned)."""
        d = self.out.maps.get(m.name)
        if d is None:
            d = self._define(m.name, "", None, INT64, ())
        return d

    def _kernel_name(self, name: str) -> str:
        base = "AT_" + re.sub(r"[^A-Za-z0-9_]", "_", name[1:])
        base = base[:15]
        n, i = base, 1
        while n in self._kernel_names:
            n = f"{base[:12]}_{i}"
            i += 1
        self._kernel_names.add(n)
        return n

    def _define(
        self, name: str, agg: str, key_type: Type | None, value_type: Type, params: tuple[int, ...]
    ) -> MapDef:
        key_size = 8 if key_type is None else max(key_type.size, 1)
        bucket = 0
        if agg in ("hist", "lhist"):
            bucket = 0 if key_type is None else (key_size + 7) // 8 * 8
            key_size = bucket + 8
            value_size = 8
        elif agg:
            value_size = _AGG_SIZES[agg]
        else:
            value_size = max(value_type.size, 1)
        kind = "percpu_hash" if agg else "hash"
        d = MapDef(
            self._kernel_name(name),
            kind,
            key_size,
            value_size,
            self.max_map_keys,
            script_name=name,
            agg=agg,
            key_type=key_type,
            value_type=value_type,
            params=params,
            bucket_offset=bucket,
        )
        for decl in self.program.map_decls:
            if decl.map.name == name:
                d.kind = _DECL_KINDS.get(decl.kind, d.kind)
                d.max_entries = decl.max_entries
        self.out.maps[name] = d
        self.out.print_order.append(name)
        return d

    def collect_maps(self) -> None:
        """Define every script map from its first assignment (before any code is emitted)."""
        for probe in self.program.probes:
            for n in ast.walk(probe):
                if isinstance(n, ast.Assign) and isinstance(n.target, ast.Map | ast.MapAccess):
                    self._collect(n.target, n.value if n.op is None else None)
                elif isinstance(n, ast.IncDec) and isinstance(n.target, ast.Map | ast.MapAccess):
                    self._collect(n.target, None)
                elif isinstance(n, ast.Assign | ast.VarDecl):
                    self._note_var(n)

    def _note_var(self, n: ast.Assign | ast.VarDecl) -> None:
        var = n.target if isinstance(n, ast.Assign) else n.var
        if isinstance(var, ast.Variable) and n.value is not None and var.name not in self.var_types:
            self.var_types[var.name] = type_of(n.value, self.max_strlen, self.var_types.get)

    def _collect(self, target: ast.Map | ast.MapAccess, value: ast.Expr | None) -> None:
        m = target if isinstance(target, ast.Map) else target.map
        old = self.out.maps.get(m.name)
        if old is not None:
            self._unify(old, target, value)
            return
        keys = target.keys if isinstance(target, ast.MapAccess) else []
        kts = [type_of(k, self.max_strlen, self.var_types.get) for k in keys]
        from pybpf.passes.types import IntType

        kts = [IntType(64, t.signed) if isinstance(t, IntType) else t for t in kts]
        key_type: Type | None = (
            None if not kts else kts[0] if len(kts) == 1 else TupleType(tuple(kts))
        )
        info = self.resources.maps.get(m.name) if self.resources is not None else None
        if info is not None and (info.key is None) == (key_type is None):
            key_type = _widen(info.key)
            if not (isinstance(value, ast.Call) and value.name in AGG_FUNCS) and info.value.size:
                if not isinstance(info.value, AggType):
                    value_t = _widen(info.value)
                    assert value_t is not None
                    self._define(m.name, "", key_type, value_t, ())
                    return
        if isinstance(value, ast.Call) and value.name in AGG_FUNCS:
            params: tuple[int, ...] = ()
            if value.name == "hist":
                params = (_int_arg(value, 1, 0),)
            elif value.name == "lhist":
                params = (_int_arg(value, 1, 0), _int_arg(value, 2, 0), _int_arg(value, 3, 1))
                if params[2] <= 0 or params[1] <= params[0]:
                    raise CodegenError("lhist: invalid min/max/step", value.span)
            self._define(m.name, value.name, key_type, INT64, params)
            return
        vt = INT64 if value is None else type_of(value, self.max_strlen, self.var_types.get)
        if vt.is_integer():
            from pybpf.passes.types import IntType as _I

            vt = _I(64, getattr(vt, "signed", True))
        self._define(m.name, "", key_type, vt, ())

    def _unify(self, d: MapDef, target: ast.Map | ast.MapAccess, value: ast.Expr | None) -> None:
        """Later assignments may store longer strings: grow string keys/values to fit."""
        if self.resources is not None and d.script_name in self.resources.maps:
            return
        keys = target.keys if isinstance(target, ast.MapAccess) else []
        kts = [type_of(k, self.max_strlen, self.var_types.get) for k in keys]
        new_key: Type | None = (
            None if not kts else kts[0] if len(kts) == 1 else TupleType(tuple(kts))
        )
        key = _grow(d.key_type, new_key)
        val = d.value_type
        if not d.agg and value is not None:
            val = _grow(val, type_of(value, self.max_strlen, self.var_types.get))
        if key is d.key_type and val is d.value_type:
            return
        name = d.script_name
        del self.out.maps[name]
        self.out.print_order.remove(name)
        self._kernel_names.discard(d.name)
        self._define(name, d.agg, key, val or INT64, d.params)

    # -- programs -------------------------------------------------------------------------------
    def generate(self) -> CompiledScript:
        """Generate every program."""
        for decl in self.program.map_decls:
            self._define(decl.map.name, "", None, INT64, ())
            self.out.maps.pop(decl.map.name)
            self.out.print_order.remove(decl.map.name)
        self.collect_maps()
        for probe in self.program.probes:
            for ap in probe.attach_points:
                normalize(ap)
            self._probe(probe)
        self.out.maps = {k: v for k, v in self.out.maps.items()}
        return self.out

    def _probe_id(self, name: str) -> int:
        self.out.probe_names.append(name)
        return len(self.out.probe_names) - 1

    def _probe(self, probe: ast.Probe) -> None:
        groups: dict[str, list[ast.AttachPoint]] = {}
        for ap in probe.attach_points:
            groups.setdefault(ap.provider, []).append(ap)
        for prov, aps in groups.items():
            if prov == "tracepoint":
                self._tracepoints(probe, aps)
                continue
            if prov in userprobes.PROVIDERS:
                for ap in aps:
                    userprobes.generate(self, probe, ap)
                continue
            for ap in aps:
                self._simple(probe, ap)

    def _simple(self, probe: ast.Probe, ap: ast.AttachPoint) -> None:
        prov = ap.provider
        ptype = {
            "begin": "raw_tracepoint",
            "end": "raw_tracepoint",
            "interval": "perf_event",
            "profile": "perf_event",
            "software": "perf_event",
            "hardware": "perf_event",
            "rawtracepoint": "raw_tracepoint",
            "tp_btf": "tracing",
            "uprobe": "kprobe",
            "uretprobe": "kprobe",
            "iter": "tracing",
        }.get(prov)
        if ptype is None:
            raise CodegenError(f"{prov} probes are not supported by pybpftrace yet", ap.span)
        name = ap.name if prov not in ("begin", "end") else prov.upper()
        pid = self._probe_id(name)
        gen = ProbeGen(self, probe, pid, user_space=prov in ("uprobe", "uretprobe"))
        if prov == "iter":
            from pybpf.codegen.iters import check_iter

            check_iter(probe, ap)
            # The kernel calls the program once more after the last object, with a NULL
            # object pointer (the context field after ``meta``): skip that call.
            gen.skip_null_ctx = 8
        code = gen.generate()
        self.out.progs.append(
            ProgDef(name, ptype, prov, code, [_attach_info(ap)], label=name, span=ap.span)
        )

    def _tracepoints(self, probe: ast.Probe, aps: list[ast.AttachPoint]) -> None:
        matches: list[tuple[ast.AttachPoint, str, str]] = []
        for ap in aps:
            matches.extend((ap, c, n) for c, n in expand_tracepoints(ap))
        rest = self._syscall_wildcards(probe, matches)
        if not rest:
            return
        per_match = uses_ctx(probe) or _uses_probe(probe)
        if per_match:
            for ap, c, n in rest:
                self._tracepoint(probe, ap, c, n)
            return
        names = [f"tracepoint:{c}:{n}" for _, c, n in rest]
        pid = self._probe_id(names[0])
        code = ProbeGen(self, probe, pid).generate()
        attach = [_tracepoint_info(c, n) for _, c, n in rest]
        self.out.progs.append(
            ProgDef(
                names[0], "tracepoint", "tracepoint", code, attach, label=names[0],
                span=probe.span,
            )
        )  # fmt: skip

    def _tracepoint(self, probe: ast.Probe, ap: ast.AttachPoint, c: str, n: str) -> None:
        """One program for one tracepoint (its ``args`` layout and ``probe`` name)."""
        fields = self._tp_fields(ap, c, n)
        name = f"tracepoint:{c}:{n}"
        pid = self._probe_id(name)
        gen = ProbeGen(self, probe, pid, tp_fields=fields, user_space=c == "syscalls")
        self._annotate_tp_types(probe, fields)
        code = gen.generate()
        attach = [_tracepoint_info(c, n)]
        self.out.progs.append(
            ProgDef(name, "tracepoint", "tracepoint", code, attach, label=name, span=ap.span)
        )

    def _tp_fields(self, ap: ast.AttachPoint, c: str, n: str) -> dict[str, Any]:
        from pybpf import tracefs

        try:
            fmt = tracefs.tracepoint_format(c, n)
        except tracefs.TracepointNotFoundError:
            raise CodegenError(f"tracepoint not found: {c}:{n}", ap.span) from None
        return {f.name: f for f in fmt.fields}

    def _syscall_wildcards(
        self, probe: ast.Probe, matches: list[tuple[ast.AttachPoint, str, str]]
    ) -> list[tuple[ast.AttachPoint, str, str]]:
        """Compile the many-syscall parts of a wildcard as raw ``sys_enter``/``sys_exit``
        programs (see :mod:`.syscalls`); returns the matches left for tracepoints."""
        from pybpf.codegen.syscalls import kind_filter, split

        groups = split([(c, n) for _, c, n in matches])
        done: set[tuple[str, str]] = set()
        for prefix in ("sys_enter_", "sys_exit_"):
            if not _raw_syscall_ok(probe, prefix == "sys_exit_"):
                continue
            sysf = kind_filter(groups[prefix], prefix)
            if sysf is None:
                continue
            ap = next(a for a, c, n in matches if (c, n) == groups[prefix][0])
            self._syscall_wildcard(probe, ap, sysf, prefix == "sys_exit_")
            done.update(groups[prefix])
        return [m for m in matches if (m[1], m[2]) not in done]

    def _syscall_wildcard(
        self, probe: ast.Probe, ap: ast.AttachPoint, sysf: dict[int, str], exit_: bool
    ) -> None:
        """Many ``sys_enter_*`` (or ``sys_exit_*``) tracepoints as one raw program."""
        import struct

        from pybpf.codegen.syscalls import MAX_NR

        kind = "exit" if exit_ else "enter"
        ids = {nr: self._probe_id(name) for nr, name in sorted(sysf.items())}
        init = {struct.pack("<I", nr): struct.pack("<I", i + 1) for nr, i in ids.items()}
        mapname = f"sysnr_{kind}"
        self.out.maps[mapname] = MapDef(mapname, "array", 4, 4, MAX_NR, init=init)
        name = f"tracepoint:syscalls:sys_{kind}_*"
        fields: dict[str, Any] = {}
        if exit_ and uses_ctx(probe):
            first = sysf[min(sysf)].rsplit(":", 1)[1]
            fields = self._tp_fields(ap, "syscalls", first)
            self._annotate_tp_types(probe, fields)
        gen = ProbeGen(
            self, probe, ids[min(ids)], tp_fields=fields, sys_filter=mapname, sys_exit=exit_
        )
        prog = ProgDef(
            name, "raw_tracepoint", "tracepoint", gen.generate(), [{"name": f"sys_{kind}"}],
            label=name, span=probe.span, syscall_filter=sysf,
        )  # fmt: skip
        self.out.progs.append(prog)

    def _annotate_tp_types(self, probe: ast.Probe, fields: Mapping[str, object]) -> None:
        """Give ``args.f`` its field's integer type (when the front end has not)."""
        from pybpf.passes.types import IntType, StringType

        for n in ast.walk(probe):
            if (
                isinstance(n, ast.FieldAccess)
                and isinstance(n.expr, ast.Builtin)
                and n.expr.name == "args"
                and n.type is None
            ):
                f = fields.get(n.field)
                if f is None:
                    continue
                if getattr(f, "data_loc", False):
                    n.type = StringType(self.max_strlen)
                elif getattr(f, "is_array", False):
                    n.type = StringType(getattr(f, "size", 0) or self.max_strlen)
                else:
                    size = getattr(f, "size", 8)
                    n.type = IntType(64, bool(getattr(f, "signed", True)) and size <= 8)


def _grow(old: Type | None, new: Type | None) -> Type | None:
    """``old`` with its strings lengthened to hold ``new``'s (``old`` itself if unchanged)."""
    from pybpf.passes.types import StringType

    if isinstance(old, StringType) and isinstance(new, StringType) and new.size > old.size:
        return new
    if (
        isinstance(old, TupleType)
        and isinstance(new, TupleType)
        and len(old.elems) == len(new.elems)
    ):
        elems = tuple(_grow(a, b) or a for a, b in zip(old.elems, new.elems, strict=True))
        if any(a is not b for a, b in zip(elems, old.elems, strict=True)):
            return TupleType(elems)
    return old


def _widen(t: Type | None) -> Type | None:
    """Integers are stored as 64-bit in keys and values (as bpftrace does)."""
    from pybpf.passes.types import IntType

    if isinstance(t, IntType):
        return IntType(64, t.signed)
    if isinstance(t, TupleType):
        return TupleType(tuple(_widen(e) or e for e in t.elems))
    return t


def _raw_syscall_ok(probe: ast.Probe, exit_: bool) -> bool:
    """Whether the body can run on a raw syscall tracepoint: it may use ``probe``, and on
    ``sys_exit`` also ``args`` (the same record for every syscall), but nothing else of
    the context."""
    for n in ast.walk(probe):
        if isinstance(n, ast.Builtin) and n.name in _CTX_BUILTINS:
            if not (exit_ and n.name == "args"):
                return False
        if isinstance(n, ast.Call) and n.name in ("kstack", "ustack"):
            return False
    return True


def _uses_probe(probe: ast.Probe) -> bool:
    return any(isinstance(n, ast.Builtin) and n.name == "probe" for n in ast.walk(probe))


def _int_arg(c: ast.Call, i: int, default: int) -> int:
    if len(c.args) > i:
        a = c.args[i]
        if isinstance(a, ast.Integer):
            return a.value
        if isinstance(a, ast.Unary) and a.op == "-" and isinstance(a.operand, ast.Integer):
            return -a.operand.value
        raise CodegenError(f"{c.name}: argument {i + 1} must be an integer literal", a.span)
    return default


def _tracepoint_info(category: str, name: str) -> dict[str, object]:
    """A tracepoint's attach entry, with its perf event id when tracefs has it: a cached run
    then opens the event without importing or reading tracefs. The id is fixed for the
    boot, which the compiled-script cache's key includes."""
    from pybpf import tracefs

    info: dict[str, object] = {"category": category, "name": name}
    try:
        info["id"] = tracefs.tracepoint_id(category, name)
    except PybpfError:  # reported at attach time, as before
        pass
    return info


def _attach_info(ap: ast.AttachPoint) -> dict[str, object]:
    info: dict[str, object] = {
        "provider": ap.provider,
        "target": ap.target,
        "func": ap.func,
        "freq": ap.freq,
        "unit": ap.unit,
        "offset": ap.offset,
    }
    if ap.provider in ("interval", "profile") and ap.unit != "hz":
        # Computed here so that the run time needs neither the AST nor the code generator.
        from pybpf.codegen.attach import period_ns

        info["period_ns"] = period_ns(ap)
    return info


def generate(program: ast.Program, **options: object) -> CompiledScript:
    """Compile a parsed script to maps, programs and events (see :class:`ScriptGen`)."""
    return ScriptGen(program, **options).generate()  # type: ignore[arg-type]


__all__ = ["ScriptGen", "generate"]
