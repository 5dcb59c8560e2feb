"""``pybpf asm`` and ``pybpf dis`` end to end, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pybpf.asm import assemble, decode, encode

PROG = """\
; count calls
r1 = map[id:4]
r2 = r10
r2 += -8
call bpf_map_lookup_elem#1
if r0 == 0x0 goto pc+1
r0 = 1 ll
exit
"""


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "pybpf", *args], input=stdin, capture_output=True, timeout=60
    )


def test_asm_to_file_then_dis_all_styles(tmp_path: Path) -> None:
    src = tmp_path / "p.s"
    src.write_text(PROG)
    out = tmp_path / "p.bin"
    p = run("asm", str(src), "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == encode(assemble(PROG))
    assert len(out.read_bytes()) == 8 * 9

    xl = run("dis", str(out), "--style", "xlated")
    assert xl.returncode == 0
    assert xl.stdout.decode().splitlines() == [
        "   0: (18) r1 = map[id:4]",
        "   2: (bf) r2 = r10",
        "   3: (07) r2 += -8",
        "   4: (85) call bpf_map_lookup_elem#1",
        "   5: (15) if r0 == 0x0 goto pc+1",
        "   6: (18) r0 = 0x1",
        "   8: (95) exit",
    ]
    for style in ("rfmt", "c", "xlated"):
        text = run("dis", str(out), "--style", style).stdout.decode()
        # Every style re-assembles to the same bytes (xlated via its (18) prefixes).
        assert encode(assemble(text)) == out.read_bytes(), style


def test_asm_stdin_hex_and_dis_hex_input() -> None:
    p = run("asm", "-", "--hex", stdin=b"mov %r0, 1\nexit\n")
    assert p.returncode == 0
    assert p.stdout.decode() == "0x00000001000000b7\n0x0000000000000095\n"
    d = run("dis", "-", "--hex", "--style", "rfmt", stdin=p.stdout)
    assert d.stdout.decode() == "mov %r0, 1\nexit\n"
    d2 = run("dis", "-", "--hex", stdin=b"b7 00 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n")
    assert d2.stdout.decode() == "r0 = 1\nexit\n"


def test_raw_bytes_to_stdout() -> None:
    p = run("asm", "-", "--dialect", "c", stdin=b"r0 = 2\nexit\n")
    assert p.returncode == 0
    assert decode(p.stdout) == assemble("r0 = 2\nexit\n")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("asm", "-"), b"mov %r0, 1\nmovv %r1, 2\n", "pybpf: ERROR: <stdin>:2:1: unknown mnemonic 'movv'"),
        (("asm", "/nonexistent.s"), b"", "pybpf: ERROR: cannot read '/nonexistent.s': No such file or directory"),
        (("asm", "-", "--dialect", "c"), b"r0 = ", "pybpf: ERROR: <stdin>:1:5: expected a value after '='"),
        (("dis", "-"), b"abc", "pybpf: ERROR: <stdin>: program length 3 is not a multiple of 8"),
        (("dis", "-", "--hex"), b"zz", "pybpf: ERROR: <stdin>: line 1: not a hex byte or 64-bit word: 'zz'"),
        (("dis", "-"), bytes.fromhex("1800000000000000"), "pybpf: ERROR: <stdin>: lddw at slot 0 is missing its second half"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(args: tuple[str, ...], stdin: bytes, message: str) -> None:
    p = run(*args, stdin=stdin)
    assert p.returncode == 1
    assert p.stderr.decode().splitlines() == [message]
    assert b"Traceback" not in p.stderr


def test_named_file_in_error(tmp_path: Path) -> None:
    src = tmp_path / "file.s"
    src.write_text("mov %r0, 1\nexit\nadd %r1 %r2\n")
    p = run("asm", str(src), "--hex")
    assert p.stderr.decode().strip() == f"pybpf: ERROR: {src}:3:9: expected ',', found '%r2'"


def test_dis_labels() -> None:
    p = run("asm", "-", "--hex", stdin=b"jne %r0, 0, out\nmov %r0, 1\nout:\nexit\n")
    d = run("dis", "-", "--hex", "--labels", "--style", "rfmt", stdin=p.stdout)
    assert d.stdout.decode() == "    jne %r0, 0, L2\n    mov %r0, 1\nL2:\n    exit\n"
    bad = run("dis", "-", "--hex", "--labels", "--style", "xlated", stdin=p.stdout)
    assert bad.returncode == 1
    assert b"--labels does not apply to --style xlated" in bad.stderr


def test_bad_option_is_usage_error() -> None:
    p = run("dis", "-", "--style", "att")
    assert p.returncode == 2
    assert b"invalid choice: 'att'" in p.stderr


def test_invalid_encoding_is_shown_not_fatal() -> None:
    p = run("dis", "-", "--hex", "--style", "c", stdin=b"07 00 01 00 01 00 00 00\n")
    assert p.returncode == 0
    assert p.stdout.decode() == ".raw 0x0000000100010007\n"
