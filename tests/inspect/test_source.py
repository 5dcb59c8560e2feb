"""``pybpf prog dump xlated ID --source`` on a program loaded by pybpftrace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

SCRIPT = """tracepoint:syscalls:sys_enter_getppid
{
  @calls[comm] = count();
  printf("ppid %d\\n", pid);
}
"""


def _prog_ids(pid: int) -> list[int]:
    ids = []
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            text = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("prog_id:"):
                ids.append(int(line.split()[1]))
    return ids


def test_source_lines_above_their_code(tmp_path: Path) -> None:
    script = tmp_path / "getppid.bt"
    script.write_text(SCRIPT)
    env = dict(os.environ, __BPFTRACE_NOTIFY_PROBES_ATTACHED="1")
    tracer = subprocess.Popen(
        [sys.executable, "-m", "pybpf.cli.pybpftrace", str(script)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert tracer.stdout is not None
        assert tracer.stdout.readline().strip() == "__BPFTRACE_NOTIFY_PROBES_ATTACHED"
        ids = _prog_ids(tracer.pid)
        assert ids, "the tracer holds no program"
        out = subprocess.run(
            [sys.executable, "-m", "pybpf", "prog", "dump", "xlated", str(ids[0]), "--source"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        count_at = lines.index(f"; @calls[comm] = count(); [{script}:3:3]")
        printf_at = next(i for i, ln in enumerate(lines) if ln.startswith('; printf("ppid'))
        assert count_at == 0 < printf_at
        # The code under the printf line submits the event to the ring buffer.
        assert any("ringbuf" in ln for ln in lines[printf_at:])
        # Every other line is bpftool's numbered xlated form.
        assert all(ln.startswith(";") or ln[4:6] == ": " for ln in lines)
    finally:
        tracer.send_signal(signal.SIGINT)
        try:
            tracer.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.communicate()


def test_program_without_line_info_is_one_line() -> None:
    from pybpf.asm.builder import R0, exit_, mov64_imm
    from pybpf.bpf import Program, ProgSpec, ProgType

    spec = ProgSpec(ProgType.SOCKET_FILTER, (mov64_imm(R0, 0), exit_()))
    with Program.load(spec) as prog:
        out = subprocess.run(
            [sys.executable, "-m", "pybpf", "prog", "dump", "xlated", str(prog.id), "--source"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert out.returncode == 1
    assert "without line info" in out.stderr and "Traceback" not in out.stderr
