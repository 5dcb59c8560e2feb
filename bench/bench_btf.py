#!/usr/bin/env python3
"""Benchmarks of the parsing layer: BTF, kallsyms, tracefs, ELF symbols.

    python3 bench/bench_btf.py [--reps N]

Prints one line per measurement: name, median, min, max (milliseconds). "cold" BTF runs use
an empty cache directory (the offset index is rebuilt); "warm" runs reuse it. Process
timings run the console script directly (bin/pybpf beside this interpreter), so a version
manager's shim is not counted. Figures belong in BENCHMARKS.md, never in tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _stats(name: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(
        f"{name:<52} median {statistics.median(ms):8.1f} ms   min {min(ms):8.1f}   max {max(ms):8.1f}"
    )


def _timed(
    fn: Callable[[], object], reps: int, before: Callable[[], None] | None = None
) -> list[float]:
    out = []
    for _ in range(reps):
        if before is not None:
            before()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _script() -> list[str]:
    cand = Path(sys.executable).with_name("pybpf")
    return [str(cand)] if cand.exists() else [sys.executable, "-m", "pybpf"]


def _child_cpu(
    fn: Callable[[], object], reps: int, before: Callable[[], None] | None = None
) -> list[float]:
    """CPU time (user + system) of the child processes ``fn`` runs: on a loaded machine,
    a steadier proxy for the wall time the same run takes on an idle one."""
    out = []
    for _ in range(reps):
        if before is not None:
            before()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        fn()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return out


def bench_process(reps: int) -> None:
    """Wall time (and CPU time) of whole `pybpf btf dump 'struct task_struct'` processes."""
    cache = Path(tempfile.mkdtemp(prefix="pybpf-bench-"))
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    cmd = [*_script(), "btf", "dump", "struct task_struct"]

    def run() -> None:
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)

    def clear() -> None:
        shutil.rmtree(cache / "pybpf", ignore_errors=True)

    def floor() -> None:
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    run()  # compile .pyc files once; they are not what is being measured
    _stats("process: btf dump 'struct task_struct' (cold)", _timed(run, reps, clear))
    _stats("  CPU time (user+sys) of the same", _child_cpu(run, reps, clear))
    run()
    _stats("process: btf dump 'struct task_struct' (warm)", _timed(run, reps))
    _stats("  CPU time (user+sys) of the same", _child_cpu(run, reps))
    _stats("process: python -c pass (interpreter floor)", _timed(floor, reps))
    _stats("  CPU time (user+sys) of the same", _child_cpu(floor, reps))
    if shutil.which("bpftool"):
        bt = ["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"]
        _stats(
            "process: bpftool btf dump format c (all types)",
            _timed(lambda: subprocess.run(bt, stdout=subprocess.DEVNULL, check=True), reps),
        )
    shutil.rmtree(cache, ignore_errors=True)


def bench_inprocess(reps: int) -> None:
    """The pieces, inside one process."""
    from pybpf import btf, elf, kallsyms, tracefs
    from pybpf.btf.cformat import dump

    path = btf.VMLINUX_PATH
    _stats(
        "btf: parse vmlinux, no index cache",
        _timed(lambda: btf.Spec.from_file(path, cache=False), reps),
    )
    btf.Spec.from_file(path)
    _stats("btf: parse vmlinux, warm index cache", _timed(lambda: btf.Spec.from_file(path), reps))

    def find_dump() -> None:
        s = btf.Spec.from_file(path)
        dump(s, s.find("task_struct", btf.Kind.STRUCT))

    _stats("btf: warm parse + find + dump task_struct", _timed(find_dump, reps))
    _stats(
        "btf: decode every type (126k), fresh spec",
        _timed(lambda: list(btf.Spec.from_file(path)), max(1, reps // 3)),
    )
    _stats("kallsyms: read + parse /proc/kallsyms", _timed(kallsyms.read, reps))

    def first_lookup() -> None:
        ks = kallsyms.read()
        ks.lookup(ks.address("do_sys_open"))

    _stats("kallsyms: read + first address + first lookup", _timed(first_lookup, reps))
    try:
        tracefs.root()
        _stats("tracefs: list_tracepoints", _timed(tracefs.list_tracepoints, reps))
        _stats(
            "tracefs: format syscalls:sys_enter_openat",
            _timed(lambda: tracefs.tracepoint_format("syscalls", "sys_enter_openat"), reps),
        )
    except Exception as e:  # a benchmark reports and moves on
        print(f"tracefs: skipped ({e})")
    for lib, sym in (("libc", "free"), ("libpython3.11", "Py_Initialize")):
        try:
            p = elf.resolve_library(lib)
        except elf.ElfError:
            continue

        def syms(p: str = p, sym: str = sym) -> None:
            with elf.ElfFile(p) as f:
                elf.SymbolTable.from_elf(f).find(sym)

        _stats(f"elf: symbol table + find, {os.path.basename(p)}", _timed(syms, reps))


def main() -> int:
    """Run every benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    bench_process(args.reps)
    bench_inprocess(args.reps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
