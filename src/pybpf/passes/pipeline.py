"""The ordered list of passes and the front end's entry point, :func:`compile_frontend`.

Passes run in order.  A *blocking* pass that reports errors stops the pipeline (a broken
attach point makes later messages noise); other passes let the next ones run, so scope
and type errors are reported together.  Resources are computed only for a clean program.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
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
from pybpf.records import dataclass

#: (name, function, blocking) in the order they run.
PASSES: list[tuple[str, Callable[[ast.Program, PassContext], Any], bool]] = [
    ("params", params.run, False),
    ("config", config.run, False),
    ("macros", macros.run, True),
    ("attachpoints", attachpoints.run, True),
    ("expand", expand.run, True),
    ("scopes", scopes.run, False),
    ("types", typecheck.run, False),
    ("resources", resources.run, False),
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
    # Passes walk the tree recursively; the parser bounds its depth, this leaves headroom.
    if sys.getrecursionlimit() < 5000:
        sys.setrecursionlimit(5000)
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
        for name, fn, blocking in PASSES:
            if name == "resources" and diags.has_errors():
                break
            before = len(diags.errors)
            fn(program, ctx)
            if name == until or (blocking and len(diags.errors) > before):
                break
    return FrontendResult(program, diags, ctx.resources, src, ctx)
