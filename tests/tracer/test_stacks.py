"""kstack/ustack output on real stacks, line for line against Debian's bpftrace 0.17 (same
script, same workload) where current bpftrace agrees, and exact text where it does not
(raw mode, which 0.17 lacks; user stacks after the process exited, which 0.17 leaves as
addresses; JSON map keys, whose spaces current bpftrace removes).

One systematic difference is normalised: 0.17 indents the frames of a stack in a map key by
4 spaces, current bpftrace formats keys and values alike (``types_format.cpp`` renders
every kstack/ustack with an indent of 8), and pybpftrace follows current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

BPFTRACE = shutil.which("bpftrace")
needs_oracle = pytest.mark.skipif(BPFTRACE is None, reason="Debian's bpftrace is not installed")

C_SOURCE = r"""
#include <unistd.h>
volatile long counter = 1;
__attribute__((noinline)) void leaf(int i) { counter += i; }
__attribute__((noinline)) void middle(int i) { leaf(i); }
/* The pause lets bpftrace 0.17 read /proc/PID/exe before the process is gone. */
int main(void) { for (int i = 0; i < 3; i++) middle(i); usleep(200000); return 0; }
"""

KSCRIPT = (
    "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ {"
    ' printf("%s|%s|\\n", kstack(perf, 3), kstack(2)); print(kstack(3));'
    " @k[kstack(4)] = count(); @p[kstack(perf, 3)] = count(); @v = kstack(2);"
    " @t[kstack(2), 7] = count(); }"
)


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A non-PIE test program with frame pointers (its user stacks unwind)."""
    d = tmp_path_factory.mktemp("stacks")
    (d / "t.c").write_text(C_SOURCE)
    out = d / "t"
    cmd = ["gcc", "-O0", "-fno-omit-frame-pointer", "-no-pie", "-o", str(out), str(d / "t.c")]
    subprocess.run(cmd, check=True)
    return out


