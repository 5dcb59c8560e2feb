"""printf-style format strings: parse specifiers and check argument types.

Used for ``printf``, ``errorf``/``warnf``, ``system`` and ``cat``.  Messages are bpftrace's:
``printf: %d specifier expects a value of type integer (string supplied)``,
``printf: Not enough arguments for format string (1 supplied, 2 expected)``.
"""

from __future__ import annotations

import re

from pybpf.passes import types as T
from pybpf.records import dataclass

_SPEC = re.compile(r"%(?P<flags>[-+ #0]*)(?P<width>\d+|\*)?(?:\.(?P<prec>\d+|\*))?"
                   r"(?P<len>hh|h|ll|l|j|z|t|L)?(?P<conv>rx|rh|r|[diouxXcsp%])")  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """One conversion: ``%-5lld`` has flags ``-``, width 5, length ``ll``, conv ``d``."""

    text: str
    conv: str
    start: int


def specifiers(fmt: str) -> list[Spec]:
    """The argument-consuming conversions of ``fmt`` in order (``%%`` excluded)."""
    out = []
    i = 0
    while True:
        j = fmt.find("%", i)
        if j < 0:
            break
        m = _SPEC.match(fmt, j)
        if m is None:
            i = j + 1
            continue
        if m.group("conv") != "%":
            out.append(Spec(m.group(0), m.group("conv"), j))
        i = m.end()
    return out


def _accepts(conv: str, t: T.Type) -> str | None:
    """None when ``t`` suits ``conv``, else the expected kind's name."""
    cat = T.category(t)
    if conv in "diouxXc":
        return None if cat in ("integer", "pointer") else "integer"
    if conv == "p":
        return None if cat in ("integer", "pointer") else "pointer"
    if conv in ("r", "rx", "rh"):
        return None if cat in ("buffer", "string") else "buffer"
    # %s prints any value through its text rendering (current bpftrace; 0.17 wanted strings).
    return None


def check(func: str, fmt: str, args: list[T.Type]) -> list[tuple[str, int | None]]:
    """Problems with ``fmt`` against ``args`` as (message, index of the culprit arg)."""
    specs = specifiers(fmt)
    problems: list[tuple[str, int | None]] = []
    if len(args) < len(specs):
        problems.append(
            (
                f"{func}: Not enough arguments for format string "
                f"({len(args)} supplied, {len(specs)} expected)",
                None,
            )
        )
    elif len(args) > len(specs):
        problems.append(
            (
                f"{func}: Too many arguments for format string "
                f"({len(args)} supplied, {len(specs)} expected)",
                None,
            )
        )
    for i, (s, t) in enumerate(zip(specs, args, strict=False)):
        want = _accepts(s.conv, t)
        if want is not None:
            problems.append(
                (
                    f"{func}: %{s.conv} specifier expects a value of type {want} "
                    f"({T.category(t)} supplied)",
                    i,
                )
            )
    return problems
