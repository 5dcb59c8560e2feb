"""Acceptance: programs built from raw Insns count and stream real events exactly."""

from __future__ import annotations

import ctypes
import os
import struct
import threading

import pytest
from bpf_testprogs import count_by_pid, output_pid, reserve_then

from pybpf.attach import attach_tracepoint
from pybpf.bpf import Map, MapSpec, MapType, Program, ProgSpec, ProgType
from pybpf.bpf.cpus import online_cpus
from pybpf.bpf.info import ObjKind, exists, gone
from pybpf.bpf.perfbuf import PerfBuffer
from pybpf.bpf.ringbuf import RingBuffer

pytestmark = pytest.mark.kernel

N = 1000


def _getpid_n(n: int) -> None:
    # os.getpid() is a real getpid(2) each time (glibc stopped caching the pid in 2.25);
    # calling libc directly makes that independent of Python's implementation.
    libc = ctypes.CDLL(None)
    for _ in range(n):
        libc.getpid()


def test_tracepoint_counts_getpid_exactly() -> None:
    pid = os.getpid()
    with Map.create(MapSpec(MapType.HASH, 4, 8, 1024, name="counts")) as m:
        spec = ProgSpec(
            ProgType.TRACEPOINT, count_by_pid(m.fd, threading.get_native_id()), name="count_getpid"
        )
        with Program.load(spec) as prog:
            prog_id, map_id = prog.id, m.id
            link = attach_tracepoint(prog, "syscalls", "sys_enter_getpid")
            link_id = link.id
            with link:
                _getpid_n(N)
            view = m.view("<I", "<Q")
            assert view[pid] == N
            _getpid_n(10)  # detached: no longer counted
            assert view[pid] == N
            assert not exists(ObjKind.LINK, link_id)
    assert gone(ObjKind.PROG, prog_id)
    assert gone(ObjKind.MAP, map_id)


