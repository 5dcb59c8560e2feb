"""pybpftrace's command line: flags that do not run a trace, and script sources."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.tracer.helpers import run_tracer


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpf.cli.pybpftrace", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version() -> None:
    r = _cli("-V")
    assert r.returncode == 0
    assert r.stdout.startswith("pybpftrace v")


def test_codegen_dump_names_script_lines() -> None:
    r = _cli("-d", "codegen", "-e", 'BEGIN { printf("x %d\\n", 1); exit(); }')
    assert r.returncode == 0, r.stderr
    assert "; BEGIN (raw_tracepoint" in r.stdout
    assert "call 131" in r.stdout  # bpf_ringbuf_reserve
    assert "stdin:1:" in r.stdout


def test_syntax_error_is_a_diagnostic() -> None:
    r = _cli("-e", "BEGIN { printf(; }")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "stdin:1:" in r.stderr


def test_missing_program() -> None:
    r = _cli()
    assert r.returncode == 1
    assert "ERROR" in r.stderr


def test_unreadable_script_file() -> None:
    r = _cli("/nonexistent/script.bt")
    assert r.returncode == 1
    assert "cannot read /nonexistent/script.bt" in r.stderr


@pytest.mark.kernel
def test_script_from_stdin_with_positional_params() -> None:
    r = _cli("-", "41", stdin='BEGIN { printf("%d\\n", $1 + 1); exit(); }')
    assert r.returncode == 0, r.stderr
    assert "42" in r.stdout.splitlines()


@pytest.mark.kernel
def test_dry_run_loads_without_running() -> None:
    r = _cli("--dry-run", "-e", 'BEGIN { printf("should not print\\n"); }')
    assert r.returncode == 0, r.stderr
    assert "should not print" not in r.stdout


@pytest.mark.kernel
def test_json_output() -> None:
    r = run_tracer('BEGIN { printf("hi\\n"); @x = 5; exit(); }', "-f", "json")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert '{"type": "printf", "data": "hi\\n"}' in lines
    assert any('"@x": 5' in ln for ln in lines)


@pytest.mark.kernel
def test_command_mode_stops_when_the_command_exits() -> None:
    r = _cli("-c", "true", "-e", "tracepoint:sched:sched_process_exit { @n = count(); }")
    assert r.returncode == 0, r.stderr
    assert "@n: " in r.stdout
