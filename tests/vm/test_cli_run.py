"""``pybpf run`` and ``pybpf verify`` from the command line (in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf.asm import assemble, encode
from pybpf.cli.pybpf import main


def _write(tmp_path: Path, name: str, data: str | bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


@pytest.mark.parametrize("engine", ["interp", "compiled"])
def test_run_assembly_with_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    f = _write(tmp_path, "p.s", "ldxh %r0, [%r1+1]\nadd %r0, %r2\nexit\n")
    assert main(["run", f, "--mem", "00 34 12", "--engine", engine]) == 0
    assert capsys.readouterr().out == f"r0 = {0x1234 + 3} ({0x1234 + 3:#x})\n"


def test_run_raw_bytecode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path, "p.bin", encode(assemble("mov %r0, -1\nexit", "rfmt")))
    assert main(["run", f]) == 0
    assert "0xffffffffffffffff" in capsys.readouterr().out


def test_run_fault_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path, "p.s", "mov %r0, 0\nldxb %r0, [%r0+0]\nexit\n")
    assert main(["run", f]) == 1
    err = capsys.readouterr().err
    assert err == "pybpf: ERROR: insn 1: invalid memory access at 0x0 size 1\n"


def test_run_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "missing.s")]) == 1
    assert "cannot read" in capsys.readouterr().err
    f = _write(tmp_path, "p.s", "mov %r0, 0\nexit\n")
    assert main(["run", f, "--mem", "zz"]) == 1
    assert "invalid hex memory" in capsys.readouterr().err
    assert main(["run", f + ":prog"]) == 1
    assert "not an ELF object" in capsys.readouterr().err
    assert main(["run", _write(tmp_path, "odd.bin", b"\x95\x00\xff")]) == 1
    assert "not a multiple of 8" in capsys.readouterr().err


def test_verify_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, "good.s", "mov %r0, 0\nexit\n")
    assert main(["verify", good]) == 0
    assert capsys.readouterr().out.startswith("OK: processed 2 insns")
    bad = _write(tmp_path, "bad.s", "mov %r0, 0\nldxdw %r0, [%r0+0]\nexit\n")
    assert main(["verify", bad, "--type", "xdp"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "1: R0 invalid mem access 'scalar' (line 2)"
    assert err[-1] == "pybpf: ERROR: verification failed"


def test_verify_with_declared_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_fd(7)\ncall 1\nldxb %r0, [%r0+0]\nexit\n"
    f = _write(tmp_path, "m.s", text)
    assert main(["verify", f, "--map", "7:1:4:8:16"]) == 1
    assert "map_value_or_null" in capsys.readouterr().err
    assert main(["verify", f, "--map", "7:1:4"]) == 1
    assert "expected FD:TYPE:KEY:VALUE:MAX" in capsys.readouterr().err


def _elf_with_section(name: str, data: bytes) -> bytes:
    """A minimal ELF64 relocatable object: null, ``name`` and .shstrtab sections."""
    import struct

    shstr = b"\0" + name.encode() + b"\0.shstrtab\0"
    body_off = 64
    shstr_off = body_off + len(data)
    sh_off = (shstr_off + len(shstr) + 7) // 8 * 8
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 1, 247, 1, 0, 0, sh_off, 0, 64, 0, 0, 64, 3, 2)
    null = bytes(64)
    sec = struct.pack("<IIQQQQIIQQ", 1, 1, 6, 0, body_off, len(data), 0, 0, 8, 0)
    strtab = struct.pack("<IIQQQQIIQQ", 2 + len(name), 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    out = ehdr + data + shstr
    out += bytes(sh_off - len(out))
    return out + null + sec + strtab


def test_run_elf_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = encode(assemble("mov %r0, 33\nexit", "rfmt"))
    f = _write(tmp_path, "prog.o", _elf_with_section("socket", code))
    assert main(["run", f + ":socket"]) == 0
    assert capsys.readouterr().out == "r0 = 33 (0x21)\n"
    assert main(["verify", f + ":socket"]) == 0
    capsys.readouterr()
    assert main(["run", f + ":nope"]) == 1
    assert "no section 'nope'" in capsys.readouterr().err
    assert main(["run", f]) == 1
    assert "name a section" in capsys.readouterr().err
