"""Wildcard expansion: fill ``AttachPoint.matches`` with concrete probe names.

Tracepoints come from tracefs, raw tracepoints from BTF ``btf_trace_*`` typedefs, kernel
functions from kallsyms (or BTF), uprobe functions from the binary's ELF symbols and USDT
probes from its notes -- all through the injectable :class:`~pybpf.passes.context.Catalog`.
A wildcard that matches nothing is an error; a concrete tracepoint that does not exist is
too.  Kernel function and uprobe names without wildcards are checked at attach time.
"""

from __future__ import annotations

import fnmatch
import re

from pybpf.diag.suggest import did_you_mean
from pybpf.lang import ast
from pybpf.passes.context import PassContext


def has_wildcard(s: str) -> bool:
    """True when ``s`` contains a glob character."""
    return "*" in s or "?" in s or "[" in s


def glob(pattern: str) -> re.Pattern[str]:
    """A compiled matcher for a bpftrace wildcard (``*`` and ``?``), case-sensitive."""
    return re.compile(fnmatch.translate(pattern))


def rawtracepoints(ctx: PassContext) -> list[str]:
    """Raw tracepoint names from BTF (``btf_trace_<name>`` typedefs)."""
    spec = ctx.catalog.btf()
    if spec is None:
        return []
    from pybpf.btf import Kind

    out = []
    for tid, name in spec.names():
        if name.startswith("btf_trace_") and spec.kind(tid) == Kind.TYPEDEF:
            out.append(name[len("btf_trace_") :])
    return sorted(set(out))


def _tp_set(ctx: PassContext) -> frozenset[tuple[str, str]]:
    """The tracepoint names as a set (built once per catalog)."""
    cat = ctx.catalog
    cached: frozenset[tuple[str, str]] | None = getattr(cat, "_pybpf_tp_set", None)
    if cached is None:
        cached = frozenset(cat.tracepoints())
        try:
            cat._pybpf_tp_set = cached  # type: ignore[attr-defined]
        except AttributeError:
            pass
    return cached


def _tracepoint_hint(cat: str, name: str, tps: frozenset[tuple[str, str]]) -> list[str]:
    """A did-you-mean line for a misspelt tracepoint (same category first, then any)."""
    same = sorted(f"{c}:{n}" for c, n in tps if c == cat)
    want = f"{cat}:{name}"
    return did_you_mean(want, same) or did_you_mean(want, (f"{c}:{n}" for c, n in tps))


def _expand_one(ap: ast.AttachPoint, ctx: PassContext) -> list[str]:
    p = ap.provider
    cat = ctx.catalog
    if p == "tracepoint":
        if not has_wildcard(ap.target + ap.func):
            tps = _tp_set(ctx)
            if tps and (ap.target, ap.func) not in tps:
                ctx.diags.error(
                    f"tracepoint not found: {ap.target}:{ap.func}",
                    ap.span,
                    *_tracepoint_hint(ap.target, ap.func, tps),
                )
                return []
            return [f"tracepoint:{ap.target}:{ap.func}"]
        cm, nm = glob(ap.target), glob(ap.func)
        return [f"tracepoint:{c}:{n}" for c, n in cat.tracepoints() if cm.match(c) and nm.match(n)]
    if p in ("rawtracepoint", "tp_btf"):
        if not has_wildcard(ap.func):
            return [ap.name]
        m = glob(ap.func)
        return [f"{p}:{n}" for n in rawtracepoints(ctx) if m.match(n)]
    if p in ("kprobe", "kretprobe", "fentry", "fexit"):
        if not has_wildcard(ap.func):
            return [ap.name]
        m = glob(ap.func)
        return [f"{p}:{n}" for n in cat.kernel_functions() if m.match(n)]
    if p in ("uprobe", "uretprobe"):
        path = cat.resolve_binary(ap.target)
        ap.target = path
        if not has_wildcard(ap.func):
            return [ap.name]
        m = glob(ap.func)
        return [f"{p}:{path}:{n}" for n in cat.elf_functions(path) if m.match(n)]
    if p == "usdt":
        path = cat.resolve_binary(ap.target)
        ap.target = path
        if not has_wildcard(ap.func + ap.namespace):
            return [ap.name]
        nsm, nm = glob(ap.namespace or "*"), glob(ap.func)
        return [
            f"usdt:{path}:{ns}:{n}"
            for ns, n in cat.usdt_probes(path)
            if nsm.match(ns) and nm.match(n)
        ]
    if p == "iter" and has_wildcard(ap.func):
        ctx.diags.error("iter probes do not support wildcards", ap.span)
        return []
    return [ap.name]


def run(program: ast.Program, ctx: PassContext) -> None:
    """Expand every attach point of every probe."""
    for probe in program.probes:
        for ap in probe.attach_points:
            if not ap.provider:
                continue
            if not ctx.options.expand:
                ap.matches = [ap.name]
                continue
            ap.matches = _expand_one(ap, ctx)
        if (
            ctx.options.expand
            and probe.attach_points
            and all(ap.provider for ap in probe.attach_points)
            and not any(ap.matches for ap in probe.attach_points)
            and all(has_wildcard(ap.raw) for ap in probe.attach_points)
        ):
            ctx.diags.error(
                f"No probes matched for {', '.join(ap.raw for ap in probe.attach_points)}",
                probe.span,
            )
