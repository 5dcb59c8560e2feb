"""Source spans and diagnostics for the bpftrace front end.

Every token and AST node carries a :class:`Span`; language errors are :class:`Diagnostic`
records collected in a :class:`DiagnosticBag` (all of them, not just the first) and rendered
in bpftrace's shape by :func:`render`::

    stdin:1:9-14: ERROR: Unknown function: 'prinf'
    BEGIN { prinf("x"); }
            ~~~~~
    HINT: Did you mean 'printf'?
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pybpf.diag.diagnostic import Diagnostic, DiagnosticBag, Severity
    from pybpf.diag.render import render, render_all
    from pybpf.diag.span import SourceFile, Span

# Imported on first use: a cached compiled script carries spans (pybpf.diag.span) and needs
# nothing else from here unless something goes wrong.
_HOME = {
    "Diagnostic": "diagnostic",
    "DiagnosticBag": "diagnostic",
    "Severity": "diagnostic",
    "render": "render",
    "render_all": "render",
    "SourceFile": "span",
    "Span": "span",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Diagnostic",
    "DiagnosticBag",
    "Severity",
    "SourceFile",
    "Span",
    "render",
    "render_all",
]
