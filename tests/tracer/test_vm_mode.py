"""``pybpftrace --vm``: the program table runs in the userspace VM with the kernel's output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from tests.tracer.test_programs import DATA, PROGRAMS, _params, _run

#: Programs the VM cannot run yet, with the reason.
VM_XFAIL: dict[str, str] = {}


@pytest.mark.parametrize("name", _params(PROGRAMS, VM_XFAIL))
def test_vm_text(name: str) -> None:
    r = _run(name, "--vm")
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout == (DATA / f"{name}.out").read_text(), r.stderr


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) not installed")
def test_vm_needs_no_privilege() -> None:
    """With every capability dropped the kernel path fails, the VM path still runs."""
    script = 'BEGIN { printf("%d\\n", 6 * 7); exit(); }'
    base = ["setpriv", "--bounding-set=-all", sys.executable, "-m", "pybpf.cli.pybpftrace"]
    env = dict(os.environ)
    vm = subprocess.run([*base, "--vm", "-e", script], capture_output=True, text=True, env=env)
    assert vm.returncode == 0, vm.stderr
    assert vm.stdout == "42\n\n\n"  # the two blank lines bpftrace prints at exit
    kernel = subprocess.run([*base, "-e", script], capture_output=True, text=True, env=env)
    assert kernel.returncode == 1
    assert "Traceback" not in kernel.stderr


def test_vm_refuses_kernel_probes_in_one_line() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "pybpf.cli.pybpftrace", "--vm", "-e",
         "tracepoint:syscalls:sys_enter_getpid { @ = count(); }"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert p.returncode == 1
    assert p.stderr.strip().splitlines()[-1] == (
        "ERROR: tracepoint:syscalls:sys_enter_getpid: --vm runs only begin, end and interval"
        " probes; this probe needs the kernel"
    )
