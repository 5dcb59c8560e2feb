"""Semantic passes over the bpftrace AST, and the front end's entry points.

``compile_frontend(source, filename, params)`` parses and analyses a script (see
:mod:`pybpf.passes.pipeline`); ``list_probes(pattern, verbose)`` is ``-l``/``-lv``
(:mod:`pybpf.lang.listing`).  Both are imported lazily so ``import pybpf.passes`` stays
cheap.
"""

from __future__ import annotations

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.lang.listing import list_probes
    from pybpf.passes.pipeline import FrontendResult, compile_frontend

__all__ = ["FrontendResult", "compile_frontend", "list_probes"]


def __getattr__(name: str) -> Any:
    if name in ("compile_frontend", "FrontendResult"):
        from pybpf.passes import pipeline

        return getattr(pipeline, name)
    if name == "list_probes":
        from pybpf.lang.listing import list_probes

        return list_probes
    raise AttributeError(name)
