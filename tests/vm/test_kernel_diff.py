"""The VM (both engines) against the kernel: same r0 for random programs.

Programs run as socket filters through ``BPF_PROG_TEST_RUN``; the kernel returns the low
32 bits of r0, and the programs fold r0's high half into the low half before exit, so a
difference anywhere in the 64-bit computation still shows.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from tests.vm.progen import loop_programs, straight_programs

from pybpf.asm import Insn
from pybpf.bpf.prog import Program, ProgSpec
from pybpf.bpf.syscall import ProgType
from pybpf.errors import VerifierError
from pybpf.vm import Machine

PACKET = bytes(range(64))


def _kernel_r0(prog: list[Insn]) -> int:
    try:
        p = Program.load(ProgSpec(ProgType.SOCKET_FILTER, tuple(prog)), log_size=1 << 16)
    except VerifierError:
        # Some generated loops are too complex for the kernel's verifier (it walks every
        # iteration of every path): nothing to compare against, so the example is discarded.
        assume(False)
        raise
    with p:
        return p.test_run(PACKET).retval


def _same_everywhere(prog: list[Insn]) -> None:
    want = _kernel_r0(prog)
    for engine in ("interp", "compiled"):
        assert Machine().load(prog, engine).run() & 0xFFFF_FFFF == want, engine


@pytest.mark.kernel
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(straight_programs())
def test_straight_line_matches_kernel(prog: list[Insn]) -> None:
    _same_everywhere(prog)


@pytest.mark.kernel
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(loop_programs())
def test_loops_match_kernel(prog: list[Insn]) -> None:
    _same_everywhere(prog)
