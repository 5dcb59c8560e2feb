"""``pybpf btf`` through the real entry point: output, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "testdata" / "btf"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpf", "btf", *args], capture_output=True, text=True
    )


def test_dump_task_struct() -> None:
    p = run("dump", "struct task_struct")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "struct task_struct {" and lines[-1] == "};"
    assert any(ln.lstrip().startswith("pid_t ") and " pid;" in ln for ln in lines)
    assert "/* size: " in p.stdout


def test_dump_several_kinds() -> None:
    p = run("dump", "enum", "pid_type", "typedef pid_t", "func do_sys_open")
    assert p.returncode == 0, p.stderr
    assert "\tPIDTYPE_PID = 0," in p.stdout
    assert "typedef __kernel_pid_t pid_t;" in p.stdout
    assert "int do_sys_open(int dfd, const char *filename, int flags, umode_t mode);" in p.stdout


def test_dump_file_and_raw() -> None:
    p = run("dump", "--file", str(DATA / "synthetic.btf"), "--format", "raw", "mode")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0].endswith("ENUM 'mode' encoding=SIGNED size=4 vlen=3")


def test_list() -> None:
    p = run("list", "--kind", "struct", "task_st*")
    assert p.returncode == 0
    assert any(ln.endswith("STRUCT task_struct") for ln in p.stdout.splitlines())
    assert all(" STRUCT task_st" in ln for ln in p.stdout.splitlines())


@pytest.mark.parametrize(
    "args,message",
    [
        (["dump", "struct no_such_struct_xyz"], "no BTF type struct 'no_such_struct_xyz'"),
        (["dump", "struct"], "'struct' needs a type name"),
        (["dump", "struct a-b"], "bad type name 'a-b'"),
        (["dump", "#99999999"], "out of range"),
        (["dump", "--file", "/etc/passwd", "x"], "/etc/passwd: not a BTF or ELF file"),
        (["dump", "--file", "/bin/true", "x"], "/bin/true: no .BTF section"),
        (["dump", "--file", "/no/such/file", "x"], "/no/such/file: No such file or directory"),
    ],
)
def test_errors_are_one_line(args: list[str], message: str) -> None:
    p = run(*args)
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("pybpf: ERROR: "), p.stderr
    assert message in p.stderr
    assert "Traceback" not in p.stderr


def test_corrupt_btf_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.btf"
    bad.write_bytes((DATA / "synthetic.btf").read_bytes()[:60])
    p = run("dump", "--file", str(bad), "demo")
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert (
        p.stderr
        == f"pybpf: ERROR: {bad}: corrupt BTF: header lengths run past the end of the data\n"
    )


def test_small_kernel_structs_golden() -> None:
    """Long-stable kernel types (checked by eye against bpftool's C dump when written)."""
    args = (DATA / "kernel_small.args").read_text().splitlines()
    p = run("dump", *args)
    assert p.returncode == 0, p.stderr
    assert p.stdout == (DATA / "kernel_small.c.golden").read_text()
