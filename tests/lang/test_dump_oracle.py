"""``-d ast`` against the installed bpftrace's parser dump (0.17's ``-d`` output).

Only constructs 0.17 prints the same way are compared (0.17 desugars ``x += v`` and nests
``while`` bodies oddly); the type suffixes it prints (``:: type[...]``) are stripped.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from pybpf.lang.dump import dump_ast
from pybpf.lang.parser import parse

BPFTRACE = shutil.which("bpftrace")

SCRIPTS = [
    'BEGIN { printf("hello %d\\n", pid); }',
    "kprobe:do_nanosleep /pid > 100/ { @[comm] = count(); @x = hist(arg0); }",
    'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }',
    'BEGIN { $x = 1; if ($x == 1) { printf("a"); } else { printf("b"); } }',
    'BEGIN { @a[1, "x"] = 5; delete(@a[1, "x"]); clear(@a); print(@a); exit(); }',
    'BEGIN { $t = (1, "a", 2); printf("%d\\n", $t.0); $c = pid > 1 ? 1 : -1; }',
    "kretprobe:vfs_read { @bytes = sum(retval); @l = lhist(retval, 0, 100, 10); }",
    "BEGIN { $x = (uint32)5; $y = ~$x; $z = !$x; $p = (struct task_struct *)curtask; "
    "$q = $p->pid; }",
    "profile:hz:99 { @[kstack] = count(); @u[ustack(perf, 3)] = count(); }",
    "BEGIN { unroll(3) { @i++; } $s = sizeof(int64); @m = @i << 2 | 1 & 3 ^ 4; }",
    'interval:s:1 { time("%H:%M:%S\\n"); print(@x, 5); zero(@y); }',
    "BEGIN, END { @x = 1 - 2 * 3 / 4 % 5; @y = (1 + 2) * 3; @z = 1 < 2 && 3 >= 4 || 5 != 6; }",
]


def _bpftrace_dump(src: str) -> str | None:
    assert BPFTRACE is not None
    out = subprocess.run(
        [BPFTRACE, "-d", "-e", src], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    m = re.search(r"AST after: parser\n-+\n(.*?)\n\n", out, re.S)
    if m is None:
        return None
    return re.sub(r" :: type\[[^\]]*\]", "", m.group(1)) + "\n"


@pytest.mark.skipif(BPFTRACE is None, reason="bpftrace not installed")
@pytest.mark.parametrize("src", SCRIPTS, ids=[str(i) for i in range(len(SCRIPTS))])
def test_dump_matches_bpftrace(src: str) -> None:
    theirs = _bpftrace_dump(src)
    assert theirs is not None, "bpftrace printed no parser AST"
    assert dump_ast(parse(src).program) == theirs
