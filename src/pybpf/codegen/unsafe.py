# mypy: disable-error-code="no-any-return"
"""The functions that change the traced system: ``signal()``, ``override()``, ``write_user()``.

All three need ``--unsafe``. ``signal(SIG)`` sends a signal to the current process with
``bpf_send_signal``: ``SIG`` is a name (``"SIGUSR1"`` or ``"USR1"``) or a number 1-64.
``override(rc)`` makes the probed kernel function return ``rc`` (``bpf_override_return``;
kprobes only). ``write_user(ptr, value)`` writes an integer into the current process's memory
(``bpf_probe_write_user``, as many bytes as the value's type). Kernels that lack a helper
(``pybpf feature`` lists them) reject the program at load time, and the tracer turns that
rejection into a one-line error naming the helper (see :func:`missing_helper`).
"""

from __future__ import annotations

import re
import signal as _signal
from typing import Any

from pybpf.asm.opcodes import AluOp
from pybpf.codegen.emit import FP, R1, R2, R3, R6
from pybpf.codegen.frame import CodegenError, Val
from pybpf.lang import ast
from pybpf.passes.types import IntType

Gen = Any

SEND_SIGNAL = 109
OVERRIDE_RETURN = 58
PROBE_WRITE_USER = 36

HELPERS = {
    SEND_SIGNAL: "bpf_send_signal",
    OVERRIDE_RETURN: "bpf_override_return",
    PROBE_WRITE_USER: "bpf_probe_write_user",
}
FUNCTIONS = {
    "bpf_send_signal": "signal",
    "bpf_override_return": "override",
    "bpf_probe_write_user": "write_user",
}
NAMES = ("signal", "override", "write_user")


def signal_number(name: str) -> int | None:
    """The number of a signal named ``SIGUSR1``, ``USR1`` or ``sigusr1``; None if unknown."""
    n = name.upper()
    if not n.startswith("SIG"):
        n = "SIG" + n
    sig = getattr(_signal.Signals, n, None) if n in _signal.Signals.__members__ else None
    return int(sig) if sig is not None else None


def unsafe_call(gen: Gen, c: ast.Call) -> None:
    """Generate ``signal``/``override``/``write_user`` (a statement; they return nothing)."""
    gen.script.require_unsafe(c.name, c.span)
    if c.name == "signal":
        _signal_call(gen, c)
    elif c.name == "override":
        _override_call(gen, c)
    else:
        _write_user_call(gen, c)


def _arg_in_r1(gen: Gen, e: ast.Expr) -> None:
    v = gen.int_value(e)
    gen.frame.before_call()
    r = gen.frame.reg_of(v, R1)
    if r != R1:
        gen.em.mov(R1, r)
    gen.frame.free(v)


def _signal_call(gen: Gen, c: ast.Call) -> None:
    if len(c.args) != 1:
        raise CodegenError("signal() takes one argument: a signal name or number", c.span)
    arg = c.args[0]
    if isinstance(arg, ast.String):
        sig = signal_number(arg.value)
        if sig is None:
            raise CodegenError(f"signal(): unknown signal '{arg.value}'", arg.span)
        gen.frame.before_call()
        gen.em.movi(R1, sig)
    else:
        if isinstance(arg, ast.Integer) and not 1 <= arg.value <= 64:
            raise CodegenError("signal(): the signal number must be between 1 and 64", arg.span)
        _arg_in_r1(gen, arg)
    gen.frame.call(SEND_SIGNAL)


def _override_call(gen: Gen, c: ast.Call) -> None:
    kinds = {ap.provider for ap in gen.probe.attach_points}
    if not kinds <= {"kprobe"}:
        raise CodegenError("override() can only be used in kprobe probes", c.span)
    if len(c.args) != 1:
        raise CodegenError("override() takes one argument: the return value", c.span)
    v = gen.int_value(c.args[0])
    gen.frame.before_call()
    r = gen.frame.reg_of(v, R2)
    if r != R2:
        gen.em.mov(R2, r)
    gen.frame.free(v)
    gen.em.mov(R1, R6)  # the program's context (pt_regs)
    gen.frame.call(OVERRIDE_RETURN)


def _write_user_call(gen: Gen, c: ast.Call) -> None:
    if len(c.args) != 2:
        raise CodegenError("write_user() takes two arguments: a user pointer and a value", c.span)
    t = gen.typeof(c.args[1])
    size = t.size if isinstance(t, IntType) and t.size in (1, 2, 4, 8) else 8
    tmp = Val("mem", IntType(size * 8, False), reg=FP, off=gen.frame.alloc_stack(8), owned=False)
    v = gen.int_value(c.args[1])
    gen.em.stx(8, FP, tmp.off, gen.frame.reg_of(v, R1))
    gen.frame.free(v)
    _arg_in_r1(gen, c.args[0])
    gen.em.mov(R2, FP)
    gen.em.alui(AluOp.ADD, R2, tmp.off)
    gen.em.movi(R3, size)
    gen.frame.call(PROBE_WRITE_USER)


_UNAVAILABLE = re.compile(r"(?:cannot use|unknown func|invalid func)\D*?(bpf_\w+)#(\d+)")


def missing_helper(verifier_log: str) -> str | None:
    """When the verifier refused one of these helpers, the one-line reason; else None."""
    m = _UNAVAILABLE.search(verifier_log)
    if m is None or int(m.group(2)) not in HELPERS:
        return None
    helper = m.group(1)
    func = FUNCTIONS.get(helper, helper)
    feature = helper.removeprefix("bpf_")
    return (
        f"{func}() needs the {helper} helper, which this kernel does not offer"
        f" (`pybpf feature` lists {feature}: no)"
    )


__all__ = ["NAMES", "missing_helper", "signal_number", "unsafe_call"]
