#!/usr/bin/env python3
"""Attach and whole-run time of the syscall wildcards, pybpftrace (and bpftrace if asked).

For each case: the time from launch until the tracer reports its probes attached
(``__BPFTRACE_NOTIFY_PROBES_ATTACHED``), and the time from launch until it has exited after
a SIGINT sent right then (detach, map printing, exit). Needs root. Usage::

    python3 bench/bench_syscall_wildcard.py [--reps 3] [--bpftrace]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

CASES = {
    "wildcard_enter": "tracepoint:syscalls:sys_enter_* { @[comm] = count(); }",
    "wildcard_exit": "tracepoint:syscalls:sys_exit_* { @[comm] = count(); }",
    "wildcard_exit_ret": "tracepoint:syscalls:sys_exit_* { @[probe] = sum(args.ret); }",
    "wildcard_both": "tracepoint:syscalls:sys_e* { @[probe] = count(); }",
}


def measure(cmd: list[str]) -> tuple[float, float]:
    """(seconds until attached, seconds until exited after SIGINT at attach time)."""
    env = dict(os.environ, __BPFTRACE_NOTIFY_PROBES_ATTACHED="1")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    assert p.stdout is not None
    for line in p.stdout:
        if "__BPFTRACE_NOTIFY_PROBES_ATTACHED" in line:
            break
    ready = time.monotonic() - t0
    p.send_signal(signal.SIGINT)
    p.communicate()
    return ready, time.monotonic() - t0


def main() -> int:
    """Print a markdown table of medians."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--bpftrace", action="store_true", help="also time bpftrace (slow exit)")
    args = ap.parse_args()
    tools = [("pybpftrace", [sys.executable, "-m", "pybpf.cli.pybpftrace"])]
    if args.bpftrace:
        tools.append(("bpftrace", ["bpftrace"]))
    print("| tool | case | attached s | whole run s |\n|---|---|---:|---:|")
    for tool, base in tools:
        for name, script in CASES.items():
            runs = [measure([*base, "-e", script]) for _ in range(args.reps)]
            ready = statistics.median(r for r, _ in runs)
            total = statistics.median(t for _, t in runs)
            print(f"| {tool} | {name} | {ready:.3f} | {total:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
