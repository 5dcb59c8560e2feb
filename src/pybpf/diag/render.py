"""Render diagnostics the way bpftrace prints them.

    stdin:1:9-14: ERROR: Unknown function: 'prinf'
    BEGIN { prinf("x"); }
            ~~~~~
    HINT: Did you mean 'printf'?

Tabs in the quoted source line are shown as four spaces (as bpftrace does), and the marks
are shifted to match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pybpf.diag.diagnostic import Diagnostic
from pybpf.diag.span import SourceFile


def render(diag: Diagnostic, sources: Mapping[str, SourceFile] | SourceFile | None = None) -> str:
    """One diagnostic as text (several lines, no trailing newline)."""
    lines = [str(diag)]
    span = diag.span
    src: SourceFile | None
    if isinstance(sources, SourceFile):
        src = sources if span is not None and sources.name == span.file else None
    elif sources is not None and span is not None:
        src = sources.get(span.file)
    else:
        src = None
    if span is not None and src is not None and span.line > 0:
        text = src.line_text(span.line)
        lines.append(text.replace("\t", "    "))
        start = max(span.col - 1, 0)
        # A span running past its line is underlined to the end of that line.
        stop = span.end_col - 1 if span.end_line == span.line else len(text)
        width = len(text[start:stop].replace("\t", "    ")) or 1
        prefix = " " * len(text[:start].replace("\t", "    "))
        lines.append(prefix + "~" * width)
    lines.extend(f"HINT: {h}" for h in diag.hints)
    return "\n".join(lines)


def render_all(
    diags: Iterable[Diagnostic], sources: Mapping[str, SourceFile] | SourceFile | None = None
) -> str:
    """Every diagnostic rendered, each block followed by a newline."""
    return "".join(render(d, sources) + "\n" for d in diags)
