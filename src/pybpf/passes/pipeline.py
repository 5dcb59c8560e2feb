"""The ordered list of passes and the front end's entry point, :func:`compile_frontend`.

Passes run in order; after a pass reports errors, later passes that depend on a clean tree
are skipped (the parse errors or attach-point errors are what the user needs first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pybpf.diag import DiagnosticBag, SourceFile, render_all
from pybpf.lang import ast
from pybpf.lang.parser import Parser
from pybpf.passes import (
    attachpoints,
    config,
    expand,
    macros,
    params,
    resources,
    scopes,
    typecheck,
)
from pybpf.passes.context import Catalog, Options, PassContext, SystemCatalog
from pybpf.passes.resources import Resources

#: (name, function, stop-on-earlier-errors) in the order they run.
PASSES: list[tuple[str, Callable[[ast.Program, PassContext], Any], bool]] = [
    ("params", params.run, False),
    ("config", config.run, False),
    ("macros", macros.run, False),
    ("attachpoints", attachpoints.run, False),
    ("expand", expand.run, True),
    ("scopes", scopes.run, False),
    ("types", typecheck.run, True),
    ("resources", resources.run, True),
]


@dataclass
class FrontendResult:
    """What the front end produces: the typed AST, the diagnostics, the resources."""

    program: ast.Program
    diags: DiagnosticBag
    resources: Resources | None
    source: SourceFile
    context: PassContext

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.diags.has_errors()

    def render(self) -> str:
        """All diagnostics rendered bpftrace-style."""
        return render_all(self.diags, self.source)


def compile_frontend(
    source: str,
    filename: str = "stdin",
    params: list[str] | None = None,
    *,
    unsafe: bool = False,
    catalog: Catalog | None = None,
    expand_wildcards: bool = True,
    until: str | None = None,
) -> FrontendResult:
    """Parse and analyse a script.

    Returns a :class:`FrontendResult`; ``resources`` is None when analysis stopped on
    errors.  ``until`` names the last pass to run (e.g. ``"macros"`` for ``-d ast`` dumps).
    """
    diags = DiagnosticBag()
    src = SourceFile(filename, source)
    program = Parser(src, diags).program()
    ctx = PassContext(
        src,
        diags,
        Options(params=list(params or []), unsafe=unsafe, expand=expand_wildcards),
        catalog if catalog is not None else SystemCatalog(),
    )
    if not diags.has_errors():
        for name, fn, strict in PASSES:
            if strict and diags.has_errors():
                break
            fn(program, ctx)
            if name == until:
                break
    return FrontendResult(program, diags, ctx.resources, src, ctx)
