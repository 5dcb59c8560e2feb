"""The bpf_conformance suite: every positive file in both engines, every negative rejected.

No exclusions: all 313 positive files run. ``error.data`` (reads an uninitialised r0) is
only rejectable statically, so the verifier is the judge there; ``incorrect_return_value_*``
files are negative because their stated result is wrong, so the VM must disagree with it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.vm.conformance import NEGATIVE, POSITIVE, parse

from pybpf.asm import DecodeError, encode
from pybpf.errors import AsmError
from pybpf.verifier import verify
from pybpf.vm import Machine, VMError


@pytest.mark.parametrize("engine", ["interp", "compiled"])
@pytest.mark.parametrize("path", POSITIVE, ids=[p.name for p in POSITIVE])
def test_positive(path, engine: str) -> None:  # type: ignore[no-untyped-def]
    case = parse(path)
    assert case.result is not None
    assert Machine().load(case.program(), engine).run(case.mem) == case.result


def test_suite_is_complete() -> None:
    assert len(POSITIVE) == 313
    assert len(NEGATIVE) == 60


@pytest.mark.parametrize("path", NEGATIVE, ids=[p.name for p in NEGATIVE])
def test_negative(path) -> None:  # type: ignore[no-untyped-def]
    case = parse(path)
    try:
        prog = case.program()
    except (AsmError, DecodeError):
        return  # rejected by the assembler
    try:
        results = {Machine().load(prog, e).run(case.mem) for e in ("interp", "compiled")}
    except VMError:
        return  # rejected by the VM at load or at run time
    if case.expects_error:
        rejected = verify(prog, "conformance")
        assert not rejected.ok, "verifier accepted a program that must be rejected"
    else:
        assert results != {case.result}, "negative file produced its (wrong) stated result"


SAMPLE = [p for i, p in enumerate(POSITIVE) if i % 20 == 0]


@pytest.mark.parametrize("path", SAMPLE, ids=[p.name for p in SAMPLE])
def test_plugin_contract(path) -> None:  # type: ignore[no-untyped-def]
    case = parse(path)
    argv = [sys.executable, "-m", "pybpf", "run", "--plugin"]
    if case.mem is not None:
        argv.append(case.mem.hex())
    out = subprocess.run(argv, input=encode(case.program()), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.decode().strip(), 16) == case.result


def test_plugin_reports_errors() -> None:
    argv = [sys.executable, "-m", "pybpf", "run", "--plugin"]
    out = subprocess.run(argv, input=bytes.fromhex("0710000001000000"), capture_output=True)
    assert out.returncode != 0
    assert b"reserved fields" in out.stderr
    assert out.stdout == b""
