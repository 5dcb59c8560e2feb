"""Attach points: split the raw text, resolve aliases, validate each provider's form.

Fills :class:`~pybpf.lang.ast.AttachPoint` fields (``provider``, ``target``, ``func``,
``freq``/``unit``, ``address``/``length``/``mode`` ...).  Messages follow bpftrace's
(``tracepoint probe type requires 2 arguments``, ``foo is not an accepted unit of time``).
"""

from __future__ import annotations

from pybpf.diag.suggest import did_you_mean
from pybpf.lang import ast
from pybpf.lang.lexer import parse_int_literal
from pybpf.passes.context import PassContext
from pybpf.passes.probetypes import (
    ALIASES,
    HARDWARE,
    PROVIDERS,
    SOFTWARE,
    TIME_UNITS,
    split_raw,
)

__all__ = ["ALIASES", "HARDWARE", "PROVIDERS", "SOFTWARE", "TIME_UNITS", "run", "split_raw"]


def _canon_event(name: str, table: dict[str, str]) -> str | None:
    if name in table:
        return name
    for full, short in table.items():
        if short and short == name:
            return full
    return None


class _Checker:
    def __init__(self, ctx: PassContext) -> None:
        self.ctx = ctx

    def error(self, ap: ast.AttachPoint, msg: str) -> None:
        self.ctx.diags.error(msg, ap.span)

    def arity(
        self, ap: ast.AttachPoint, spelled: str, args: list[str], allowed: tuple[int, ...]
    ) -> bool:
        if len(args) in allowed:
            return True
        if allowed == (0,):
            want = "0 arguments"
        elif len(allowed) == 1:
            want = f"{allowed[0]} argument" + ("s" if allowed[0] != 1 else "")
        else:
            want = " or ".join(str(a) for a in allowed) + " arguments"
        self.error(ap, f"{spelled} probe type requires {want}")
        return False

    def check(self, ap: ast.AttachPoint) -> None:
        parts = split_raw(ap.raw)
        spelled, args = parts[0], parts[1:]
        prov = ALIASES.get(spelled, spelled)
        if prov not in PROVIDERS:
            hints = did_you_mean(spelled, PROVIDERS | set(ALIASES))
            self.ctx.diags.error(f"Invalid probe type: {spelled}", ap.span, *hints)
            return
        ap.provider = prov
        getattr(self, "p_" + prov.replace("-", "_"), self.p_other)(ap, spelled, args)

    def p_begin(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        self.arity(ap, sp, args, (0,))

    p_end = p_begin
    p_self = p_other = p_test = p_bench = p_begin

    def p_tracepoint(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        if self.arity(ap, sp, args, (2,)):
            ap.target, ap.func = args
            if not ap.target or not ap.func:
                self.error(ap, "tracepoint category and name must not be empty")

    def _func_offset(self, ap: ast.AttachPoint, text: str, allow_offset: bool) -> None:
        func, plus, off = text.partition("+")
        if plus:
            v = parse_int_literal(off)
            if v is None:
                self.error(ap, f"Invalid offset: {off}")
            elif not allow_offset:
                self.error(ap, f"Offset not allowed for {ap.provider} probes")
            else:
                ap.offset = v
        if func.startswith("0x") or (func[:1].isdigit() and func.isascii() and func.isalnum()):
            addr = parse_int_literal(func)
            if addr is None:
                self.error(ap, f"Invalid address: {func}")
            ap.address = addr
            func = ""
        ap.func = func
        if not func and ap.address is None:
            self.error(ap, f"{ap.provider} probe needs a function name")

    def p_kprobe(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        if self.arity(ap, sp, args, (1, 2)):
            if len(args) == 2:
                ap.target = args[0]
            self._func_offset(ap, args[-1], ap.provider == "kprobe")

    p_kretprobe = p_kprobe

    def p_fentry(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        if self.arity(ap, sp, args, (1, 2)):
            if len(args) == 2:
                ap.target = args[0]
            ap.func = args[-1]
            if not ap.func:
                self.error(ap, f"{ap.provider} probe needs a function name")

    p_fexit = p_rawtracepoint = p_tp_btf = p_fentry

    def p_uprobe(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        if not self.arity(ap, sp, args, (2, 3)):
            return
        ap.target = args[0]
        if len(args) == 3:
            ap.lang = args[1]
            if ap.lang not in ("cpp", "c"):
                self.error(ap, f"unsupported probe language: {ap.lang}")
        if not ap.target:
            self.error(ap, f"{ap.provider} probe needs a binary path")
        self._func_offset(ap, args[-1], ap.provider == "uprobe")

    p_uretprobe = p_uprobe

    def p_usdt(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        if self.arity(ap, sp, args, (2, 3)):
            ap.target = args[0]
            if len(args) == 3:
                ap.namespace = args[1]
            ap.func = args[-1]

    def _rate(self, ap: ast.AttachPoint, text: str, what: str) -> int:
        v = parse_int_literal(text) if text.isascii() and (text.isdigit() or "_" in text) else None
        if v is None:
            self.error(ap, f"Invalid {what}: {text}")
            return 0
        if v <= 0:
            self.error(ap, f"{ap.provider} {what} must be a positive integer")
        return v

    def p_profile(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        if not self.arity(ap, sp, args, (1, 2)):
            return
        if len(args) == 2:
            unit, rate = args
        else:
            # interval:1s / interval:100ms / profile:99 (hz by default for profile)
            text = args[0]
            i = len(text)
            while i > 0 and not "0" <= text[i - 1] <= "9":
                i -= 1
            rate, unit = text[:i], text[i:] or ("hz" if ap.provider == "profile" else "")
            if not unit:
                self.error(ap, f"{text} has no unit of time")
                return
        if unit not in TIME_UNITS:
            self.error(ap, f"{unit} is not an accepted unit of time")
            return
        ap.unit = unit
        ap.freq = self._rate(ap, rate, "rate")

    p_interval = p_profile

    def _event(self, ap: ast.AttachPoint, sp: str, args: list[str], table: dict[str, str]) -> None:
        if not self.arity(ap, sp, args, (1, 2)):
            return
        name = _canon_event(args[0], table)
        if name is None:
            self.error(ap, f"{args[0]} is not a {ap.provider} probe")
            return
        ap.target = name
        if len(args) == 2:
            ap.freq = self._rate(ap, args[1], "count")

    def p_software(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        self._event(ap, sp, args, SOFTWARE)

    def p_hardware(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        self._event(ap, sp, args, HARDWARE)

    def p_watchpoint(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        if not self.arity(ap, sp, args, (3,)):
            return
        addr, length, mode = args
        a = parse_int_literal(addr)
        if a is None:
            ap.func = addr  # func+argN form: resolved at attach time
        else:
            ap.address = a
        n = parse_int_literal(length)
        if n not in (1, 2, 4, 8):
            self.error(ap, "watchpoint length must be one of (1,2,4,8)")
        else:
            ap.length = n
        if (
            not mode
            or any(c not in "rwx" for c in mode)
            or len(set(mode)) != len(mode)
            or ("x" in mode and len(mode) > 1)
        ):
            self.error(ap, f"invalid watchpoint mode: {mode}")
        else:
            ap.mode = "".join(c for c in "rwx" if c in mode)

    p_asyncwatchpoint = p_watchpoint

    def p_iter(self, ap: ast.AttachPoint, sp: str, args: list[str]) -> None:
        if not self.arity(ap, sp, args, (1, 2)):
            return
        ap.func = args[0]
        if len(args) == 2:
            ap.target = args[1]  # pin path
        spec = self.ctx.catalog.btf()
        if spec is not None and "*" not in ap.func:
            from pybpf.btf import Kind

            if not spec.find_all(f"bpf_iter__{ap.func}", Kind.STRUCT):
                self.error(ap, f"iter {ap.func} not available for your kernel version.")


def run(program: ast.Program, ctx: PassContext) -> None:
    """Parse and validate every attach point."""
    c = _Checker(ctx)
    for probe in program.probes:
        for ap in probe.attach_points:
            c.check(ap)
