"""Links die with their process, however it dies: the kernel detaches and frees them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from pybpf.bpf.info import ObjKind, gone

pytestmark = pytest.mark.kernel

CHILD = """
import sys, time
from pybpf.asm import Insn
from pybpf.attach import attach_tracepoint, attach_uprobe
from pybpf.bpf import Map, MapSpec, MapType, Program, ProgSpec, ProgType
ret0 = [Insn(0xB7), Insn(0x95)]
m = Map.create(MapSpec(MapType.HASH, 4, 4, 4))
tp = Program.load(ProgSpec(ProgType.TRACEPOINT, ret0))
up = Program.load(ProgSpec(ProgType.KPROBE, ret0))
l1 = attach_tracepoint(tp, "syscalls", "sys_enter_getpid")
l2 = attach_uprobe(up, "libc", "getpid")
print(m.id, tp.id, up.id, l1.id, l2.id, flush=True)
time.sleep(60)
"""


def test_sigkill_leaves_nothing_attached() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        map_id, tp_id, up_id, l1, l2 = (int(x) for x in child.stdout.readline().split())
        assert not gone(ObjKind.LINK, l1, wait=0) and not gone(ObjKind.PROG, up_id, wait=0)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stdout:
            child.stdout.close()
    for kind, obj in [(ObjKind.LINK, l1), (ObjKind.LINK, l2), (ObjKind.PROG, tp_id),
                      (ObjKind.PROG, up_id), (ObjKind.MAP, map_id)]:  # fmt: skip
        assert gone(kind, obj), (kind, obj)
