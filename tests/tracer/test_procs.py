"""Process-level tracing on the real kernel: ``-c``/``-p``/``cpid``, uprobes (functions,
offsets, addresses, wildcards, arguments, return values, ``func``), USDT probes of
python3.11 with their arguments, user stacks of a frame-pointer binary printed after it
exited, watchpoints, and the one-line errors for the kernel probes this kernel lacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.tracer.helpers import READY

pytestmark = pytest.mark.kernel

PY = "/usr/bin/python3.11"  # the distribution's python: it carries the USDT notes

C_SOURCE = r"""
#include <unistd.h>
volatile long counter = 1;  /* in .data: exec's bss clearing never writes it */
__attribute__((noinline)) void leaf(int i) { counter += i; }
__attribute__((noinline)) void middle(int i) { leaf(i); }
__attribute__((noinline)) int twice(int x) { return 2 * x; }
int main(void) {
    int s = 0;
    for (int i = 0; i < 7; i++) { middle(i); s += twice(i); }
    usleep(300000);  /* system-wide runs find its pid in the stack keys meanwhile */
    return s == 42 ? 0 : 1;
}
"""


def trace(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run pybpftrace to completion (the -c child or -p process ends the run)."""
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", *args, "-e", script]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test program, compiled with frame pointers and without PIE (fixed addresses)."""
    d = tmp_path_factory.mktemp("procs")
    (d / "t.c").write_text(C_SOURCE)
    out = d / "t"
    subprocess.run(
        ["gcc", "-O0", "-fno-omit-frame-pointer", "-no-pie", "-o", str(out), str(d / "t.c")],
        check=True,
    )
    return out


def symbol_address(path: Path, name: str) -> int:
    """A symbol's address as ``nm`` (binutils, not pybpf) reports it."""
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise AssertionError(f"{name} not in {path}")


def test_uprobe_getpid_exact_from_c_child() -> None:
    child = f"{PY} -c 'import ctypes;l=ctypes.CDLL(None);[l.getpid() for _ in range(500)]'"
    r = trace("uprobe:libc:getpid /pid == cpid/ { @n = count(); }", "-c", child)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "@n: 500\n" in r.stdout  # the run ended when the child exited; maps printed


def test_cpid_is_the_child_pid_and_end_runs() -> None:
    r = trace(
        'END { printf("cpid=%d\\n", cpid); }', "-c", f"{PY} -c 'import os;print(os.getpid())'"
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    child_pid = next(ln for ln in lines if ln.isdigit())
    assert f"cpid={child_pid}" in lines


def test_c_child_held_until_probes_attached() -> None:
    # The child's very first instructions are traced: exec of the command is observed.
    r = trace(
        "tracepoint:sched:sched_process_exec /pid == cpid/ { @e = count(); }", "-c", "/bin/true"
    )
    assert r.returncode == 0, r.stderr
    assert "@e: 1\n" in r.stdout


def _waiting_python(n: int) -> subprocess.Popen[str]:
    code = f"import sys,ctypes;l=ctypes.CDLL(None);sys.stdin.readline();[l.getpid() for _ in range({n})]"
    return subprocess.Popen([PY, "-c", code], stdin=subprocess.PIPE, text=True)


def test_p_filters_and_ends_with_the_process() -> None:
    a, b = _waiting_python(300), _waiting_python(200)
    env = dict(os.environ, **{READY: "1"})
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", "-p", str(a.pid), "-e",
           "uprobe:libc:getpid { @[pid] = count(); }"]  # fmt: skip
    tracer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)  # fmt: skip
    try:
        assert tracer.stdout is not None
        assert tracer.stdout.readline().strip() == READY
        for p in (a, b):
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        b.wait(30)
        a.wait(30)
        out, err = tracer.communicate(timeout=30)  # no exit(): it ends because a exited
    finally:
        for p in (a, b, tracer):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert tracer.returncode == 0, err
    assert f"@[{a.pid}]: 300\n" in out
    assert str(b.pid) not in out


