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

from pybpf.diag.diagnostic import Diagnostic, DiagnosticBag, Severity
from pybpf.diag.render import render, render_all
from pybpf.diag.span import SourceFile, Span

__all__ = [
    "Diagnostic",
    "DiagnosticBag",
    "Severity",
    "SourceFile",
    "Span",
    "render",
    "render_all",
]
