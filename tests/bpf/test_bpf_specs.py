"""Plain-data parts of the bpf layer: specs, attribute packing, codecs, CPU lists, fds."""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pybpf.asm import Insn
from pybpf.bpf import MapSpec, MapType, ProgSpec, ProgType
from pybpf.bpf.codec import Codec
from pybpf.bpf.cpus import parse_cpu_list
from pybpf.bpf.fd import Fd
from pybpf.bpf.perf import PerfAttr
from pybpf.bpf.syscall import AttachType, PerfFlag, PerfSw, PerfType
from pybpf.errors import UsageError


def test_map_spec_packs_map_create_attr() -> None:
    spec = MapSpec(MapType.HASH, 4, 8, 1024, flags=1, name="counts")
    a = spec.attr()
    assert struct.unpack_from("<5I", a, 0) == (1, 4, 8, 1024, 1)
    assert a[28:44] == b"counts" + bytes(10)
    assert not spec.per_cpu
    assert MapSpec(MapType.PERCPU_ARRAY, 4, 8, 1).per_cpu
    assert spec == MapSpec(MapType.HASH, 4, 8, 1024, flags=1, name="counts")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x" * 16}, "at most 15 characters"),
        ({"name": "a b"}, "at most 15 characters"),
        ({"key_size": -1}, "key_size must be >= 0"),
    ],
)
def test_map_spec_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "type": MapType.HASH,
        "key_size": 4,
        "value_size": 4,
        "max_entries": 1,
    }
    with pytest.raises(UsageError, match=message):
        MapSpec(**{**base, **kwargs})  # type: ignore[arg-type]


def test_ringbuf_spec_needs_power_of_two_pages() -> None:
    MapSpec(MapType.RINGBUF, 0, 0, 1 << 16)
    for bad in (1000, 4096 * 3, 0):
        with pytest.raises(UsageError, match="power-of-2"):
            MapSpec(MapType.RINGBUF, 0, 0, bad)
    with pytest.raises(UsageError):
        MapSpec(MapType.RINGBUF, 4, 0, 4096)


def test_prog_spec_packs_prog_load_attr() -> None:
    insns = [Insn(0x18, 1, 1, 0, 5), Insn(0xB7, 0, 0, 0, 0), Insn(0x95)]
    spec = ProgSpec(ProgType.TRACING, insns, name="p", expected_attach_type=AttachType.TRACE_ITER,
                    attach_btf_id=77)  # fmt: skip
    assert spec.insn_count == 4  # lddw is two slots
    log = bytearray(100)
    a, keep = spec.attr(log, 1)
    assert struct.unpack_from("<II", a, 0) == (ProgType.TRACING, 4)
    assert struct.unpack_from("<II", a, 24) == (1, 100)
    assert a[48:50] == b"p\0"
    assert struct.unpack_from("<I", a, 68)[0] == AttachType.TRACE_ITER
    assert struct.unpack_from("<I", a, 108)[0] == 77
    assert bytes(keep[0]) == spec.code()
    assert bytes(keep[1]) == b"GPL\0"


def test_prog_spec_rejects_bad_input() -> None:
    with pytest.raises(UsageError, match="no instructions"):
        ProgSpec(ProgType.XDP, [])
    with pytest.raises(UsageError, match="partial"):
        ProgSpec(ProgType.XDP, b"\x95\0\0\0")
    with pytest.raises(UsageError, match="15 characters"):
        ProgSpec(ProgType.XDP, [Insn(0x95)], name="n" * 20)


def test_codecs() -> None:
    c = Codec("<I")
    assert c.encode(5) == b"\5\0\0\0" and c.decode(b"\5\0\0\0") == 5
    pair = Codec("<IH")
    assert pair.decode(pair.encode((1, 2))) == (1, 2)
    raw = Codec(None)
    assert raw.encode(b"ab") == b"ab"
    fn = Codec((lambda s: s.encode().ljust(8, b"\0"), lambda b: b.rstrip(b"\0").decode()))
    assert fn.decode(fn.encode("comm")) == "comm"


@given(st.lists(st.integers(0, 300), min_size=1, max_size=20))
def test_cpu_list_round_trip(cpus: list[int]) -> None:
    text = ",".join(str(c) for c in cpus)
    assert parse_cpu_list(text) == sorted(set(cpus))


def test_cpu_list_ranges() -> None:
    assert parse_cpu_list("0-3,5,7-8\n") == [0, 1, 2, 3, 5, 7, 8]
    assert parse_cpu_list("0\n") == [0]


def test_perf_attr_layout() -> None:
    a = PerfAttr(PerfType.SOFTWARE, PerfSw.CPU_CLOCK, 99, flags=PerfFlag.FREQ | PerfFlag.DISABLED,
                 wakeup=3, config1=0x1234, config2=0x40).pack()  # fmt: skip
    assert struct.unpack_from("<IIQQ", a, 0) == (1, len(a), 0, 99)
    assert struct.unpack_from("<Q", a, 40)[0] == (1 << 10) | 1
    assert struct.unpack_from("<I", a, 48)[0] == 3
    assert struct.unpack_from("<QQ", a, 56) == (0x1234, 0x40)


def test_fd_closes_once_and_is_dup_safe() -> None:
    r, w = os.pipe()
    fd = Fd(r, "pipe")
    dup = fd.dup()
    assert dup.fd != fd.fd
    fd.close()
    fd.close()
    assert fd.closed
    with pytest.raises(ValueError, match="closed"):
        _ = fd.fd
    os.write(w, b"x")
    assert os.read(dup.fd, 1) == b"x"  # the duplicate still works
    with dup:
        pass
    assert dup.closed
    os.close(w)


def test_fd_finalizer_is_a_backstop() -> None:
    r, w = os.pipe()
    fd = Fd(r)
    del fd
    import gc

    gc.collect()
    with pytest.raises(OSError):
        os.fstat(r)
    os.close(w)


def test_fd_registers_no_exit_handler() -> None:
    """pybpftrace skips the interpreter's teardown only when no exit handler is registered
    (``pybpf.cli.pybpftrace.console_main``); weakref.finalize would register one."""
    import subprocess
    import sys

    code = (
        "import atexit, os\n"
        "before = atexit._ncallbacks()  # site's .pth files may have registered some\n"
        "from pybpf.bpf.fd import Fd\n"
        "f = Fd(os.dup(0)); g = Fd(os.dup(0)); g.close()\n"
        "print(atexit._ncallbacks() - before)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == "0"
