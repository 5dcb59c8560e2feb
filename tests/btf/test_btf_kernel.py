"""The kernel accepts what the BTF encoder writes: BPF_BTF_LOAD, then func/line info."""

from __future__ import annotations

import re
import subprocess

import pytest

from pybpf import btf
from pybpf.asm.assembler import assemble
from pybpf.btf.builder import BtfBuilder, FuncInfo, LineInfo, encode_func_info, encode_line_info

pytestmark = pytest.mark.kernel


def test_kernel_accepts_reencoded_vmlinux() -> None:
    """All 126k kernel types, written by the encoder, pass the kernel's BTF checker."""
    from pybpf.bpf.btfload import load_btf
    from pybpf.bpf.info import btf_info

    b = BtfBuilder()
    b.extend(btf.vmlinux())
    blob = b.encode()
    with load_btf(blob) as fd:
        info = btf_info(fd.fd, data=True)
        assert info.data == blob


def test_program_with_func_and_line_info() -> None:
    from pybpf.bpf import Program, ProgSpec, ProgType
    from pybpf.bpf.btfload import load_btf

    b = BtfBuilder()
    i32 = b.add_int("int", 4, signed=True)
    ctx = b.add_ptr(0)
    proto = b.add_func_proto(i32, [("ctx", ctx)])
    fn = b.add_func("answer", proto, btf.Linkage.GLOBAL)
    insns = assemble("r0 = 42\nexit")
    lines = [
        LineInfo.make(b, 0, "demo.bt", "BEGIN { return 42; }", 7, 9),
        LineInfo.make(b, 1, "demo.bt", "}", 8, 1),
    ]
    with load_btf(b.encode()) as bfd:
        spec = ProgSpec(
            ProgType.SOCKET_FILTER,
            tuple(insns),
            name="answer",
            prog_btf_fd=bfd.fd,
            func_info=encode_func_info([FuncInfo(0, fn)]),
            line_info=encode_line_info(lines),
        )
        with Program.load(spec) as prog:
            assert prog.info().btf_id != 0
            assert prog.test_run(b"\0" * 64).retval == 42
            # bpftool reads our func_info and line_info back out of the kernel.
            out = subprocess.run(
                ["bpftool", "prog", "dump", "xlated", "id", str(prog.id), "linum"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
    assert re.search(r"^int answer\(void \* ctx\):", out, re.M), out
    assert "; BEGIN { return 42; } [file:demo.bt line_num:7 line_col:9]" in out, out
    assert "; } [file:demo.bt line_num:8 line_col:1]" in out, out
