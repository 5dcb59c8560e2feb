"""``python -m pybpf.export``: bad input gives one clear line (or the script diagnostic)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from pybpf.errors import UsageError
from pybpf.export.serve import parse_address


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpf.export", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("127.0.0.1:9100", ("127.0.0.1", 9100)),
        (":9100", ("0.0.0.0", 9100)),
        ("[::1]:0", ("::1", 0)),
        ("localhost:65535", ("localhost", 65535)),
    ],
)
def test_parse_address(text: str, want: tuple[str, int]) -> None:
    assert parse_address(text) == want


@pytest.mark.parametrize("text", ["9100", "host:", "host:port", "h:70000", ""])
def test_bad_address(text: str) -> None:
    with pytest.raises(UsageError, match="expected HOST:PORT"):
        parse_address(text)


def test_bad_address_is_one_line() -> None:
    res = run("nohost", "-e", "BEGIN { exit(); }")
    assert res.returncode == 1
    assert res.stderr == "ERROR: --export: expected HOST:PORT, got 'nohost'\n"


def test_script_error_is_a_diagnostic() -> None:
    res = run("127.0.0.1:0", "-e", 'BEGIN { prinf("x"); }')
    assert res.returncode == 1
    assert "ERROR: " in res.stderr and "prinf" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_file_is_one_line() -> None:
    res = run("127.0.0.1:0", "/nonexistent/x.bt")
    assert res.returncode == 1
    assert res.stderr == "ERROR: cannot read /nonexistent/x.bt: No such file or directory\n"


@pytest.mark.kernel
def test_port_in_use_is_one_line_and_nothing_loaded() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = run(
            f"127.0.0.1:{port}", "-e", "tracepoint:syscalls:sys_enter_getppid { @ = count(); }"
        )
    assert res.returncode == 1
    assert res.stderr.splitlines()[-1] == f"ERROR: serve 127.0.0.1:{port}: Address already in use"
    assert "Traceback" not in res.stderr


@pytest.mark.kernel
def test_exit_in_the_script_ends_the_exporter() -> None:
    res = run("127.0.0.1:0", "-e", "BEGIN { @x = 3; exit(4); }")
    assert res.returncode == 4
    assert res.stdout == "\n\n@x: 3\n"


@pytest.mark.parametrize("value", ["graphite=h:1", "prometheus", "prometheus=h"])
def test_cli_export_value(value: str) -> None:
    from pybpf.export.serve import cli_export

    with pytest.raises(UsageError, match="--export: expected"):
        cli_export(value, "BEGIN { exit(); }", "stdin", [])
