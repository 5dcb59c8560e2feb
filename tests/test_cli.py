"""The two console scripts start, and answer --version and bad verbs sensibly."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pybpf", *args], capture_output=True, text=True)


def test_version() -> None:
    p = run("--version")
    assert p.returncode == 0
    assert p.stdout.startswith("pybpf ")


def test_unknown_verb() -> None:
    p = run("frobnicate")
    assert p.returncode == 2
    assert "unknown verb 'frobnicate'" in p.stderr
    assert "Traceback" not in p.stderr


def _into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pybpf ARGS`` with stdout a pipe whose reader is already gone."""
    import os

    r, w = os.pipe()
    os.close(r)  # every write by the child now fails with EPIPE (like `| head` exiting)
    try:
        return subprocess.run(
            [sys.executable, "-m", "pybpf", *args],
            stdout=w,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(w)


def test_usage_into_a_closed_pipe_is_quiet() -> None:
    for args in ((), ("--help",), ("--version",), ("btf", "--help")):
        p = _into_closed_pipe(*args)
        assert "Traceback" not in p.stderr, (args, p.stderr)
        assert "BrokenPipeError" not in p.stderr


def test_console_scripts_are_installed() -> None:
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("pybpf") == "pybpf.cli.pybpf:main"
    assert scripts.get("pybpftrace") == "pybpf.cli.pybpftrace:console_main"


def test_python_m_pybpftrace_runs_the_tracer() -> None:
    """``python -m pybpftrace`` (how ../shared/bench runs a re-implementation) is the tracer."""
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "pybpftrace",
            "--vm",
            "-e",
            'BEGIN { printf("hi %d\\n", 6 * 7); exit(); }',
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("hi 42\n")
    v = subprocess.run([sys.executable, "-m", "pybpftrace", "-V"], capture_output=True, text=True)
    assert v.stdout.startswith("pybpftrace v")
