"""Prometheus exporter benchmark: /metrics scrape latency with 10k map entries, and the
exporter's CPU use while scraped once a second.

Run as root: ``python3 bench/bench_export.py [--scrapes 30] [--seconds 20]``. The exporter
runs as ``python -m pybpf.export`` (a child process); a workload fills three maps with 3334
keys each (10002 entries); then /metrics is fetched ``--scrapes`` times back to back
(latency), then once a second for ``--seconds`` seconds while the exporter's user+system CPU
time is read from /proc (CPU use). Also times rendering alone (MapCollector on synthetic
MapData, no kernel) to split the cost between reading maps and rendering text.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

KEYS = 3334
SCRIPT = (
    'tracepoint:syscalls:sys_enter_lseek /comm == "pbpf_bench"/ '
    "{ @a[args.offset] = count(); @b[args.offset] = sum(args.offset); @c[args.offset] = hist(args.offset); }"
)
WORK = """
import os
fd = os.open('/dev/null', os.O_RDONLY)
c = os.open('/proc/self/comm', os.O_WRONLY); os.write(c, b'pbpf_bench'); os.close(c)
for off in range(int(__import__('sys').argv[1])):
    os.lseek(fd, off, os.SEEK_SET)
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid``."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fetch(port: int) -> tuple[float, int]:
    """(seconds, bytes) of one GET /metrics."""
    t0 = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        n = len(r.read())
    return time.perf_counter() - t0, n


def start_exporter(errfile: str) -> tuple[subprocess.Popen[bytes], int]:
    """The exporter child and its port."""
    err = open(errfile, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pybpf.export", "127.0.0.1:0", "-e", SCRIPT],
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in open(errfile).read().splitlines():
            if line.startswith("serving http://"):
                return proc, int(line.rsplit(":", 1)[1].split("/")[0])
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit("exporter did not start:\n" + open(errfile).read())


def render_only(reps: int) -> list[float]:
    """Seconds to render 10k synthetic entries with MapCollector (no kernel)."""
    from prometheus_client import CollectorRegistry, generate_latest

    from pybpf.export.prometheus import MapCollector
    from pybpf.output import HistData, MapData, MapKind, hist_index

    maps = [
        MapData("@a", MapKind.COUNT, [(i, 1) for i in range(KEYS)]),
        MapData("@b", MapKind.SUM, [(i, i) for i in range(KEYS)]),
        MapData("@c", MapKind.HIST, [(i, HistData({hist_index(i): 1})) for i in range(KEYS)]),
    ]
    reg = CollectorRegistry()
    reg.register(MapCollector(lambda: maps, {}))
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        generate_latest(reg)
        out.append(time.perf_counter() - t0)
    return out


def ms(values: list[float]) -> str:
    """median / min / max in milliseconds."""
    return " | ".join(
        f"{v * 1000:.1f}" for v in (statistics.median(values), min(values), max(values))
    )


def main() -> int:
    """Run the benchmark and print a Markdown table."""
    global KEYS
    ap = argparse.ArgumentParser()
    ap.add_argument("--scrapes", type=int, default=30)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--keys", type=int, default=3334, help="keys per map (three maps)")
    args = ap.parse_args()
    KEYS = args.keys
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_exporter(os.path.join(tmp, "err"))
        try:
            subprocess.run([sys.executable, "-c", WORK, str(KEYS)], check=True)
            fetch(port)  # warm-up
            lat, size = [], 0
            for _ in range(args.scrapes):
                t, size = fetch(port)
                lat.append(t)
            idle0, w0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.seconds)
            idle = (cpu_seconds(proc.pid) - idle0) / (time.monotonic() - w0)
            c0, w0 = cpu_seconds(proc.pid), time.monotonic()
            for _ in range(args.seconds):
                t_start = time.monotonic()
                fetch(port)
                time.sleep(max(0.0, 1.0 - (time.monotonic() - t_start)))
            used, wall = cpu_seconds(proc.pid) - c0, time.monotonic() - w0
            busy = used / wall
            per_scrape = (used - idle * wall) / args.seconds
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    render = render_only(args.scrapes)
    print(f"/metrics: {size} bytes, {3 * KEYS} map entries")
    print("| measurement | median | min | max |\n|---|---:|---:|---:|")
    print(f"| GET /metrics, {3 * KEYS} entries (ms) | {ms(lat)} |")
    print(f"| render only, MapCollector on {3 * KEYS} synthetic entries (ms) | {ms(render)} |")
    print(f"\nexporter CPU, not scraped: {idle * 100:.2f}% of one CPU over {args.seconds} s")
    print(f"exporter CPU, scraped every 1 s: {busy * 100:.2f}% of one CPU over {args.seconds} s")
    print(f"exporter CPU time per scrape: {per_scrape * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
