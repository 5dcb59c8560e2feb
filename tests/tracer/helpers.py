"""Running pybpftrace as a subprocess against a workload it can filter by pid."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

READY = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"


def run_tracer(
    script: str,
    *args: str,
    workload: str | None = None,
    timeout: float = 30,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``pybpftrace -e script``; once its probes are attached run ``workload`` (Python
    code, its pid available to the script as ``$1``... no: the script filters by the
    workload's pid, which we pass in as the first positional parameter)."""
    e = dict(os.environ)
    e[READY] = "1"
    e.update(env or {})
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", *args, "-e", script]
    if workload is None:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)
    # The workload waits on stdin so its pid is known before the tracer starts.
    wl = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.readline()\n" + workload],
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        proc = subprocess.Popen(
            [*cmd, str(wl.pid)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip() == READY, first + proc.stderr.read()  # type: ignore[union-attr]
        assert wl.stdin is not None
        # The output is read while the workload runs: a tracer blocked on a full pipe
        # stops draining its ring buffer and would lose events the test then misses.
        done: list[tuple[str, str]] = []
        reader = threading.Thread(target=lambda: done.append(proc.communicate(timeout=timeout)))
        reader.start()
        wl.stdin.write("go\n")
        wl.stdin.flush()
        wl.wait(timeout)
        reader.join(timeout)
        if not done:
            proc.kill()
            reader.join()
            raise subprocess.TimeoutExpired(cmd, timeout)
        out, err = done[0]
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    finally:
        if wl.poll() is None:
            wl.kill()
            wl.wait()


def wait_ready(proc: subprocess.Popen[str]) -> None:
    """Block until the tracer prints the probes-attached marker."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == READY, line
    time.sleep(0)
