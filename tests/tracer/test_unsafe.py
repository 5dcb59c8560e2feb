"""signal(), override() and write_user(): --unsafe, a real signal delivered to a traced
process, and the one-line rejections this kernel gives (it lacks kprobes,
bpf_override_return and bpf_probe_write_user; see `pybpf feature`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pybpf.codegen.unsafe import missing_helper, signal_number

CHILD = """
import os, signal, time
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.getpid()
for _ in range(200):
    if got:
        break
    time.sleep(0.01)
print("got", got)
"""


def pybpftrace(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def child(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("unsafe") / "child.py"
    p.write_text(CHILD)
    return f"{sys.executable} {p}"


def test_signal_numbers() -> None:
    assert signal_number("SIGUSR1") == 10
    assert signal_number("usr1") == 10
    assert signal_number("KILL") == 9
    assert signal_number("SIGFOO") is None


def test_missing_helper_message() -> None:
    log = "0: (85) call bpf_probe_write_user#36\nprogram of this type cannot use helper bpf_probe_write_user#36"
    assert missing_helper(log) == (
        "write_user() needs the bpf_probe_write_user helper, which this kernel does not offer"
        " (`pybpf feature` lists probe_write_user: no)"
    )
    assert missing_helper("unknown func bpf_override_return#58").startswith("override() needs")
    # Other helpers keep the verifier's own wording.
    assert missing_helper("program of this type cannot use helper bpf_skb_store_bytes#9") is None


@pytest.mark.kernel
@pytest.mark.parametrize("sig", ['"SIGUSR1"', '"USR1"', "10"])
def test_signal_reaches_the_traced_child(child: str, sig: str) -> None:
    script = (
        f"tracepoint:syscalls:sys_enter_getpid /pid == cpid/ {{ signal({sig}); @n = count(); }}"
    )
    r = pybpftrace("--unsafe", "-e", script, "-c", child)
    assert r.returncode == 0, r.stderr
    # The child's own SIGUSR1 handler ran: the signal came from the probe on its getpid.
    assert "got [10]\n" in r.stdout
    assert "@n: 1\n" in r.stdout


def test_signal_needs_unsafe() -> None:
    r = pybpftrace("-e", 'tracepoint:syscalls:sys_enter_getpid { signal("SIGUSR1"); }')
    assert r.returncode == 1
    assert "signal() is an unsafe function being used in safe mode" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ('BEGIN { signal("SIGFOO"); }', "signal(): unknown signal 'SIGFOO'"),
        ("BEGIN { signal(99); }", "signal(): the signal number must be between 1 and 64"),
        (
            "tracepoint:syscalls:sys_enter_getpid { override(1); }",
            "override() can only be used in kprobe probes",
        ),
    ],
)
def test_unsafe_call_diagnostics(script: str, message: str) -> None:
    r = pybpftrace("--unsafe", "-e", script)
    assert r.returncode == 1
    assert f"ERROR: {message}\n" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.kernel
def test_override_rejected_naming_the_helper() -> None:
    r = pybpftrace("--unsafe", "-e", "kprobe:do_nanosleep { override(1); }")
    assert r.returncode == 1
    assert (
        "ERROR: override() needs the bpf_override_return helper, which this kernel does not"
        " offer (`pybpf feature` lists override_return: no)\n"
    ) in r.stderr
    assert r.stderr.count("ERROR") == 1


@pytest.mark.kernel
def test_write_user_rejected_naming_the_helper(tmp_path: Path) -> None:
    script = "tracepoint:syscalls:sys_enter_openat { write_user(args.filename, (uint8)1); }"
    r = pybpftrace("--unsafe", "-e", script)
    assert r.returncode == 1
    assert (
        "ERROR: write_user() needs the bpf_probe_write_user helper, which this kernel does not"
        " offer (`pybpf feature` lists probe_write_user: no)\n"
    ) in r.stderr
    r = pybpftrace("-e", script)
    assert "write_user() is an unsafe function being used in safe mode" in r.stderr
