"""Iterator probes on the real kernel: ``iter:task``/``task_file``/``task_vma`` visit a known
process exactly, typed ``ctx`` fields read through BTF, and the run ends by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pybpf.attach.btfids import KIND_FUNC, vmlinux_type_id

pytestmark = pytest.mark.kernel

# A workload with a known comm, extra threads and files, paused until stdin closes.
WORKLOAD = """
import sys, threading
open('/proc/self/comm', 'w').write('itertest_wl')
ev = threading.Event()
ts = [threading.Thread(target=ev.wait) for _ in range(3)]
for t in ts: t.start()
fds = [open('/dev/null') for _ in range(5)]
print('ready', flush=True)
sys.stdin.read()
ev.set()
"""


def _has(target: str) -> bool:
    return vmlinux_type_id(f"bpf_iter_{target}", KIND_FUNC) is not None


@pytest.fixture
def workload() -> Iterator[int]:
    p = subprocess.Popen(
        [sys.executable, "-c", WORKLOAD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    try:
        yield p.pid
    finally:
        assert p.stdin is not None
        p.stdin.close()
        p.wait(10)


def _trace(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", *args, "-e", script]
    # No signal and no exit(): an iterator-only script must end by itself.
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_task_finds_the_process_with_its_comm(workload: int) -> None:
    r = _trace(
        f"iter:task {{ if (ctx->task->pid == {workload}) {{"
        ' printf("found %d %s tgid %d\\n", ctx->task->pid, ctx->task->comm, ctx->task->tgid); } }'
    )
    assert r.returncode == 0, r.stderr
    found = [ln for ln in r.stdout.splitlines() if ln.startswith("found")]
    assert found == [f"found {workload} itertest_wl tgid {workload}"]


def test_task_counts_threads_exactly(workload: int) -> None:
    r = _trace(
        f"iter:task /ctx->task->tgid == {workload}/ {{ @threads = count(); }}"
        ' END { printf("end\\n"); }'
    )
    assert r.returncode == 0, r.stderr
    assert "end\n" in r.stdout
    nthreads = len(os.listdir(f"/proc/{workload}/task"))
    assert nthreads == 4
    assert f"@threads: {nthreads}" in r.stdout


def test_task_json_output(workload: int) -> None:
    r = _trace(
        f'iter:task {{ if (ctx->task->pid == {workload}) {{ printf("%s\\n", ctx->task->comm); }} }}',
        "-f",
        "json",
    )
    assert r.returncode == 0, r.stderr
    assert '{"type": "printf", "data": "itertest_wl\\n"}' in r.stdout.splitlines()


@pytest.mark.skipif(not _has("task_file"), reason="kernel lacks iter task_file")
def test_task_file_sees_every_fd(workload: int) -> None:
    r = _trace(
        f"iter:task_file /ctx->task->pid == {workload}/ {{ @fds[ctx->fd] = count(); @n = count(); }}"
    )
    assert r.returncode == 0, r.stderr
    fds = sorted(int(f) for f in os.listdir(f"/proc/{workload}/fd"))
    got = sorted(
        int(ln[5:].split("]")[0]) for ln in r.stdout.splitlines() if ln.startswith("@fds[")
    )
    assert got == fds
    assert f"@n: {len(fds)}" in r.stdout


@pytest.mark.skipif(not _has("task_vma"), reason="kernel lacks iter task_vma")
def test_task_vma_matches_proc_maps(workload: int) -> None:
    r = _trace(
        f"iter:task_vma /ctx->task->pid == {workload}/ {{ @start[ctx->vma->vm_start] = count(); }}"
    )
    assert r.returncode == 0, r.stderr
    with open(f"/proc/{workload}/maps") as f:
        starts = sorted(
            int(ln.split("-")[0], 16) for ln in f if not ln.rstrip().endswith("[vsyscall]")
        )
    got = sorted(
        int(ln[7:].split("]")[0]) for ln in r.stdout.splitlines() if ln.startswith("@start[")
    )
    assert got == starts


def test_one_attach_point_per_iter_probe() -> None:
    r = _trace("iter:task, iter:task_file { @n = count(); }")
    assert r.returncode == 1
    assert "ERROR: Only single iter attach point is allowed." in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_iterator_is_one_clear_error() -> None:
    r = _trace("iter:no_such_iterator { @n = count(); }")
    assert r.returncode == 1
    assert "iter no_such_iterator not available for your kernel version." in r.stderr
    assert "Traceback" not in r.stderr


def test_in_process_run_leaves_nothing_open(capsys: pytest.CaptureFixture[str]) -> None:
    # In the test process, so the no_leaks check sees every fd the run opened.
    from pybpf.cli.pybpftrace import main

    status = main(["-e", f"iter:task /ctx->task->pid == {os.getpid()}/ {{ @me = count(); }}"])
    assert status == 0
    assert "@me: 1" in capsys.readouterr().out


@pytest.mark.skipif(not _has("task_file"), reason="kernel lacks iter task_file")
def test_task_file_path_matches_proc_fd_links(workload: int) -> None:
    r = _trace(
        f"iter:task_file /ctx.task.pid == {workload}/ {{"
        ' printf("%d %s\\n", ctx.fd, path(ctx.file.f_path)); }'
    )
    assert r.returncode == 0, r.stderr
    got = dict(ln.split(" ", 1) for ln in r.stdout.splitlines() if ln[:1].isdigit())
    want = {f: os.readlink(f"/proc/{workload}/fd/{f}") for f in os.listdir(f"/proc/{workload}/fd")}
    assert got == want
    assert list(want.values()).count("/dev/null") >= 5


def test_path_outside_iterators_is_one_clear_error() -> None:
    r = _trace('BEGIN { printf("%s\\n", path(curtask->fs->pwd)); }')
    assert r.returncode == 1
    assert "path() is supported on iterator context fields" in r.stderr
    assert "Traceback" not in r.stderr