@pytest.fixture(scope="module")
def getppid_child(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A -c command that calls getppid three times (bpftrace splits -c on spaces)."""
    p = tmp_path_factory.mktemp("stacks") / "gp.py"
    p.write_text("import os\nfor _ in range(3): os.getppid()\n")
    return f"/usr/bin/python3.11 {p}"


def ours(*args: str) -> str:
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def theirs(*args: str) -> str:
    """bpftrace 0.17's output, its map-key stacks re-indented as current bpftrace's."""
    assert BPFTRACE is not None
    r = subprocess.run([BPFTRACE, *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # bpftrace announces "Attaching 1 probe..." on stdout, pybpftrace on stderr.
    out = r.stdout.split("\n", 1)[1] if r.stdout.startswith("Attaching") else r.stdout
    lines, in_key = [], False
    for ln in out.split("\n"):
        if ln.startswith("@") and ln.endswith("["):
            in_key = True
        elif ln.startswith("]") or ln.startswith(","):
            in_key = False
        elif in_key and ln.startswith("    ") and not ln.startswith("     "):
            ln = "    " + ln
        lines.append(ln)
    return "\n".join(lines)


@needs_oracle
def test_kstack_modes_match_bpftrace_line_for_line(getppid_child: str) -> None:
    mine = ours("-e", KSCRIPT, "-c", getppid_child)
    assert mine == theirs("-e", KSCRIPT, "-c", getppid_child)
    # What the comparison covers: 8-space frames (printf, print, values, keys), perf lines
    # "\t<addr> sym+off" without a module for kernel frames, tuple keys, map order.
    assert "@k[\n        perf_syscall_enter+" in mine and "\n        do_syscall_64+" in mine
    assert any(ln.startswith("\tffffffff") and ln.count(" ") == 1 for ln in mine.splitlines())
    assert "\n, 7]: 3\n" in mine and "]: 3\n@p[\n" in mine


def test_kstack_raw_mode_and_json_keys(getppid_child: str) -> None:
    script = (
        "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ {"
        " @r[kstack(raw, 2)] = count(); @k[kstack(1)] = count(); }"
    )
    text = ours("-e", script, "-c", getppid_child)
    raw = text.split("@r[\n", 1)[1].split("]: 3\n", 1)[0].splitlines()
    assert len(raw) == 2 and all(len(a) == 16 and int(a, 16) >> 63 for a in raw)
    js = ours("-f", "json", "-e", script, "-c", getppid_child).splitlines()
    k = next(ln for ln in js if '"@k"' in ln)
    # Current bpftrace removes every space from JSON keys (the indentation too).
    assert k.startswith('{"type": "map", "data": {"@k": {"\\nperf_syscall_enter+')
    assert k.endswith('\\n": 3}}}')
    r = next(ln for ln in js if '"@r"' in ln)
    assert r == '{"type": "map", "data": {"@r": {"\\n' + "\\n".join(raw) + '\\n": 3}}}'


@needs_oracle
def test_ustack_printf_matches_bpftrace(binary: Path) -> None:
    # While the process lives, both symbolise its frames (0.17 through bcc).
    script = (
        f'uprobe:{binary}:leaf {{ printf("%s|%s|\\n", ustack(perf, 3), ustack(2));'
        " print(ustack(bpftrace, 2)); }"
    )
    mine = ours("-e", script, "-c", str(binary))
    assert mine == theirs("-e", script, "-c", str(binary))
    assert f"\t401126 leaf+0 ({binary})\n" in mine or f"leaf+0 ({binary})\n" in mine
    assert "\n        leaf+0\n        middle+" in mine


def test_ustack_map_keys_after_exit_exact(binary: Path) -> None:
    script = (
        f"uprobe:{binary}:leaf {{ @[ustack(3)] = count(); @p[ustack(perf, 2)] = count();"
        " @v[1] = ustack(2); }"
    )
    out = ours("-e", script, "-c", str(binary))
    nm = subprocess.run(["nm", str(binary)], capture_output=True, text=True, check=True).stdout
    addr = {ln.split()[2]: int(ln.split()[0], 16) for ln in nm.splitlines() if ln.count(" ") == 2}
    assert out.startswith("\n\n@[\n")  # the run's end: two newlines, then the maps
    lines = out[2:].splitlines()
    assert lines[0] == "@["
    assert lines[1] == "        leaf+0"
    assert lines[2].startswith("        middle+") and lines[3].startswith("        main+")
    assert lines[4] == "]: 3"
    moff = int(lines[2].split("+")[1])
    assert lines[5:9] == [
        "@p[",
        f"\t{addr['leaf']:x} leaf+0 ({binary})",
        f"\t{addr['middle'] + moff:x} middle+{moff} ({binary})",
        "]: 3",
    ]
    assert lines[9:12] == ["@v[1]: ", "        leaf+0", f"        middle+{moff}"]


def test_ustack_resolves_libc_locals_from_the_debug_file(binary: Path) -> None:
    # main's caller is a local function of libc: only libc6-dbg's .symtab names it.
    from pybpf.elf.reader import ElfFile
    from pybpf.elf.symbolize import debug_file

    with ElfFile("/usr/lib/x86_64-linux-gnu/libc.so.6") as libc:
        if debug_file(libc.build_id) is None:
            pytest.skip("libc6-dbg is not installed")
    out = ours("-e", f"uprobe:{binary}:leaf {{ @[ustack] = count(); }}", "-c", str(binary))
    assert "\n        __libc_start_call_main+" in out


TWO_CALLERS = r"""
#include <unistd.h>
volatile long counter = 1;
__attribute__((noinline)) void leaf(int i) { counter += i; }
__attribute__((noinline)) void left(int i) { leaf(i); }
__attribute__((noinline)) void right(int i) { leaf(i); }
int main(void) { for (int i = 0; i < 3; i++) { left(i); right(i); right(i); } usleep(200000); return 0; }
"""


def test_limited_stacks_merge_keys_that_differ_deeper(tmp_path: Path) -> None:
    # leaf() has two callers: its 1-frame stacks are one key, its 2-frame stacks two.
    (tmp_path / "t.c").write_text(TWO_CALLERS)
    exe = tmp_path / "t"
    cmd = [
        "gcc",
        "-O0",
        "-fno-omit-frame-pointer",
        "-no-pie",
        "-o",
        str(exe),
        str(tmp_path / "t.c"),
    ]
    subprocess.run(cmd, check=True)
    script = f"uprobe:{exe}:leaf {{ @a[ustack(1)] = count(); @b[ustack(2)] = count(); }}"
    out = ours("-e", script, "-c", str(exe))
    assert "@a[\n        leaf+0\n]: 9\n" in out
    assert out.count("@a[") == 1
    b = out.split("@b[", 1)[1]
    assert b.startswith("\n        leaf+0\n        left+") and "]: 3\n@b[\n        leaf+0\n" in b
    assert "        right+" in b and b.rstrip().endswith("]: 6")
