"""Front-end benchmarks: parse + analyse a 200-line script; ``-l`` over all tracepoints.

Run: ``python bench/bench_frontend.py`` (prints median and best of several runs).
Targets: parse+check < 50 ms; listing every tracepoint < 0.5 s.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

_PROBE = """\
tracepoint:syscalls:sys_enter_read
/pid != 0 && args.count > NN/
{
  @bytes[comm, pid] = sum(args.count);
  @sizes = hist(args.count);
  $t = nsecs;
  if ($t % 2 == 0) {
    @even[tid] = count();
  } else {
    @odd = lhist(args.count, 0, 4096, 256);
  }
  @start[tid] = $t;
  printf("%-16s %6d %8d\\n", comm, pid, args.count);
}

"""


def script(lines: int = 200) -> str:
    """A script of about ``lines`` lines of typical probe code."""
    parts = ['BEGIN { printf("tracing...\\n"); }\n\n']
    n = 0
    while sum(p.count("\n") for p in parts) < lines - 8:
        parts.append(_PROBE.replace("NN", str(n)))
        n += 1
    parts.append("END { print(@bytes); clear(@start); }\n")
    return "".join(parts)


def _time(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """Median wall time, best wall time and median CPU time (the machines are shared:
    CPU time shows the cost without other processes' contention)."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def _time_process(argv: list[str], runs: int) -> tuple[float, float, float]:
    """Median wall, best wall and median CPU (user+system) time of a whole command."""
    wall, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wall.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def processes(runs: int = 5) -> None:
    """The user's view: whole commands, beside the interpreter floor and bpftrace 0.17."""
    # The console script beside this interpreter (no pyenv shim in front of it).
    tracer = os.path.join(os.path.dirname(sys.executable), "pybpftrace")
    rows = [
        ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
        ("pybpftrace -l 'tracepoint:*'", [tracer, "-l", "tracepoint:*"]),
    ]
    bpftrace = shutil.which("bpftrace")
    if bpftrace:
        rows.append(
            ("bpftrace -l 'tracepoint:*' (0.17, for scale)", [bpftrace, "-l", "tracepoint:*"])
        )
    for label, argv in rows:
        med, best, cpu = _time_process(argv, runs)
        print(f"process: {label}: wall median {med * 1000:.0f} ms, best {best * 1000:.0f} ms, "
              f"CPU median {cpu * 1000:.0f} ms")  # fmt: skip


def main() -> int:
    """Run both benchmarks and print their figures."""
    t0 = time.perf_counter()
    from pybpf.lang.listing import list_probes
    from pybpf.passes.context import SystemCatalog
    from pybpf.passes.pipeline import compile_frontend

    import_s = time.perf_counter() - t0
    text = script()
    cat = SystemCatalog()
    cat.tracepoints()  # tracefs directory walk is measured by the listing bench
    res = compile_frontend(text, "bench.bt", catalog=cat)
    if not res.ok:
        print(res.render(), file=sys.stderr)
        return 1
    med, best, cpu = _time(lambda: compile_frontend(text, "bench.bt", catalog=cat), 20)
    print(f"front-end import: {import_s * 1000:.1f} ms")
    print(f"parse+check {text.count(chr(10))}-line script: wall median {med * 1000:.1f} ms, "
          f"best {best * 1000:.1f} ms, CPU median {cpu * 1000:.1f} ms (target < 50 ms)")  # fmt: skip
    n = len(list_probes("tracepoint:*"))
    med, best, cpu = _time(lambda: list_probes("tracepoint:*", catalog=SystemCatalog()), 5)
    print(f"-l 'tracepoint:*' ({n} probes, fresh catalog): wall median {med * 1000:.1f} ms, "
          f"best {best * 1000:.1f} ms, CPU median {cpu * 1000:.1f} ms (target < 500 ms)")  # fmt: skip
    processes()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
