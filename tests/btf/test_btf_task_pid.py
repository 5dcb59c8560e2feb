"""Acceptance: the ``task_struct.pid`` offset ``pybpf btf dump`` prints is the real one.

A program written in assembler text (``pybpf.asm``) calls ``bpf_get_current_task_btf`` on
``sys_enter_getpid``, reads a u32 at the printed offset and counts events per value read in
a hash map. If the offset were wrong the counts would land on some other key: 1000
``os.getpid()`` calls from a second thread must read back as exactly 1000 under that
thread's id (its ``task->pid``; ``task->tgid`` would be ``os.getpid()``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

import pytest

from pybpf.asm import assemble
from pybpf.attach import attach_tracepoint
from pybpf.bpf import Map, MapSpec, MapType, Program, ProgSpec, ProgType
from pybpf.bpf.info import ObjKind, gone

pytestmark = pytest.mark.kernel

N = 1000

# Count by task->pid: look the key up, add 1 atomically, or insert 1 the first time.
PROGRAM = """
call bpf_get_current_task_btf#158
r1 = *(u32 *)(r0 +{pid_off})
*(u32 *)(r10 -4) = r1
r1 = map[fd:{map_fd}]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0x0 goto insert
r1 = 1
lock *(u64 *)(r0 +0) += r1
goto out
insert:
r1 = 1
*(u64 *)(r10 -16) = r1
r1 = map[fd:{map_fd}]
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = 0
call bpf_map_update_elem#2
out:
r0 = 0
exit
"""

_MEMBER = re.compile(r"^\s*pid_t\s+pid;\s*/\*\s*(\d+)\s+(\d+)\s*\*/\s*$")


def _dumped_pid_offset() -> tuple[int, int]:
    """(offset, size) of ``pid`` from the CLI's pahole-style dump of task_struct."""
    p = subprocess.run(
        [sys.executable, "-m", "pybpf", "btf", "dump", "struct task_struct"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    found = [m for m in map(_MEMBER.match, p.stdout.splitlines()) if m]
    assert len(found) == 1, "expected exactly one top-level 'pid_t pid;' member"
    return int(found[0].group(1)), int(found[0].group(2))


def _getpid_n(n: int, tids: list[int]) -> None:
    tids.append(threading.get_native_id())
    for _ in range(n):
        os.getpid()  # a real getpid(2) each call (glibc >= 2.25 does not cache)


def test_dumped_pid_offset_is_what_the_kernel_program_reads() -> None:
    pid_off, size = _dumped_pid_offset()
    assert size == 4
    tids: list[int] = []
    with Map.create(MapSpec(MapType.HASH, 4, 8, 4096, name="by_task_pid")) as m:
        insns = assemble(PROGRAM.format(pid_off=pid_off, map_fd=m.fd), "c")
        spec = ProgSpec(ProgType.TRACEPOINT, insns, name="task_pid")
        with Program.load(spec) as prog:
            prog_id, map_id = prog.id, m.id
            with attach_tracepoint(prog, "syscalls", "sys_enter_getpid") as link:
                link_id = link.id
                # Off the main thread task->pid (the thread id) differs from task->tgid
                # (os.getpid()), so reading the neighbouring member could not pass.
                worker = threading.Thread(target=_getpid_n, args=(N, tids))
                worker.start()
                worker.join()
            (tid,) = tids
            assert tid != os.getpid()
            view = m.view("<I", "<Q")
            assert view[tid] == N
    assert gone(ObjKind.LINK, link_id)
    assert gone(ObjKind.PROG, prog_id)
    assert gone(ObjKind.MAP, map_id)
