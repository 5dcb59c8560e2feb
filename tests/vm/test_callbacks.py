"""``bpf_for_each_map_elem`` and ``bpf_loop``: callbacks run in both engines alike."""

from __future__ import annotations

import pytest
from tests.verifier.callbacks import SUM, program

from pybpf.asm import assemble
from pybpf.vm import Env, Machine, MapType, VMError

ENGINES = ["interp", "compiled"]


def _machine(map_type: MapType, values: list[int], ncpus: int = 1) -> tuple[Machine, int]:
    m = Machine(Env(ncpus=ncpus, cpu=ncpus - 1))
    fd = m.create_map(int(map_type), 4, 8, 8)
    for i, v in enumerate(values):
        for cpu in range(ncpus):
            val = v + 1000 * cpu  # each CPU's copy differs: only the current one is seen
            m.maps[fd].update(i.to_bytes(4, "little"), val.to_bytes(8, "little"), 0, cpu)
    return m, fd


@pytest.mark.parametrize("engine", ENGINES)
def test_array_sum_stops_when_callback_returns_1(engine: str) -> None:
    m, fd = _machine(MapType.ARRAY, [10, 20, 30, 40, 50])
    assert m.load(program(SUM, fd), engine).run() == 60 * 256 + 3


@pytest.mark.parametrize("engine", ENGINES)
def test_array_visits_every_element(engine: str) -> None:
    m, fd = _machine(MapType.ARRAY, [1, 2, 3])
    # 8 entries (5 zero), no element is 30: all are visited
    assert m.load(program(SUM, fd), engine).run() == 6 * 256 + 8


@pytest.mark.parametrize("engine", ENGINES)
def test_hash_visits_only_present_keys(engine: str) -> None:
    m, fd = _machine(MapType.HASH, [5, 7, 9])
    assert m.load(program(SUM, fd), engine).run() == 21 * 256 + 3


@pytest.mark.parametrize("engine", ENGINES)
def test_percpu_array_sees_current_cpu(engine: str) -> None:
    m, fd = _machine(MapType.PERCPU_ARRAY, [1, 2], ncpus=2)
    # cpu 1's copies: 1001, 1002 and six zero-valued elements
    assert m.load(program(SUM, fd), engine).run() == 2003 * 256 + 8


@pytest.mark.parametrize("engine", ENGINES)
def test_callback_reads_key_and_gets_own_stack(engine: str) -> None:
    text = """
        lddw %r1, map_fd(3)
        lddw %r2, func(cb)
        mov %r3, 0
        mov %r4, 0
        stdw [%r10-8], 99
        call 164
        ldxdw %r1, [%r10-8]
        add %r0, %r1
        exit
    cb:
        stdw [%r10-8], 5
        ldxw %r0, [%r2+0]
        and %r0, 0
        exit
    """
    m, fd = _machine(MapType.ARRAY, [0, 0, 0])
    assert fd == 3
    # 8 elements visited; the callback's fp-8 is not the caller's
    assert m.load(assemble(text, "rfmt"), engine).run() == 8 + 99


@pytest.mark.parametrize("engine", ENGINES)
def test_bpf_loop(engine: str) -> None:
    text = """
        mov %r1, 10
        lddw %r2, func(cb)
        mov %r3, %r10
        add %r3, -8
        stdw [%r10-8], 0
        mov %r4, 0
        call 181
        ldxdw %r1, [%r10-8]
        lsh %r1, 8
        add %r0, %r1
        exit
    cb:
        ldxdw %r3, [%r2+0]
        add %r3, %r1
        stxdw [%r2+0], %r3
        mov %r0, 0
        jne %r1, 6, out
        mov %r0, 1
    out:
        exit
    """
    # indexes 0..6 summed (21), stopping after the 7th call
    assert Machine().load(assemble(text, "rfmt"), engine).run() == 21 * 256 + 7


@pytest.mark.parametrize("engine", ENGINES)
def test_fault_in_callback_names_its_instruction(engine: str) -> None:
    m, fd = _machine(MapType.ARRAY, [1])
    text = SUM.replace("    ldxdw %r1, [%r3+0]\n", "    ldxdw %r1, [%r3+8]\n")
    with pytest.raises(VMError) as e:
        m.load(program(text, fd), engine).run()
    assert e.value.pc == 14


@pytest.mark.parametrize("engine", ENGINES)
def test_instructions_in_callbacks_are_counted(engine: str) -> None:
    m, fd = _machine(MapType.ARRAY, [1, 2, 3])
    m.insn_limit = 40  # 12 in the caller, 8 per callback: the limit hits in the 4th
    with pytest.raises(VMError, match="instruction limit 40 exceeded"):
        m.load(program(SUM, fd), engine).run()
