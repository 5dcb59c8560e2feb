"""Kernel types on the real kernel: ``curtask`` chains, casts, bitfields, arrays, nested
members, BTF arguments of raw tracepoints, and sizeof/offsetof against the BTF dump."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from tests.tracer.helpers import READY, run_tracer

pytestmark = pytest.mark.kernel

UDP_SEND = (
    "import socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.sendto(b'x' * 100, ('127.0.0.1', 9))\n"
    "s.close()\n"
)


def _lines(r: subprocess.CompletedProcess[str]) -> list[str]:
    assert r.returncode == 0, r.stderr
    skip = ("Attach", READY)
    return [ln for ln in r.stdout.splitlines() if ln and not ln.startswith(skip)]


def _comm() -> str:
    # The kernel names a task after the basename of the file it executed (15 bytes max).
    return os.path.basename(sys.executable)[:15]


def test_curtask_parent_pid_is_the_test_process() -> None:
    r = run_tracer('BEGIN { printf("%d %d %d\\n", pid, curtask->pid, curtask->parent->pid); '
                   "exit(); }")  # fmt: skip
    pid, task_pid, ppid = map(int, _lines(r)[0].split())
    assert ppid == os.getpid()
    assert task_pid == pid != os.getpid()


def test_curtask_comm_is_the_process_name() -> None:
    r = run_tracer('BEGIN { printf("%s|%s|%c\\n", curtask->comm, comm, curtask->comm[1]); '
                   "exit(); }")  # fmt: skip
    task_comm, comm, second = _lines(r)[0].split("|")
    assert task_comm == comm == _comm()
    assert second == _comm()[1]


def test_array_index_at_run_time_and_nested_dot_member() -> None:
    script = (
        "BEGIN { $i = 2; $t = curtask; "
        'printf("%c %d %d\\n", $t->comm[$i], $t->se.on_rq, $t->group_leader->mm->map_count); '
        "exit(); }"
    )
    ch, on_rq, maps = _lines(run_tracer(script))[0].split()
    assert ch == _comm()[2]
    # The BEGIN program runs in the tracer while it is running, so it is on the run queue.
    assert on_rq == "1"
    # map_count sits in mm_struct's anonymous struct member.
    assert int(maps) > 10


def test_kernel_bitfield() -> None:
    # sched_reset_on_fork is a 1-bit field: SCHED_RESET_ON_FORK set before exec keeps it.
    script = (
        'BEGIN { printf("%d %d\\n", curtask->sched_reset_on_fork, curtask->in_execve); exit(); }'
    )
    plain = _lines(run_tracer(script))[0]
    assert plain == "0 0"
    code = (
        "import os, sys\n"
        "os.sched_setscheduler(0, os.SCHED_OTHER | os.SCHED_RESET_ON_FORK, os.sched_param(0))\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'pybpf.cli.pybpftrace', '-e', sys.argv[1]])\n"
    )
    r = subprocess.run([sys.executable, "-c", code, script], capture_output=True, text=True,
                       timeout=30)  # fmt: skip
    assert _lines(r)[0] == "1 0"


def test_script_struct_bitfields_over_kernel_memory() -> None:
    # Bitfields of a script struct laid over curtask->comm, whose bytes the test knows.
    script = (
        "struct bits { unsigned int lo:4; unsigned int mid:12; int top:16; } "
        "BEGIN { $b = (struct bits *)((uint64)curtask + offsetof(struct task_struct, comm)); "
        'printf("%d %d %d\\n", $b->lo, $b->mid, $b->top); exit(); }'
    )
    lo, mid, top = map(int, _lines(run_tracer(script))[0].split())
    word = int.from_bytes(_comm().encode()[:4].ljust(4, b"\0"), "little")
    assert lo == word & 0xF
    assert mid == (word >> 4) & 0xFFF
    t = word >> 16
    assert top == (t - (1 << 16) if t & 0x8000 else t)


def test_cast_tracepoint_pointer_to_kernel_struct() -> None:
    script = (
        "tracepoint:net:net_dev_queue /pid == $1/ { $skb = (struct sk_buff *)args.skbaddr; "
        'printf("%d %d %s %s\\n", args.len, $skb->len, $skb->dev->name, str(args.name)); '
        "exit(); }"
    )
    ln, skb_len, dev, name = _lines(run_tracer(script, workload=UDP_SEND))[0].split()
    assert ln == skb_len and int(ln) == 142  # ethernet + IP + UDP headers + 100 bytes
    assert dev == name == "lo"


def test_cast_to_task_struct_pointer() -> None:
    r = run_tracer('BEGIN { printf("%d %d\\n", ((struct task_struct *)curtask)->tgid, pid); '
                   "exit(); }")  # fmt: skip
    a, b = _lines(r)[0].split()
    assert a == b


@pytest.mark.parametrize("provider", ["rawtracepoint", "tp_btf"])
def test_btf_pointer_args(provider: str) -> None:
    script = (
        f"{provider}:sched_process_exit /pid == $1/ {{ "
        'printf("%d %d %s %d\\n", pid, args.p->tgid, args.p->comm, args.p->real_parent->pid); '
        "exit(); }"
    )
    pid, tgid, comm, ppid = _lines(run_tracer(script, workload="pass"))[0].split()
    assert pid == tgid
    assert comm == _comm()
    assert int(ppid) == os.getpid()


def _dump_figures() -> tuple[int, int, int]:
    out = subprocess.run(
        [sys.executable, "-m", "pybpf.cli.pybpf", "btf", "dump", "--format", "raw",
         "struct task_struct"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    size = int(re.search(r"STRUCT 'task_struct' size=(\d+)", out).group(1))  # type: ignore[union-attr]
    pid = int(re.search(r"'pid' type_id=\d+ bits_offset=(\d+)", out).group(1))  # type: ignore[union-attr]
    comm = int(re.search(r"'comm' type_id=\d+ bits_offset=(\d+)", out).group(1))  # type: ignore[union-attr]
    return size, pid // 8, comm // 8


def test_sizeof_offsetof_match_btf_dump() -> None:
    script = (
        "#include <linux/sched.h>\n"
        'BEGIN { printf("%d %d %d %d\\n", sizeof(struct task_struct), '
        "offsetof(struct task_struct, pid), offsetof(struct task_struct, comm), "
        "sizeof(curtask->comm)); exit(); }"
    )
    got = tuple(map(int, _lines(run_tracer(script))[0].split()))
    size, pid_off, comm_off = _dump_figures()
    assert got == (size, pid_off, comm_off, 16)


def test_unknown_member_is_a_diagnostic() -> None:
    r = run_tracer('BEGIN { printf("%d\\n", curtask->no_such_field); exit(); }')
    assert r.returncode != 0
    assert "does not contain a field named 'no_such_field'" in r.stderr
    assert "Traceback" not in r.stderr


def test_uprobe_casts_read_user_memory() -> None:
    # In a uprobe, cast pointers are user pointers (bpftrace): indexing, a script struct
    # member and ``*p`` all read the string the workload passes to getenv().
    script = (
        "struct two { char a; char b; } "
        "uprobe:libc:getenv /pid == $1 && ((int8 *)arg0)[0] == 75/ { "
        'printf("%c %c %c %s\\n", ((int8 *)arg0)[1], ((struct two *)arg0)->b, '
        "*((int8 *)arg0 + 2), str(arg0)); exit(); }"
    )
    wl = "import ctypes\nctypes.CDLL(None).getenv(b'KTYPES_PROBE')\n"
    assert _lines(run_tracer(script, workload=wl))[0] == "T T Y KTYPES_PROBE"


def test_bswap() -> None:
    script = (
        "BEGIN { $x = (uint16)0x1234; $y = (uint32)0x11223344; $z = (uint64)0x0102030405060708; "
        'printf("%x %x %lx %x\\n", bswap($x), bswap($y), bswap($z), bswap((uint16)0xabcd)); '
        "exit(); }"
    )
    assert _lines(run_tracer(script))[0] == "3412 44332211 807060504030201 cdab"


def _c4_expected() -> tuple[int, int, int, int]:
    raw = _comm().encode()[:4].ljust(4, b"\0")
    a, b = (x - 256 if x > 127 else x for x in raw[:2])
    u16 = int.from_bytes(raw[2:4], "little")
    d = u16 >> 4
    return a, b, u16 & 0xF, d - (1 << 12) if d & 0x800 else d


C4 = (
    "struct c4 { char a; char b; uint16 c:4; int16 d:12; } "
    "BEGIN { $s = (struct c4 *)((uint64)curtask + offsetof(struct task_struct, comm)); "
)


def test_struct_value_printed_and_its_fields() -> None:
    script = (
        C4 + 'print(*$s); $v = *$s; printf("%d %d %d %d\\n", $v.a, $v.b, $v.c, $v.d); exit(); }'
    )
    printed, fields = _lines(run_tracer(script))[:2]
    a, b, c, d = _c4_expected()
    assert printed == f"{{ .a = {a}, .b = {b}, .c = {c}, .d = {d} }}"
    assert fields == f"{a} {b} {c} {d}"


def test_struct_value_json() -> None:
    r = run_tracer(C4 + "print(*$s); exit(); }", "-f", "json")
    rows = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
    a, b, c, d = _c4_expected()
    assert {"type": "value", "data": {"a": a, "b": b, "c": c, "d": d}} in rows


def test_dot_dereferences_struct_pointers() -> None:
    # Current bpftrace: '.' on a struct pointer is '->'.
    script = 'BEGIN { $t = curtask; printf("%d %s\\n", $t.parent.pid, curtask.comm); exit(); }'
    ppid, comm = _lines(run_tracer(script))[0].split()
    assert int(ppid) == os.getpid()
    assert comm == _comm()
