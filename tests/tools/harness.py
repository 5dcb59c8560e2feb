"""Run a shipped tool in a subprocess around a workload, the way a person would.

The tool is started with ``python -m pybpf tool NAME``; its begin probe prints the header
only after every probe is attached, so once the header (or the attach marker) is seen the
workload can run. SIGINT then ends it like Ctrl-C, and its whole output is returned.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

NOTIFY = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"


@dataclass
class ToolRun:
    """A running tool: its process and the stdout lines read so far."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    stderr: str = ""
    err_lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    err_done: threading.Event = field(default_factory=threading.Event)

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

    def _pump_err(self) -> None:
        # bpftrace 0.17 writes its attach marker to stderr, pybpftrace to stdout.
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.rstrip("\n") == NOTIFY:
                self.ready.set()
            else:
                self.err_lines.append(line)
        self.err_done.set()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until every probe is attached (or fail with the tool's stderr)."""
        self.ready.wait(timeout)
        if self.done.is_set() or not self.ready.is_set():
            self.stop()
            self.stderr = "".join(self.err_lines)
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
        self.err_done.wait(10)
        self.stderr = "".join(self.err_lines)
        return "\n".join(self.lines)


TOOLS = Path(__file__).resolve().parents[2] / "src" / "pybpf" / "tools"


def for_bpftrace_017(script: str) -> str:
    """A shipped script in the spelling Debian's bpftrace 0.17 reads (the oracle).

    Only surface syntax changes: ``begin``/``end`` probes, ``args.f`` field access and
    ``delete(@m, key)`` were spelled ``BEGIN``/``END``, ``args->f`` and ``delete(@m[key])``.
    """
    script = re.sub(r"^begin$", "BEGIN", script, flags=re.M)
    script = re.sub(r"^end$", "END", script, flags=re.M)
    script = re.sub(r"\bargs\.", "args->", script)
    script = re.sub(r"delete\((@\w*), \((.*?)\)\)", r"delete(\1[\2])", script)
    return re.sub(r"delete\((@\w*), (.*?)\)", r"delete(\1[\2])", script)


def _command(name: str, runner: str, scratch: Path) -> list[str]:
    if runner == "pybpf":
        return [sys.executable, "-m", "pybpf", "tool", name]
    converted = scratch / f"{name}.bt"
    converted.write_text(for_bpftrace_017((TOOLS / f"{name}.bt").read_text()))
    return ["bpftrace", "-B", "line", str(converted)]


@contextmanager
def tool(name: str, runner: str = "pybpf") -> Iterator[ToolRun]:
    """Start tool ``name``, wait until it is attached, yield it; always kill it at the end.

    ``runner`` "bpftrace" runs the same script on Debian's bpftrace 0.17 instead, as an
    oracle for the script itself where pybpftrace still lacks a feature.
    """
    env = dict(os.environ, **{NOTIFY: "1"})
    scratch = Path(tempfile.mkdtemp(prefix="pbtool"))
    proc = subprocess.Popen(
        _command(name, runner, scratch),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    run = ToolRun(proc)
    pumps = [threading.Thread(target=f, daemon=True) for f in (run._pump, run._pump_err)]
    for pump in pumps:
        pump.start()
    try:
        run.wait_ready()
        yield run
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pump in pumps:
            pump.join(10)
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()
        shutil.rmtree(scratch)
