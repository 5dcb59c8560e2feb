#!/usr/bin/env python3
"""Benchmarks of the kernel layer (run as root): ``pybpf feature`` against ``bpftool feature
probe``, map operations per second, and ring/perf buffer delivery rates.

    python3 bench/bpf_layer.py [--reps N]

Prints one line per measurement: name, median, min, max. Figures belong in BENCHMARKS.md,
never in tests.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "bpf"))

from bpf_testprogs import output_pid

from pybpf.attach import attach_tracepoint
from pybpf.bpf import Map, MapSpec, MapType, Program, ProgSpec, ProgType
from pybpf.bpf.cpus import online_cpus
from pybpf.bpf.perfbuf import PerfBuffer
from pybpf.bpf.ringbuf import RingBuffer


def report(name: str, samples: list[float], unit: str) -> None:
    med = statistics.median(samples)
    print(f"{name:<40} {med:>12.1f} {unit}  (min {min(samples):.1f}, max {max(samples):.1f},"
          f" n={len(samples)})")  # fmt: skip


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - t) * 1000


def bench_feature(reps: int) -> None:
    report("python -c pass (interpreter floor)", [wall([sys.executable, "-c", "pass"])
                                                  for _ in range(reps)], "ms")  # fmt: skip
    report("pybpf feature (wall)", [wall([sys.executable, "-m", "pybpf", "feature"])
                                    for _ in range(reps)], "ms")  # fmt: skip
    report("pybpf feature --json (wall)", [wall([sys.executable, "-m", "pybpf", "feature",
                                                 "--json"]) for _ in range(reps)], "ms")  # fmt: skip
    if shutil.which("bpftool"):
        report("bpftool feature probe (wall)", [wall(["bpftool", "feature", "probe"])
                                                for _ in range(reps)], "ms")  # fmt: skip


def rate(n: int, body: Callable[[], None]) -> float:
    t = time.perf_counter()
    body()
    return n / (time.perf_counter() - t)


def bench_maps(reps: int) -> None:
    n = 20_000
    with Map.create(MapSpec(MapType.HASH, 4, 8, n)) as m:
        keys = [struct.pack("<I", i) for i in range(n)]
        val = struct.pack("<Q", 1)

        def upd() -> None:
            for k in keys:
                m.update(k, val)

        def look() -> None:
            for k in keys:
                m.lookup(k)

        report("map update (hash)", [rate(n, upd) for _ in range(reps)], "ops/s")
        report("map lookup (hash)", [rate(n, look) for _ in range(reps)], "ops/s")
        report("map lookup_batch (hash, 20k entries)",
               [rate(n, lambda: m.lookup_batch(chunk=4096)) for _ in range(reps)], "entries/s")  # fmt: skip
        report("map iterate keys+lookup (hash)",
               [rate(n, lambda: list(m.items())) for _ in range(reps)], "entries/s")  # fmt: skip


def bench_buffers(reps: int) -> None:
    libc = ctypes.CDLL(None)
    n = 100_000

    def ring_once() -> float:
        got = 0

        def cb(_r: memoryview) -> None:
            nonlocal got
            got += 1

        with Map.create(MapSpec(MapType.RINGBUF, 0, 0, 1 << 22)) as m:
            prog = Program.load(
                ProgSpec(ProgType.TRACEPOINT, output_pid(m.fd, threading.get_native_id(), True))
            )
            with prog, RingBuffer(m) as rb, attach_tracepoint(prog, "syscalls", "sys_enter_getpid"):
                for _ in range(n):
                    libc.getpid()
                t = time.perf_counter()
                rb.consume(cb)
                dt = time.perf_counter() - t
        assert got == n, got
        return n / dt

    def perf_once() -> float:
        got = 0
        ncpu = max(online_cpus()) + 1

        def cb(_e: object) -> None:
            nonlocal got
            got += 1

        with Map.create(MapSpec(MapType.PERF_EVENT_ARRAY, 4, 4, ncpu)) as m:
            prog = Program.load(
                ProgSpec(ProgType.TRACEPOINT, output_pid(m.fd, threading.get_native_id(), False))
            )
            with prog, PerfBuffer(m, pages=1024, wakeup_events=1 << 30) as pb:
                with attach_tracepoint(prog, "syscalls", "sys_enter_getpid"):
                    for _ in range(n):
                        libc.getpid()
                t = time.perf_counter()
                pb.consume(cb)
                dt = time.perf_counter() - t
        return got / dt

    report("ringbuf consume (8-byte records)", [ring_once() for _ in range(reps)], "records/s")
    report("perfbuf consume (8-byte samples)", [perf_once() for _ in range(reps)], "records/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    print(f"# {os.uname().release}, {len(online_cpus())} CPUs, load {os.getloadavg()[0]:.2f}")
    bench_feature(args.reps)
    bench_maps(args.reps)
    bench_buffers(args.reps)


if __name__ == "__main__":
    main()