def test_p_without_a_process_is_an_error() -> None:
    r = trace("uprobe:libc:getpid { @n = count(); }", "-p", "999999999")
    assert r.returncode == 1
    assert r.stderr == "ERROR: pid 999999999 does not exist\n"


def test_uprobe_args_retval_offset_address(binary: Path) -> None:
    leaf = symbol_address(binary, "leaf")
    script = (
        f"uprobe:{binary}:twice {{ @a = sum(arg0); }}"
        f" uretprobe:{binary}:twice {{ @r = sum(retval); }}"
        f" uprobe:{binary}:leaf+4 {{ @off = count(); }}"  # after push %rbp; mov %rsp,%rbp
        f" uprobe:{binary}:{leaf:#x} {{ @addr = count(); }}"
    )
    r = trace(script, "-c", str(binary))
    assert r.returncode == 0, r.stderr
    for line in ("@a: 21", "@r: 42", "@off: 7", "@addr: 7"):
        assert line + "\n" in r.stdout, r.stdout


def test_uprobe_wildcard_and_func(binary: Path) -> None:
    r = trace(f"uprobe:{binary}:[lm][ei]* {{ @[func] = count(); }}", "-c", str(binary))
    assert r.returncode == 0, r.stderr
    assert "Attached 2 probes" in r.stderr + r.stdout
    assert "@[leaf]: 7\n" in r.stdout
    assert "@[middle]: 7\n" in r.stdout


def test_ustack_symbolised_after_the_process_exited(binary: Path) -> None:
    r = trace(f"uprobe:{binary}:leaf {{ @[ustack] = count(); }}", "-c", str(binary))
    assert r.returncode == 0, r.stderr
    # Maps print at the end of the run, after the child has exited.
    frames = [ln.strip() for ln in r.stdout.splitlines() if ln.startswith("        ")]
    assert frames[0] == "leaf+0"
    assert frames[1].startswith("middle+")
    assert frames[2].startswith("main+")
    assert "]: 7\n" in r.stdout


def test_usdt_python_with_arguments() -> None:
    child = (
        f"{PY} -c 'import sys,gc\ngc.disable()\n"
        '[sys.audit("pybpf.test", 1) for _ in range(9)]\n'
        "[gc.collect(1) for _ in range(3)]'"
    )
    script = (
        'usdt:/usr/bin/python3.11:python:audit /str(arg0) == "pybpf.test"/ { @a = count(); }'
        # gc__start's argument is a memory operand (-4@112(%rsp)): generation 1, thrice.
        " usdt:/usr/bin/python3.11:gc__start /arg0 == 1/ { @g = count(); }"
    )
    r = trace(script, "-c", child)
    assert r.returncode == 0, r.stderr
    assert "@a: 9\n" in r.stdout
    assert "@g: 3\n" in r.stdout


def test_watchpoint_counts_writes_in_c_child(binary: Path) -> None:
    addr = symbol_address(binary, "counter")
    r = trace(f"watchpoint:{addr:#x}:8:w {{ @w = count(); }}", "-c", str(binary))
    assert r.returncode == 0, r.stderr
    assert "@w: 7\n" in r.stdout


def test_watchpoint_needs_a_process() -> None:
    r = trace("watchpoint:0x1000:8:w { @w = count(); }")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "watchpoints need -p PID or -c CMD" in r.stderr


