"""Classic BPF benchmarks: compile time beside ``tcpdump -d``, optimised instruction counts
beside libpcap's, and the interpreter's packets per second.

    python bench/bench_cbpf.py [--markdown]

tcpdump's time includes starting the process (that is what a user waits for); pybpf's is
measured in-process, and separately as a cold ``pybpf filter -d`` process.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from cbpf.pktgen import corpus  # noqa: E402
from pybpf.cbpf.compiler import compile_filter  # noqa: E402
from pybpf.cbpf.insn import parse_listing  # noqa: E402
from pybpf.cbpf.pycompile import compile_program  # noqa: E402
from pybpf.cbpf.vm import run  # noqa: E402

EXPRS = [
    "tcp",
    "host 1.2.3.4",
    "tcp port 80",
    "port 53",
    "net 10.0.0.0/8 and not port 22",
    "vlan 10 and tcp dst port 443",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
    "ip6 and udp portrange 5000-6000",
    "host 1.2.3.4 and (tcp port 80 or udp port 53) and not icmp",
    "ether multicast and not ether broadcast and ip",
]


def _time(fn: object, n: int) -> float:
    best = []
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        best.append(time.perf_counter() - t)
    return statistics.median(best)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    have_td = shutil.which("tcpdump") is not None
    rows = []
    for e in EXPRS:
        ours = _time(lambda e=e: compile_filter(e), 20)
        n_ours = len(compile_filter(e))
        td = n_td = float("nan")
        if have_td:
            td = _time(lambda e=e: subprocess.run(["tcpdump", "-d", e], capture_output=True), 5)
            out = subprocess.run(["tcpdump", "-d", e], capture_output=True, text=True).stdout
            n_td = len(parse_listing(out))
        cold = _time(
            lambda e=e: subprocess.run([sys.executable, "-m", "pybpf.cli.pybpf", "filter", e],
                                       capture_output=True), 3)  # fmt: skip
        rows.append((e, ours * 1e3, cold * 1e3, td * 1e3, n_ours, n_td))
    pkts = corpus(2000, seed=1)
    prog = compile_filter("host 1.2.3.4 and (tcp port 80 or udp port 53)")
    t = time.perf_counter()
    for p in pkts:
        run(prog, p)
    pps = len(pkts) / (time.perf_counter() - t)
    fn = compile_program(prog)
    t = time.perf_counter()
    for p in pkts:
        fn(p, None, None)
    pps_compiled = len(pkts) / (time.perf_counter() - t)
    if args.markdown:
        print(
            "| expression | pybpf compile (ms, in-process) | pybpf filter -d (ms, process) "
            "| tcpdump -d (ms, process) | insns pybpf | insns libpcap |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for e, a, c, b, n1, n2 in rows:
            cell = e.replace("|", "\\|")
            print(f"| `{cell}` | {a:.2f} | {c:.0f} | {b:.0f} | {n1} | {n2:.0f} |")
        print(
            f"\ninterpreter (`pybpf.cbpf.vm.run`): {pps:,.0f} packets/s; compiled to Python"
            f" (`pycompile`, used by `capture -r`): {pps_compiled:,.0f} packets/s"
            " (`host 1.2.3.4 and (tcp port 80 or udp port 53)`, 2000 mixed packets)"
        )
    else:
        for row in rows:
            print(*row, sep="\t")
        print("interpreter packets/s", int(pps), "compiled", int(pps_compiled))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