def test_ringbuf_delivers_every_record() -> None:
    pid = os.getpid()
    with Map.create(MapSpec(MapType.RINGBUF, 0, 0, 1 << 16, name="rb")) as m:
        prog = Program.load(
            ProgSpec(ProgType.TRACEPOINT, output_pid(m.fd, threading.get_native_id(), ringbuf=True))
        )
        got: list[int] = []
        with prog, RingBuffer(m) as rb, attach_tracepoint(prog, "syscalls", "sys_enter_getpid"):
            for _ in range(N // 100):
                _getpid_n(100)  # 100 x 16 bytes fits the ring easily: nothing may be lost
                rb.consume(lambda r: got.append(struct.unpack("<Q", r)[0]))
            assert rb.available() == 0
        assert len(got) == N
        assert set(got) == {pid}
        assert rb.discarded == 0


def test_ringbuf_poll_wakes_up() -> None:
    with Map.create(MapSpec(MapType.RINGBUF, 0, 0, 1 << 14)) as m:
        prog = Program.load(
            ProgSpec(ProgType.TRACEPOINT, output_pid(m.fd, threading.get_native_id(), ringbuf=True))
        )
        with prog, RingBuffer(m) as rb, attach_tracepoint(prog, "syscalls", "sys_enter_getpid"):
            assert rb.read(timeout=0) == []
            _getpid_n(3)
            records = rb.read(timeout=1.0)
        assert len(records) == 3
        assert all(len(r) == 8 for r in records)


def test_perfbuf_reader_gets_records() -> None:
    pid = os.getpid()
    ncpu = max(online_cpus()) + 1
    with Map.create(MapSpec(MapType.PERF_EVENT_ARRAY, 4, 4, ncpu, name="events")) as m:
        prog = Program.load(
            ProgSpec(
                ProgType.TRACEPOINT, output_pid(m.fd, threading.get_native_id(), ringbuf=False)
            )
        )
        with prog, PerfBuffer(m, pages=4) as pb:
            with attach_tracepoint(prog, "syscalls", "sys_enter_getpid"):
                _getpid_n(50)
            events = pb.read(timeout=1.0)
            events += pb.read(timeout=0)
        samples = [e for e in events if not e.lost]
        assert len(samples) == 50
        assert pb.lost == 0
        assert {struct.unpack_from("<Q", e.data)[0] for e in samples} == {pid}


def test_perfbuf_counts_lost_records() -> None:
    ncpu = max(online_cpus()) + 1
    with Map.create(MapSpec(MapType.PERF_EVENT_ARRAY, 4, 4, ncpu)) as m:
        prog = Program.load(
            ProgSpec(
                ProgType.TRACEPOINT, output_pid(m.fd, threading.get_native_id(), ringbuf=False)
            )
        )
        # One data page holds ~170 24-byte samples; 2000 without reading must overflow.
        # Stay on one CPU: the LOST record appears in the overflowed CPU's ring only, ahead
        # of that ring's next sample.
        cpu = min(os.sched_getaffinity(0))
        saved = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
        try:
            _overflow_perfbuf(m, prog)
        finally:
            os.sched_setaffinity(0, saved)


def _overflow_perfbuf(m: Map, prog: Program) -> None:
    with prog, PerfBuffer(m, pages=1, wakeup_events=10_000) as pb:
        with attach_tracepoint(prog, "syscalls", "sys_enter_getpid"):
            _getpid_n(2000)
            events = pb.read(timeout=0)
            # The kernel writes the LOST record once there is room again, ahead of the
            # next sample: so free the ring, then produce one more.
            _getpid_n(1)
        events += pb.read(timeout=0)
    samples = sum(1 for e in events if not e.lost)
    assert pb.lost > 0
    assert samples + pb.lost == 2001


@pytest.mark.parametrize("discard", [False, True])
def test_ringbuf_reserve_submit_and_discard(discard: bool) -> None:
    pid = os.getpid()
    with Map.create(MapSpec(MapType.RINGBUF, 0, 0, 1 << 14)) as m:
        prog = Program.load(
            ProgSpec(ProgType.TRACEPOINT, reserve_then(m.fd, threading.get_native_id(), discard))
        )
        with prog, RingBuffer(m) as rb, attach_tracepoint(prog, "syscalls", "sys_enter_getpid"):
            _getpid_n(30)
            records = rb.read()
            assert rb.available() == 0
        if discard:
            assert (records, rb.discarded) == ([], 30)
        else:
            assert [struct.unpack("<Q", r)[0] for r in records] == [pid] * 30
            assert rb.discarded == 0


def test_ringbuf_callback_error_consumes_the_record() -> None:
    with Map.create(MapSpec(MapType.RINGBUF, 0, 0, 1 << 14)) as m:
        prog = Program.load(
            ProgSpec(ProgType.TRACEPOINT, output_pid(m.fd, threading.get_native_id(), ringbuf=True))
        )
        with prog, RingBuffer(m) as rb, attach_tracepoint(prog, "syscalls", "sys_enter_getpid"):
            _getpid_n(3)

            def boom(_r: memoryview) -> None:
                raise ValueError("bad record")

            with pytest.raises(ValueError):
                rb.consume(boom)
            assert len(rb.read()) == 2  # the failing record is not handed over again


def test_tracepoint_ioctl_attach_counts_exactly() -> None:
    with Map.create(MapSpec(MapType.HASH, 4, 8, 16)) as m:
        spec = ProgSpec(ProgType.TRACEPOINT, count_by_pid(m.fd, threading.get_native_id()))
        with Program.load(spec) as prog:
            link = attach_tracepoint(prog, "syscalls", "sys_enter_getpid", use_link=False)
            with link:
                assert not link.is_bpf_link
                _getpid_n(N)
            _getpid_n(5)  # closing the perf event detached the program
            assert m.view("<I", "<Q")[os.getpid()] == N