@pytest.mark.parametrize(
    ("script", "error", "hint"),
    [
        ("kprobe:__x64_sys_openat { @ = count(); }",
         "ERROR: kprobe is not supported by this kernel (CONFIG_KPROBES is off)",
         "HINT: use tracepoint:syscalls:sys_enter_openat instead"),
        ("kretprobe:do_nanosleep { @ = count(); }",
         "ERROR: kretprobe is not supported by this kernel (CONFIG_KPROBES is off)", None),
        ("fentry:__x64_sys_read { @ = count(); }",
         "ERROR: fentry is not supported by this kernel (BPF trampolines are not available "
         "here)", "HINT: use tracepoint:syscalls:sys_enter_read instead"),
    ],
)  # fmt: skip
def test_kernel_probes_missing_feature(
    script: str, error: str, hint: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    from pybpf.cli.pybpftrace import main

    # In process, so the no_leaks check sees that nothing stayed loaded.
    assert main(["-e", script]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [error] + ([hint] if hint else [])


def test_uprobe_wildcard_in_libc_one_multi_link() -> None:
    child = (
        f"{PY} -c 'import ctypes;l=ctypes.CDLL(None)\n"
        "[l.getpid() for _ in range(50)];[l.getppid() for _ in range(30)]'"
    )
    # getpid, getppid, getpgid, getpriority ...: every match on one uprobe_multi link.
    r = trace("uretprobe:libc:getp* { @[func] = count(); }", "-c", child)
    assert r.returncode == 0, r.stderr
    assert int(r.stderr.split()[1]) > 2  # "Attached N probes"
    assert "@[getpid]: 50\n" in r.stdout
    assert "@[getppid]: 30\n" in r.stdout


def test_usym_and_uaddr(binary: Path) -> None:
    addr = symbol_address(binary, "counter")
    script = (
        f'uprobe:{binary}:leaf {{ @s[usym(uaddr("middle")), func] = count();'
        f' @a[uaddr("counter") == {addr}] = count(); }}'
    )
    r = trace(script, "-c", str(binary))
    assert r.returncode == 0, r.stderr
    assert "@s[middle, leaf]: 7\n" in r.stdout
    assert "@a[true]: 7\n" in r.stdout


def test_p_usdt_resolved_through_the_running_process() -> None:
    code = 'import sys;sys.stdin.readline();[sys.audit("pybpf.p") for _ in range({n})]'
    a = subprocess.Popen([PY, "-c", code.format(n=6)], stdin=subprocess.PIPE, text=True)
    b = subprocess.Popen([PY, "-c", code.format(n=4)], stdin=subprocess.PIPE, text=True)
    env = dict(os.environ, **{READY: "1"})
    # "python3.11" names the file the process maps (PATH would find pyenv's shim script).
    script = 'usdt:python3.11:python:audit /str(arg0) == "pybpf.p"/ { @[pid] = count(); }'
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", "-p", str(a.pid), "-e", script]
    tracer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)  # fmt: skip
    try:
        assert tracer.stdout is not None
        assert tracer.stdout.readline().strip() == READY
        for p in (b, a):
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
            p.wait(30)
        out, err = tracer.communicate(timeout=30)
    finally:
        for p in (a, b, tracer):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert tracer.returncode == 0, err
    assert out.split("\n\n")[-1] == f"@[{a.pid}]: 6\n"


def test_ustack_system_wide_after_exit(binary: Path) -> None:
    # No -c/-p: the pid is found in the stack map's keys and its mappings kept.
    wl = subprocess.Popen(["/bin/sh", "-c", f"read -r _; exec {binary}"], stdin=subprocess.PIPE,
                          text=True)  # fmt: skip
    env = dict(os.environ, **{READY: "1"})
    script = (
        f"uprobe:{binary}:leaf {{ @[ustack] = count(); }}"
        " tracepoint:sched:sched_process_exit /pid == $1/ { exit(); }"
    )
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", "-e", script, str(wl.pid)]
    tracer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)  # fmt: skip
    try:
        assert tracer.stdout is not None
        assert tracer.stdout.readline().strip() == READY
        assert wl.stdin is not None
        wl.stdin.write("go\n")
        wl.stdin.flush()
        wl.wait(30)
        out, err = tracer.communicate(timeout=30)
    finally:
        for p in (wl, tracer):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert tracer.returncode == 0, err
    frames = [ln.strip() for ln in out.splitlines() if ln.startswith("        ")]
    assert frames[:2] == ["leaf+0", frames[1]] and frames[1].startswith("middle+")
    assert frames[2].startswith("main+")
    assert "]: 7\n" in out
