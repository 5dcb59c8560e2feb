"""The interpreter and the translator agree on random programs (results and faults)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from tests.vm.progen import loop_programs, straight_programs

from pybpf.asm import Insn
from pybpf.vm import Machine, VMError


def _outcome(prog: list[Insn], engine: str) -> tuple[str, int]:
    m = Machine()
    try:
        r0 = m.load(prog, engine).run()
    except VMError as e:
        return ("error", e.pc)
    return ("ok", r0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(straight_programs())
def test_engines_agree_straight(prog: list[Insn]) -> None:
    a = _outcome(prog, "interp")
    assert a[0] == "ok"
    assert a == _outcome(prog, "compiled")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loop_programs())
def test_engines_agree_loops(prog: list[Insn]) -> None:
    a = _outcome(prog, "interp")
    assert a[0] == "ok"
    assert a == _outcome(prog, "compiled")
