"""Run a shipped tool in a subprocess around a workload, the way a person would.

The tool is started with ``python -m pybpf tool NAME``; its begin probe prints the header
only after every probe is attached, so once the header (or the attach marker) is seen the
workload can run. SIGINT then ends it like Ctrl-C, and its whole output is returned.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

NOTIFY = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"


@dataclass
class ToolRun:
    """A running tool: its process and the stdout lines read so far."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    stderr: str = ""
    ready: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == NOTIFY:
                self.ready.set()
                continue
            self.lines.append(line)
        self.done.set()
        self.ready.set()  # EOF: never make the caller wait for a marker that cannot come

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until every probe is attached (or fail with the tool's stderr)."""
        self.ready.wait(timeout)
        if self.done.is_set() or not self.ready.is_set():
            self.stop()
            raise AssertionError(f"tool did not start:\n{self.stderr}\n" + "\n".join(self.lines))

    def wait_for(self, pred: object, timeout: float = 20.0) -> bool:
        """Wait until some output line satisfies ``pred`` (a callable on a line)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pred(line) for line in list(self.lines)):  # type: ignore[operator]
                return True
            if self.done.is_set():
                return False
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 60.0) -> str:
        """Ctrl-C the tool, wait for its end output, and return all of stdout."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.done.wait(10)
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()
        return "\n".join(self.lines)


@contextmanager
def tool(name: str, *args: str) -> Iterator[ToolRun]:
    """Start tool ``name``, wait until it is attached, yield it; always kill it at the end."""
    env = dict(os.environ, **{NOTIFY: "1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "pybpf", "tool", name, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    run = ToolRun(proc)
    pump = threading.Thread(target=run._pump, daemon=True)
    pump.start()
    try:
        run.wait_ready()
        yield run
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        pump.join(10)
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()
