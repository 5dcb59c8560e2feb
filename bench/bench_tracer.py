#!/usr/bin/env python3
"""pybpftrace against bpftrace with the shared harness (../shared/bench), side by side.

Runs ``attach_time.sh`` and ``prog_size.sh`` (optionally ``event_cost.sh``) with the
``pybpftrace`` console script, then prints markdown tables beside the bpftrace 0.17 baseline
in ``shared/bench/results/bpftrace-0.17``. Needs root. Usage::

    python3 bench/bench_tracer.py [--reps 3] [--event-cost] [--results DIR] [--tool CMD]

Figures go to BENCHMARKS.md by hand (the VM is shared and noisy: note the load average).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
BASE = SHARED / "results" / "bpftrace-0.17"


def run(script: str, results: Path, env_extra: dict[str, str], tool: str = "pybpftrace") -> None:
    """One harness wrapper with the pybpftrace console script (or ``tool``)."""
    env = dict(os.environ, BENCH_RESULTS=str(results), BENCH_LABEL="pybpftrace", **env_extra)
    subprocess.run([f"./{script}", tool], cwd=SHARED, env=env, check=False)


def _cases(path: Path) -> dict[str, dict[str, object]]:
    data = json.loads(path.read_text())
    return {c["case"]: c for c in data["cases"]}


def _median(runs: list[dict[str, object]], key: str) -> float:
    vals = [float(r[key]) for r in runs if r.get("ok") and r.get(key) is not None]  # type: ignore[arg-type]
    return statistics.median(vals) if vals else float("nan")


def attach_table(results: Path) -> str:
    """ready/exit medians, ours vs bpftrace's, with the ratio."""
    ours, base = _cases(results / "attach_time.json"), _cases(BASE / "attach_time.json")
    out = ["| case | bpftrace ready | pybpftrace ready | bpftrace exit | pybpftrace exit | exit ratio | pybpftrace CPU s | RSS MiB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, c in ours.items():
        b = base.get(name, {"runs": []})
        r, br = c["runs"], b["runs"]  # type: ignore[index]
        ex, bex = _median(r, "t_exit"), _median(br, "t_exit")  # type: ignore[arg-type]
        rss = _median(r, "maxrss_kb") / 1024  # type: ignore[arg-type]
        out.append(
            f"| {name} | {_median(br, 't_ready'):.3f} | {_median(r, 't_ready'):.3f} | "  # type: ignore[arg-type]
            f"{bex:.3f} | {ex:.3f} | {ex / bex:.3f}x | {_median(r, 'cpu_s'):.3f} | {rss:.1f} |"  # type: ignore[arg-type]
        )
    return "\n".join(out)


def size_table(results: Path) -> str:
    """xlated instructions of the probe program, ours vs bpftrace's."""
    ours, base = _cases(results / "prog_size.json"), _cases(BASE / "prog_size.json")
    out = ["| case | bpftrace progs | bpftrace xlated/prog | pybpftrace progs | pybpftrace xlated (per prog) |",
           "|---|---:|---:|---:|---|"]  # fmt: skip
    for name, c in ours.items():
        b = base.get(name, {})
        bp = b.get("progs") or []
        mine = c.get("progs") or []
        bx = sorted({p.get("xlated_insns") for p in bp})  # type: ignore[union-attr]
        mx = [p.get("xlated_insns") for p in mine]  # type: ignore[union-attr]
        out.append(f"| {name} | {len(bp)} | {bx} | {len(mine)} | {mx} |")  # type: ignore[arg-type]
    return "\n".join(out)


def main() -> int:
    """Run the harness and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", default="3")
    ap.add_argument("--results", default="/tmp/benchres")
    ap.add_argument("--event-cost", action="store_true")
    ap.add_argument("--no-run", action="store_true", help="only print tables of earlier runs")
    ap.add_argument(
        "--tool",
        default="pybpftrace",
        help="the command to measure, e.g. a venv's console script: "
        "python3 -m venv V && V/bin/pip install . && --tool V/bin/pybpftrace",
    )
    args = ap.parse_args()
    results = Path(args.results)
    if not args.no_run:
        run("attach_time.sh", results, {"REPS": args.reps}, args.tool)
        run("prog_size.sh", results, {}, args.tool)
        if args.event_cost:
            run("event_cost.sh", results, {"REPS": args.reps}, args.tool)
    print(attach_table(results / "pybpftrace"))
    print()
    print(size_table(results / "pybpftrace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
