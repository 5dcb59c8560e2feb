"""Syscall tracepoint wildcards compiled onto the raw ``sys_enter``/``sys_exit`` tracepoints
behave exactly like one probe per tracepoint: same ``probe`` names, ``args.ret`` and counts."""

from __future__ import annotations

import pytest
from tests.tracer.helpers import run_tracer

from pybpf.codegen.syscalls import syscall_numbers

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(not syscall_numbers(), reason="no syscall numbers (uapi header)"),
]

EXIT_WITH = "tracepoint:sched:sched_process_exit /pid == $1/ { exit(); }"
GETPIDS = "import os\nfor _ in range(377): os.getpid()\n"


def _map_lines(out: str) -> dict[str, str]:
    return dict(ln.rsplit(": ", 1) for ln in out.splitlines() if ln.startswith("@"))


def test_exit_wildcard_probe_names_count_exactly() -> None:
    r = run_tracer(
        "tracepoint:syscalls:sys_exit_* /pid == $1/ { @[probe] = count(); }" + EXIT_WITH,
        workload=GETPIDS,
    )
    assert r.returncode == 0, r.stderr
    assert _map_lines(r.stdout)["@[tracepoint:syscalls:sys_exit_getpid]"] == "377"


def test_exit_wildcard_args_ret_and_nr() -> None:
    work = "import os\nfd = os.open('/dev/zero', os.O_RDONLY)\nfor _ in range(4): os.read(fd, 13)\n"
    r = run_tracer(
        "tracepoint:syscalls:sys_exit_read* /pid == $1/ {"
        " @[probe, args.ret] = count(); @nr[args.__syscall_nr] = count(); }" + EXIT_WITH,
        workload=work,
    )
    assert r.returncode == 0, r.stderr
    lines = _map_lines(r.stdout)
    assert lines["@[tracepoint:syscalls:sys_exit_read, 13]"] == "4"
    nrs = {int(k[4:-1]): int(v) for k, v in lines.items() if k.startswith("@nr[")}
    reads = sum(
        int(v) for k, v in lines.items() if k.startswith("@[tracepoint:syscalls:sys_exit_read,")
    )
    assert nrs[syscall_numbers()["read"]] == reads


def test_exit_wildcard_negative_ret() -> None:
    work = "import os\nfor _ in range(6):\n    try: os.close(987654)\n    except OSError: pass\n"
    r = run_tracer(
        "tracepoint:syscalls:sys_exit_c* /pid == $1/ { @[probe, args.ret] = count(); }" + EXIT_WITH,
        workload=work,
    )
    assert r.returncode == 0, r.stderr
    assert _map_lines(r.stdout)["@[tracepoint:syscalls:sys_exit_close, -9]"] == "6"


def test_mixed_enter_and_exit_wildcard() -> None:
    r = run_tracer(
        "tracepoint:syscalls:sys_*_getp* /pid == $1/ { @[probe] = count(); }" + EXIT_WITH,
        workload=GETPIDS,
    )
    assert r.returncode == 0, r.stderr
    lines = _map_lines(r.stdout)
    assert lines["@[tracepoint:syscalls:sys_enter_getpid]"] == "377"
    assert lines["@[tracepoint:syscalls:sys_exit_getpid]"] == "377"
    assert not any("getppid" in k for k in lines)


def test_exit_wildcard_and_exact_tracepoint_together() -> None:
    r = run_tracer(
        "tracepoint:syscalls:sys_exit_getp*, tracepoint:syscalls:sys_enter_getpid"
        " /pid == $1/ { @[probe] = count(); @n = count(); }" + EXIT_WITH,
        workload=GETPIDS,
    )
    assert r.returncode == 0, r.stderr
    lines = _map_lines(r.stdout)
    assert lines["@[tracepoint:syscalls:sys_exit_getpid]"] == "377"
    assert lines["@[tracepoint:syscalls:sys_enter_getpid]"] == "377"
    assert lines["@n"] == "754"


def test_probe_inside_for_loop_of_a_wildcard() -> None:
    r = run_tracer(
        "tracepoint:syscalls:sys_exit_getp* /pid == $1/ { @one[1] = 1; $add = 2;"
        " for ($kv : @one) { @[probe] = sum($add); } }" + EXIT_WITH,
        workload=GETPIDS,
    )
    assert r.returncode == 0, r.stderr
    assert _map_lines(r.stdout)["@[tracepoint:syscalls:sys_exit_getpid]"] == str(2 * 377)
