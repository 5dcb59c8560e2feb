"""``pybpf tool``: the listing and the error for an unknown name (no kernel needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

TOOLS = (
    "bashreadline biolatency biosnoop biostacks bitesize cpuwalk execsnoop gethostlatency "
    "killsnoop naptime opensnoop pidpersec runqlat runqlen setuids ssllatency sslsnoop "
    "statsnoop syncsnoop syscount tcpdrop tcplife tcpretrans threadsnoop writeback"
).split()


def _pybpf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpf", "tool", *args], capture_output=True, text=True, timeout=60
    )


def test_lists_all_tools_with_descriptions() -> None:
    """One line per tool, in order, each with its one-line description."""
    r = _pybpf()
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines] == TOOLS
    for line in lines:
        name, desc = line.split(None, 1)
        assert len(desc) > 10 and not desc.startswith(name)


def test_unknown_tool_one_line_with_suggestion() -> None:
    """A misspelt name: one error line, a did-you-mean, status 1, no traceback."""
    r = _pybpf("opensnop")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == (
        "pybpf: ERROR: unknown tool 'opensnop' (did you mean 'opensnoop'?); "
        "'pybpf tool' lists them\n"
    )


def test_unknown_tool_without_close_match() -> None:
    """No suggestion when nothing is close."""
    r = _pybpf("zzzzzz")
    assert r.returncode == 1
    assert r.stderr == "pybpf: ERROR: unknown tool 'zzzzzz'; 'pybpf tool' lists them\n"


@pytest.mark.kernel
def test_tool_arguments_reach_pybpftrace() -> None:
    """Flags after the name go to pybpftrace: --dry-run compiles and loads, then stops."""
    r = _pybpf("opensnoop", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "Tracing open syscalls" not in r.stdout


def test_arguments_after_the_name_are_parameters_and_options() -> None:
    """A bare argument is the tool's $1 (it used to be taken for the script file)."""
    r = _pybpf("naptime", "5", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "cannot read" not in r.stderr
