"""No traceback, ever: random specs and bytecode give a kernel object or a PybpfError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf.bpf import Map, MapSpec, MapType, Program, ProgSpec, ProgType
from pybpf.errors import PybpfError

pytestmark = pytest.mark.kernel

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    st.sampled_from([t for t in MapType if t != MapType.UNSPEC]),
    st.integers(-1, 300),
    st.integers(-1, 70_000),
    st.integers(-1, 5000),
    st.integers(0, 1 << 12),
)
def test_random_map_specs(mtype: MapType, key: int, value: int, entries: int, flags: int) -> None:
    try:
        spec = MapSpec(mtype, key, value, entries, flags=flags)
        with Map.create(spec):
            pass
    except PybpfError as e:
        assert "\n" not in str(e)


@FAST
@given(
    st.sampled_from([ProgType.SOCKET_FILTER, ProgType.TRACEPOINT, ProgType.XDP, ProgType.KPROBE]),
    st.binary(min_size=0, max_size=96),
)
def test_random_bytecode(ptype: ProgType, code: bytes) -> None:
    try:
        with Program.load(ProgSpec(ptype, code + b"\x95" + bytes(7))):
            pass
    except PybpfError as e:
        assert "\n" not in str(e)
