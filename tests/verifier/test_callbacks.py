"""Verifying ``bpf_for_each_map_elem`` callbacks, checked against the kernel's verdicts."""

from __future__ import annotations

import pytest
from tests.verifier.callbacks import BROKEN, SUM, callback_slots, program

from pybpf.bpf.maps import Map, MapSpec
from pybpf.bpf.prog import Program, ProgSpec
from pybpf.bpf.syscall import MapType, ProgType
from pybpf.errors import VerifierError
from pybpf.verifier import MapInfo, verify

FD = 3
INFOS = {FD: MapInfo(2, 4, 8, 5)}
# our message where it matches the kernel's word for word; None where only the verdict does
MESSAGES = {
    "write_past_value": None,
    "returns_7": "At callback return the register R0 has smin=7 smax=7 should have been in [0, 1]",
    "writes_key": "write to change key R2 not allowed",
}


@pytest.mark.parametrize("ptype", ["socket_filter", "tracepoint", "raw_tracepoint", "perf_event",
                                   "kprobe"])  # fmt: skip
def test_accepts_callback_in_tracing_types(ptype: str) -> None:
    assert verify(program(SUM, FD), ptype, INFOS).ok


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_rejects_broken_callback(name: str) -> None:
    v = verify(program(BROKEN[name], FD), "socket_filter", INFOS)
    assert v.error is not None
    assert v.error.pc >= callback_slots(program(SUM, FD))[0]  # blamed inside the callback
    if MESSAGES[name]:
        assert v.error.message == MESSAGES[name]


def test_callback_must_be_a_function_pointer() -> None:
    text = SUM.replace("    lddw %r2, func(cb)\n", "    mov %r2, 0\n    lddw %r5, func(cb)\n")
    v = verify(program(text, FD), "socket_filter", INFOS)
    assert v.error is not None and v.error.message == "R2 type=0 expected=func"


def test_map_argument_must_be_a_map() -> None:
    text = SUM.replace("    lddw %r1, map_fd({fd})\n", "    mov %r1, 0\n")
    v = verify(program(text, FD), "socket_filter", INFOS)
    assert v.error is not None and v.error.message == "R1 type=0 expected=map_ptr"


def test_ring_buffer_is_not_iterable() -> None:
    v = verify(program(SUM, FD), "socket_filter", {FD: MapInfo(27, 0, 0, 4096)})
    assert v.error is not None
    assert v.error.message == "cannot pass map_type 27 into func bpf_for_each_map_elem#164"


def _kernel_load(text: str, fd: int) -> Program:
    from pybpf.runtime.btfinfo import func_btf

    insns = program(text, fd)
    btf_fd, extra = func_btf(callback_slots(insns))
    with btf_fd:
        return Program.load(ProgSpec(ProgType.SOCKET_FILTER, tuple(insns), **extra))


@pytest.mark.kernel
def test_kernel_agrees() -> None:
    """The kernel runs the accepted program to our result and rejects what we reject."""
    with Map.create(MapSpec(MapType.ARRAY, 4, 8, 5, name="cb")) as m:
        for i, val in enumerate([10, 20, 30, 40, 50]):
            m.update(i.to_bytes(4, "little"), val.to_bytes(8, "little"))
        infos = {m.fd: MapInfo(2, 4, 8, 5)}
        assert verify(program(SUM, m.fd), "socket_filter", infos).ok
        with _kernel_load(SUM, m.fd) as p:
            assert p.test_run(b"\0" * 64).retval == 60 * 256 + 3
        for name, text in BROKEN.items():
            with pytest.raises(VerifierError) as e:
                _kernel_load(text, m.fd).close()
            if MESSAGES[name]:
                assert e.value.last_line == MESSAGES[name]
