"""Every bpftrace tool Debian ships (/usr/sbin/*.bt) parses and passes analysis.

runqlen.bt is the one exception on kernels where ``struct cfs_rq`` lost ``nr_running``
(6.6+ renamed it): bpftrace 0.17 itself rejects it there with the same message, so we
check for exactly that diagnostic.  tcpconnect.bt and tcpdrop.bt assign ``$saddr`` and
``$daddr`` in both branches of an ``if`` and read them after it, which only 0.17's one
scope per probe allowed: current bpftrace rejects them, and its own versions of the tools
declare the two first (``let $daddr; let $saddr;``). We accept 0.17's form with a warning
per variable, and check that the declared form passes cleanly.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from pybpf.lang.printer import format_program
from pybpf.passes.pipeline import compile_frontend

TOOLS = sorted(glob.glob("/usr/sbin/*.bt"))
_NO_TOOLS = pytest.mark.skipif(not TOOLS, reason="bpftrace tools not installed")


def _cfs_rq_has_nr_running() -> bool:
    from pybpf.passes.context import SystemCatalog

    spec = SystemCatalog().btf()
    if spec is None:
        return True
    from pybpf.passes.btftypes import BtfTypes

    st = BtfTypes(spec).struct("cfs_rq")
    return st is None or st.field("nr_running") is not None


#: Tools written for 0.17's probe-wide variables: the reads after the block (line, columns).
BLOCK_SCOPED = {
    "tcpconnect.bt": [(57, "39-45", "$saddr"), (57, "55-61", "$daddr")],
    "tcpdrop.bt": [(77, "43-49", "$saddr"), (77, "59-65", "$daddr")],
}


def _declare_first(text: str) -> str:
    """The tool as current bpftrace ships it: ``let $daddr; let $saddr;`` opening the probe
    that assigns them in an ``if``."""
    lines = text.splitlines(keepends=True)
    first = next(i for i, ln in enumerate(lines) if "$daddr = " in ln)
    brace = max(i for i in range(first) if lines[i].strip() == "{")
    lines.insert(brace + 1, "  let $daddr;\n  let $saddr;\n")
    return "".join(lines)


@_NO_TOOLS
@pytest.mark.parametrize("path", TOOLS, ids=[Path(p).stem for p in TOOLS])
def test_tool_passes_analysis(path: str) -> None:
    text = Path(path).read_text()
    r = compile_frontend(text, path)
    if Path(path).name in BLOCK_SCOPED:
        assert r.ok, r.render()
        warned = [(d.span.line, f"{d.span.col}-{d.span.end_col}") for d in r.diags.warnings]
        assert warned == [(line, cols) for line, cols, _ in BLOCK_SCOPED[Path(path).name]]
        assert all("accepted as bpftrace 0.17 did" in d.message for d in r.diags.warnings)
        r = compile_frontend(_declare_first(text), path)
        assert r.ok and not r.diags.items, r.render()
        return
    if Path(path).name == "runqlen.bt" and not _cfs_rq_has_nr_running():
        assert [str(d) for d in r.diags] == [
            f"{path}:37:9-26: ERROR: Struct/union of type 'struct cfs_rq' does not contain "
            "a field named 'nr_running'"
        ]
        return
    assert r.ok, r.render()
    assert r.resources is not None
    assert len(r.resources.probes) == len(r.program.probes)


PACKAGED = sorted(glob.glob(str(Path(__file__).parents[2] / "src" / "pybpf" / "tools" / "*.bt")))
TRACER = sorted(glob.glob(str(Path(__file__).parents[1] / "testdata" / "tracer" / "*.bt")))


@pytest.mark.parametrize("path", PACKAGED + TRACER, ids=[Path(p).stem for p in PACKAGED + TRACER])
def test_project_scripts_pass_analysis(path: str) -> None:
    """pybpf's own tools and the tracer's test programs are valid for the front end too."""
    r = compile_frontend(Path(path).read_text(), path)
    assert r.ok, r.render()


@_NO_TOOLS
@pytest.mark.parametrize("path", TOOLS, ids=[Path(p).stem for p in TOOLS])
def test_tool_fmt_roundtrip(path: str) -> None:
    from pybpf.lang.dump import dump_ast
    from pybpf.lang.parser import parse

    r = parse(Path(path).read_text(), path)
    text = format_program(r.program)
    r2 = parse(text, path)
    assert not r2.diags.items
    assert dump_ast(r2.program) == dump_ast(r.program)
