#!/usr/bin/env python3
"""DWARF parsing for uprobe ``args``: a small gcc -g test program and libc (through its
build-id debug file, when libc6-dbg is installed), beside ``bpftrace -lv``.

    python3 bench/bench_dwarf.py [--reps N]

Each "cold" sample is a fresh process (nothing cached): open the debug info, find the
function, convert its parameters.  "listing" is ``pybpftrace -lv 'uprobe:BIN:*'`` and the
same for bpftrace (when installed).  Figures belong in BENCHMARKS.md, never in tests.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
PROGRAM = r"""
struct point { int x; long y; char name[8]; };
__attribute__((noipa)) int f_int(int a, unsigned char b, long c) { return a + b + (int)c; }
__attribute__((noipa)) long f_str(const char *s, struct point *p) { return s[0] + p->x; }
int main(void) { struct point p = {1, 2, "x"}; return f_int(1, 2, 3) + (int)f_str("a", &p); }
"""

ONE = """
import sys, time
t = time.perf_counter()
from pybpf.elf import dwarf
from pybpf.passes.uprobeargs import args_struct
info = dwarf.function_info(sys.argv[1], sys.argv[2])
assert info is not None, sys.argv[2]
st, _ = args_struct(info)
[f.type.size for f in st.fields]
print(time.perf_counter() - t)
"""


def _stats(name: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(f"{name:<48} median {statistics.median(ms):8.1f} ms   min {min(ms):8.1f}"
          f"   max {max(ms):8.1f}")  # fmt: skip


def _cold(path: str, func: str, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        r = subprocess.run([sys.executable, "-c", ONE, path, func], capture_output=True,
                           text=True, check=True)  # fmt: skip
        out.append(float(r.stdout))
    return out


def _run(cmd: list[str], reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--libc-listing", action="store_true",
                    help="also list every libc function with -lv (minutes for bpftrace)")  # fmt: skip
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        src, binary = Path(d) / "t.c", str(Path(d) / "t")
        src.write_text(PROGRAM)
        subprocess.run(["gcc", "-g", "-O0", "-o", binary, str(src)], check=True)
        _stats("test binary: open + f_str args (cold process)", _cold(binary, "f_str", a.reps))
        _stats("libc: open + qsort args (cold process)", _cold(LIBC, "qsort", a.reps))
        pb = [str(Path(sys.executable).parent / "pybpftrace"), "-lv"]
        _stats("pybpftrace -lv uprobe:TEST:*", _run([*pb, f"uprobe:{binary}:*"], a.reps))
        _stats("pybpftrace -lv uprobe:libc:qsort", _run([*pb, f"uprobe:{LIBC}:qsort"], a.reps))
        if shutil.which("bpftrace"):
            bt = ["bpftrace", "-lv"]
            _stats("bpftrace -lv uprobe:TEST:*", _run([*bt, f"uprobe:{binary}:*"], a.reps))
            _stats("bpftrace -lv uprobe:libc:qsort", _run([*bt, f"uprobe:{LIBC}:qsort"], a.reps))
        if a.libc_listing:
            _stats("pybpftrace -lv uprobe:libc:*", _run([*pb, f"uprobe:{LIBC}:*"], 1))
            if shutil.which("bpftrace"):
                _stats(
                    "bpftrace -lv uprobe:libc:*", _run(["bpftrace", "-lv", f"uprobe:{LIBC}:*"], 1)
                )


if __name__ == "__main__":
    main()
