"""``pybpftrace -l [PATTERN]`` / ``-lv``: list probes matching a wildcard pattern.

:func:`list_probes` returns the lines to print.  A pattern starting with a provider (or its
alias: ``t:``, ``k:``, ``rt:``, ``u:`` ...) lists that provider only; any other pattern is
matched against the full names of every listable probe (``*sleep*``).  Patterns without a
``*`` match exactly.  Sources: tracefs (tracepoints), BTF (raw tracepoints, iterators,
fentry functions), kallsyms (kprobes, only when the kernel has kprobes), ELF function
symbols of the binary and of its separate debug file (``uprobe:/bin/bash:*``) and ELF
notes (``usdt:/path:*``), through the injectable :class:`~pybpf.passes.context.Catalog`.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pybpf.passes.context import Catalog, SystemCatalog
from pybpf.passes.probetypes import ALIASES, HARDWARE, SOFTWARE, split_raw

if TYPE_CHECKING:
    from pybpf.passes.pipeline import FrontendResult

_LISTABLE = ("tracepoint", "rawtracepoint", "software", "hardware", "kprobe", "iter")


def _matcher(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern))


def _tracepoints(cat: Catalog, rest: str, verbose: bool) -> Iterator[str]:
    parts = rest.split(":", 1) if rest else ["*", "*"]
    cpat, npat = (parts[0] or "*"), (parts[1] if len(parts) > 1 else "*")
    cm, nm = _matcher(cpat), _matcher(npat)
    # bpftrace orders by full name and leaves out ftrace's internal (unattachable) events.
    for c, n in sorted(cat.tracepoints(), key=lambda cn: f"{cn[0]}:{cn[1]}"):
        if c != "ftrace" and cm.match(c) and nm.match(n):
            yield f"tracepoint:{c}:{n}"
            if verbose:
                yield from _tp_fields(cat, c, n)


def _tp_fields(cat: Catalog, c: str, n: str) -> Iterator[str]:
    fmt = cat.tracepoint_format(c, n)
    if fmt is None:
        return
    for f in fmt.own_fields:
        if f.data_loc or f.rel_loc:
            prefix = "__data_loc" if f.data_loc else "__rel_loc"
            yield f"    {prefix} {f.type}[] {f.name}"
        elif f.array_len is not None:
            yield f"    {f.type} {f.name}[{f.array_len or ''}]"
        else:
            yield f"    {f.type} {f.name}"


def _btf_params(cat: Catalog, func: str, skip_ctx: bool) -> Iterator[str]:
    spec = cat.btf()
    if spec is None:
        return
    try:
        proto = spec.func_proto(func)
    except Exception:
        return
    from pybpf.btf.cformat import declaration

    params = list(proto.params)[1:] if skip_ctx else list(proto.params)
    for p in params:
        yield f"    {declaration(spec, p.type, p.name)}"


def _btf_retval(cat: Catalog, func: str) -> Iterator[str]:
    spec = cat.btf()
    if spec is None:
        return
    from pybpf.btf.cformat import declaration

    yield f"    {declaration(spec, spec.func_proto(func).type, 'retval')}"


def _rawtracepoints(cat: Catalog, rest: str, verbose: bool) -> Iterator[str]:
    from pybpf.passes.context import PassContext
    from pybpf.passes.expand import rawtracepoints

    m = _matcher(rest.split(":")[-1] or "*")
    ctx = PassContext.__new__(PassContext)
    ctx.catalog = cat
    for name in rawtracepoints(ctx):
        if m.match(name):
            yield f"rawtracepoint:{name}"
            if verbose:
                for stub in (f"__probestub_{name}", f"__bpf_trace_{name}"):
                    lines = list(_safe(_btf_params(cat, stub, True)))
                    if lines:
                        yield from lines
                        break


def _safe(it: Iterator[str]) -> Iterator[str]:
    try:
        yield from it
    except Exception:
        return


def _events(prov: str, rest: str) -> Iterator[str]:
    table = SOFTWARE if prov == "software" else HARDWARE
    if prov == "hardware" and not os.path.exists("/sys/bus/event_source/devices/cpu/events"):
        return
    m = _matcher(rest.split(":")[0] or "*")
    for name in sorted(table):
        if m.match(name) or (table[name] and m.match(table[name])):
            yield f"{prov}:{name}:"


def _kprobes(cat: Catalog, prov: str, rest: str) -> Iterator[str]:
    if prov in ("kprobe", "kretprobe") and not cat.has_kprobes():
        return
    m = _matcher(rest.split(":")[-1] or "*")
    for f in cat.kernel_functions():
        if m.match(f):
            yield f"{prov}:{f}"


def _iter_fields(cat: Catalog, name: str) -> Iterator[str]:
    """``-lv``: the ``ctx`` fields of an iterator (members of ``struct bpf_iter__<name>``)."""
    spec = cat.btf()
    if spec is None:
        return
    from pybpf.btf import Kind
    from pybpf.btf.cformat import declaration

    def fields(tid: int) -> Iterator[str]:
        for mem in spec.members(tid):
            inner = spec.resolve(mem.type)
            if not mem.name and spec.kind(inner) in (Kind.STRUCT, Kind.UNION):
                yield from fields(inner)  # the kernel wraps each pointer in an anonymous union
            else:
                yield f"    {declaration(spec, mem.type, mem.name)}"

    for tid in spec.find_all(f"bpf_iter__{name}", Kind.STRUCT):
        yield from fields(tid)
        return


def _iters(cat: Catalog, rest: str, verbose: bool = False) -> Iterator[str]:
    spec = cat.btf()
    if spec is None:
        return
    from pybpf.btf import Kind

    m = _matcher(rest or "*")
    # bpf_iter__<name> context structs name the iterators ("__" marks other helpers).
    names = sorted(
        {
            n[len("bpf_iter__") :]
            for tid, n in spec.names()
            if n.startswith("bpf_iter__") and "__" not in n[10:] and spec.kind(tid) == Kind.STRUCT
        }
    )
    for n in names:
        if m.match(n):
            yield f"iter:{n}"
            if verbose:
                yield from _safe(_iter_fields(cat, n))


def _uprobe_params(cat: Catalog, path: str, func: str) -> Iterator[str]:
    """``-lv``: a uprobe's parameters from DWARF, bpftrace's spelling (``const char* s``)."""
    lookup = getattr(cat, "uprobe_function", None)
    info = lookup(path, func) if lookup is not None else None
    if info is not None:
        for p in info.params:
            yield f"    {p}"


def _uprobes(cat: Catalog, prov: str, rest: str, verbose: bool = False) -> Iterator[str]:
    parts = split_raw(rest)
    if not parts or not parts[0]:
        return
    path = cat.resolve_binary(parts[0])
    if prov == "usdt":
        nsm = _matcher(parts[1] if len(parts) == 3 else "*")
        nm = _matcher(parts[-1] if len(parts) > 1 else "*")
        for ns, n in cat.usdt_probes(path):
            if nsm.match(ns) and nm.match(n):
                yield f"usdt:{path}:{ns}:{n}"
        return
    m = _matcher(parts[-1] if len(parts) > 1 else "*")
    for f in cat.elf_functions(path):
        if m.match(f):
            yield f"{prov}:{path}:{f}"
            if verbose and prov == "uprobe":  # bpftrace lists none for uretprobes
                yield from _safe(_uprobe_params(cat, path, f))


def _provider_lines(cat: Catalog, prov: str, rest: str, verbose: bool) -> Iterator[str]:
    if prov == "tracepoint":
        yield from _tracepoints(cat, rest, verbose)
    elif prov in ("rawtracepoint", "tp_btf"):
        yield from _rawtracepoints(cat, rest, verbose)
    elif prov in ("software", "hardware"):
        yield from _events(prov, rest)
    elif prov in ("kprobe", "kretprobe", "fentry", "fexit"):
        for line in _kprobes(cat, prov, rest):
            yield line
            if verbose and prov in ("fentry", "fexit"):
                yield from _safe(_btf_params(cat, line.split(":")[-1], False))
                if prov == "fexit":
                    yield from _safe(_btf_retval(cat, line.split(":")[-1]))
    elif prov == "iter":
        yield from _iters(cat, rest, verbose)
    elif prov in ("uprobe", "uretprobe", "usdt"):
        yield from _uprobes(cat, prov, rest, verbose)
    elif prov in ("begin", "end", "interval", "profile", "watchpoint"):
        return


def list_probes(
    pattern: str | None = None, verbose: bool = False, catalog: Catalog | None = None
) -> list[str]:
    """The lines ``-l``/``-lv`` prints for ``pattern`` (every listable probe when None)."""
    cat = catalog if catalog is not None else SystemCatalog()
    pat = (pattern or "*").strip()
    head, _, rest = pat.partition(":")
    prov = ALIASES.get(head, head)
    if prov in (*_LISTABLE, "kretprobe", "fentry", "fexit", "uprobe", "uretprobe", "usdt",
                "tp_btf", "begin", "end", "interval", "profile", "watchpoint"):  # fmt: skip
        if prov == "tracepoint" and rest and ":" not in rest:
            rest = rest + ":*" if "*" in rest else rest
        return list(_provider_lines(cat, prov, rest, verbose))
    # No provider: match the pattern against every listable probe's full name.
    m = _matcher(pat)
    out: list[str] = []
    for p in _LISTABLE:
        lines = list(_provider_lines(cat, p, "", False))
        for line in lines:
            if m.match(line):
                out.append(line)
                if verbose and p == "tracepoint":
                    _, c, n = line.split(":", 2)
                    out.extend(_tp_fields(cat, c, n))
    return out


def script_probes(
    text: str,
    filename: str = "stdin",
    params: list[str] | None = None,
    catalog: Catalog | None = None,
) -> tuple[list[str], FrontendResult]:
    """``-l -e PROG`` / ``-l FILE``: the probes a script would attach, wildcards expanded.

    Returns the names in script order without repeats, and the front-end result (whose
    diagnostics the caller renders when there are errors; the list is then empty).
    """
    from pybpf.passes.pipeline import compile_frontend

    res = compile_frontend(text, filename, params, catalog=catalog, until="expand")
    if res.diags.has_errors():
        return [], res
    names: dict[str, None] = {}
    for probe in res.program.probes:
        for ap in probe.attach_points:
            for name in ap.matches or [ap.name]:
                names.setdefault(name)
    return list(names), res
