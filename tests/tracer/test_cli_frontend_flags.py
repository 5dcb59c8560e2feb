"""pybpftrace's front-end flags: -l/-lv/-l -e, --fmt, unreadable scripts, --export errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def tracer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpf.cli.pybpftrace", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_lv_shows_argument_types() -> None:
    p = tracer("-lv", "tracepoint:syscalls:sys_enter_openat")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "tracepoint:syscalls:sys_enter_openat"
    assert "    const char * filename" in p.stdout.splitlines()


def test_l_with_a_script_lists_what_it_would_attach() -> None:
    p = tracer("-l", "-e", "tracepoint:syscalls:sys_enter_openat,tracepoint:sched:sched_switch { }")
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.split()) == [
        "tracepoint:sched:sched_switch",
        "tracepoint:syscalls:sys_enter_openat",
    ]


def test_fmt_round_trips() -> None:
    src = 'BEGIN{@x[1,2]=count();if(1){printf("a\\n")}}'
    first = tracer("--fmt", "-e", src)
    assert first.returncode == 0, first.stderr
    again = tracer("--fmt", "-e", first.stdout)
    assert again.stdout == first.stdout
    assert "@x[1, 2] = count();" in first.stdout


def test_fmt_of_a_broken_script_is_a_diagnostic() -> None:
    p = tracer("--fmt", "-e", "BEGIN { @x = ; }")
    assert p.returncode == 1
    assert "stdin:1:" in p.stderr and "ERROR" in p.stderr
    assert "Traceback" not in p.stderr


def test_binary_script_file_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "bin.bt"
    f.write_bytes(b"\xff\xfe\x00")
    p = tracer(str(f))
    assert p.returncode == 1
    assert "not UTF-8" in p.stderr and "Traceback" not in p.stderr


def test_export_needs_a_known_kind() -> None:
    p = tracer("--export", "graphite=1.2.3.4:5", "-e", "BEGIN { exit(); }")
    assert p.returncode != 0
    assert "Traceback" not in p.stderr and p.stderr.strip()


@pytest.mark.kernel
def test_iter_probe_runs_and_ends_by_itself() -> None:
    """iter probes compile now (they used to say they could not): the run ends after one pass."""
    p = tracer("-e", "iter:task { @n = count(); }")
    assert p.returncode == 0, p.stderr
    assert "@n: " in p.stdout
    assert "Traceback" not in p.stderr
