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
