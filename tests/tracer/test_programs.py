"""Every program in tests/testdata/tracer runs through pybpftrace with the expected output.

``NAME.bt`` is run as a script file; stdout must equal ``NAME.out`` (text) and, with
``-f json``, ``NAME.json``. The expectations come from bpftrace (see make_expected.py there).
Programs that do not pass yet are listed in XFAIL with the reason (strict: a fix shows up).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "testdata" / "tracer"
PROGRAMS = sorted(p.stem for p in DATA.glob("*.bt"))

#: name -> reason, for programs the tracer cannot run correctly yet.
XFAIL: dict[str, str] = {}
#: (name, "json") -> reason, for JSON-only failures.
XFAIL_JSON: dict[str, str] = {}


class _Result:
    def __init__(self, status: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = status, stdout, stderr


def _run(name: str, *flags: str) -> _Result:
    """Run the CLI in this process (no interpreter start-up per program) with captured output.

    In-process runs also put the kernel-object leak check (``no_leaks``) on every program.
    """
    from pybpf.cli.pybpftrace import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    os.environ.pop("__BPFTRACE_NOTIFY_PROBES_ATTACHED", None)
    sys.stdout, sys.stderr = out, err
    try:
        status = main([*flags, str(DATA / f"{name}.bt")])
    finally:
        sys.stdout, sys.stderr = old
    return _Result(status, out.getvalue(), err.getvalue())


def _params(names: list[str], table: dict[str, str]) -> list[object]:
    return [
        pytest.param(n, marks=pytest.mark.xfail(reason=table[n], strict=True)) if n in table else n
        for n in names
    ]


@pytest.mark.kernel
@pytest.mark.parametrize("name", _params(PROGRAMS, XFAIL))
def test_text(name: str) -> None:
    r = _run(name)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout == (DATA / f"{name}.out").read_text(), r.stderr


@pytest.mark.kernel
@pytest.mark.parametrize(
    "name", _params([n for n in PROGRAMS if (DATA / f"{n}.json").exists()], XFAIL_JSON)
)
def test_json(name: str) -> None:
    r = _run(name, "-f", "json")
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout == (DATA / f"{name}.json").read_text(), r.stderr
