"""Helpers for the exporter tests: the exporter and Prometheus as subprocesses, workloads."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROMETHEUS = "/usr/bin/prometheus"


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def exporter(script: str, tmp: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``python -m pybpf.export 127.0.0.1:0 -e SCRIPT``; yields (process, port).

    Stopped with SIGTERM at the end (SIGKILL if it hangs, which fails the caller's checks).
    """
    err = open(tmp / "exporter.err", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pybpf.export", "127.0.0.1:0", "-e", script],
        stdout=open(tmp / "exporter.out", "w"),
        stderr=err,
        text=True,
    )
    try:
        port = 0
        deadline = time.monotonic() + 20
        while not port:
            assert proc.poll() is None, (tmp / "exporter.err").read_text()
            assert time.monotonic() < deadline, "exporter did not start"
            for line in (tmp / "exporter.err").read_text().splitlines():
                if line.startswith("serving http://"):
                    port = int(line.rsplit(":", 1)[1].split("/")[0])
            time.sleep(0.05)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err.close()


def bpf_ids(pid: int) -> dict[str, set[int]]:
    """Ids of the BPF programs, maps and links process ``pid`` holds (from fdinfo)."""
    out: dict[str, set[int]] = {"prog": set(), "map": set(), "link": set()}
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            text = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(":")
            kind = {"prog_id": "prog", "map_id": "map", "link_id": "link"}.get(key)
            if kind:
                out[kind].add(int(value))
    return out


def get(port: int, path: str = "/metrics") -> str:
    """GET ``path`` from loopback ``port``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.read().decode()


@contextmanager
def prometheus(target_port: int, tmp: Path) -> Iterator[int]:
    """A real Prometheus scraping ``127.0.0.1:target_port`` every second; yields its port."""
    port = free_port()
    cfg = tmp / "prometheus.yml"
    cfg.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: pybpf\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
    )
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={cfg}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "prometheus.log", "w"),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (tmp / "prometheus.log").read_text()[-2000:]
            try:
                get(port, "/-/ready")
                break
            except OSError:
                assert time.monotonic() < deadline, "prometheus did not start"
                time.sleep(0.1)
        yield port
    finally:
        proc.kill()
        proc.wait()


def query(port: int, expr: str) -> list[dict[str, object]]:
    """Prometheus instant query ``expr``: the result vector."""
    q = urllib.parse.urlencode({"query": expr})
    data = json.loads(get(port, f"/api/v1/query?{q}"))
    assert data["status"] == "success", data
    result: list[dict[str, object]] = data["data"]["result"]
    return result


# Only raw os calls after the rename: Python's file objects make lseek calls of their own.
WORKLOAD = """
import os, sys
n, offsets = int(sys.argv[2]), [int(x) for x in sys.argv[3].split(',') if x]
hang = len(sys.argv) > 4
fd = os.open('/dev/null', os.O_RDONLY)
cfd = os.open('/proc/self/comm', os.O_WRONLY)
os.write(cfd, sys.argv[1].encode())
os.close(cfd)
for _ in range(n):
    os.getpid()
for off in offsets:
    os.lseek(fd, off, os.SEEK_SET)
os.write(1, b'done\\n')
if hang:
    os.read(0, 1)
os._exit(0)
"""


def workload(
    comm: str, getpids: int, offsets: list[int], hang: bool = False
) -> subprocess.Popen[str]:
    """A process named ``comm`` that makes ``getpids`` getpid calls and lseeks to ``offsets``
    (then waits on stdin when ``hang``); it prints a line when done."""
    argv = [sys.executable, "-c", WORKLOAD, comm, str(getpids), ",".join(map(str, offsets))]
    if hang:
        argv.append("hang")
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
