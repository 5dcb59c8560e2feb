"""Bytes of string literals reach the output unchanged: ``"\\xff"`` is the byte ff (as
bpftrace 0.17 prints it here), ``"\\xc3\\xa9"`` the two bytes of ``é``, in printf
formats, ``%s`` arguments, variables and map keys; ``-f json`` escapes bytes >= 0x80 as
bpftrace does.  The table cannot hold these (its ``.out`` files are UTF-8 text), so the
CLI's stdout is compared as bytes; in the kernel and in the VM."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = (
    'BEGIN { $s = "\\xff\\x80"; printf("%s|%s|\\xfe\\n", $s, "\\xc3\\xa9"); '
    '@["k\\xfd"] = 1; exit(); }'
)
TEXT = b"\xff\x80|\xc3\xa9|\xfe\n\n\n@[k\xfd]: 1\n"


def _run(*flags: str) -> bytes:
    p = subprocess.run(
        [sys.executable, "-m", "pybpf.cli.pybpftrace", *flags, "-e", SCRIPT],
        capture_output=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


@pytest.mark.kernel
def test_kernel_text_is_the_literal_bytes() -> None:
    assert _run() == TEXT


def test_vm_text_is_the_literal_bytes() -> None:
    assert _run("--vm") == TEXT


@pytest.mark.kernel
def test_json_escapes_high_bytes_like_bpftrace() -> None:
    lines = _run("-f", "json").decode().splitlines()
    assert lines[0] == (
        '{"type": "printf", "data": "\\uffffffff\\uffffff80|\\uffffffc3\\uffffffa9|\\ufffffffe\\n"}'
    )
    assert lines[-1] == '{"type": "map", "data": {"@": {"k\\ufffffffd": 1}}}'


def test_output_file_gets_the_bytes(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path)) / "out.txt"
    _run("--vm", "-o", str(out))
    assert out.read_bytes() == TEXT
