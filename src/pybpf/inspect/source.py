"""``pybpf prog dump xlated ID --source``: the script line above the code it became.

The line table travels with the program itself, in the kernel: pybpftrace loads every
program with BTF ``line_info`` (one record per instruction that starts a new source
position; the BTF's string section holds the file name and the text of each line). Any
inspector can read it back through ``bpf_prog_info`` -- bpftool shows the same lines -- and
nothing is left on disk when the tracer exits.
"""

from __future__ import annotations

import struct

from pybpf.asm.disasm import disassemble
from pybpf.asm.fmt import format_xlated_line
from pybpf.asm.insn import decode
from pybpf.bpf import info as bi
from pybpf.errors import UsageError
from pybpf.inspect.dump import call_resolver, prog_fd


def btf_strings(raw: bytes) -> bytes:
    """The string section of raw BTF bytes."""
    if len(raw) < 24:
        raise UsageError("program BTF is truncated")
    magic, _version, _flags, hdr_len = struct.unpack_from("<HBBI", raw, 0)
    if magic not in (0xEB9F, 0x9FEB):
        raise UsageError("program BTF has a bad magic number")
    str_off, str_len = struct.unpack_from("<II", raw, 16)
    start = hdr_len + str_off
    return raw[start : start + str_len]


def _string(strings: bytes, off: int) -> str:
    end = strings.find(b"\0", off)
    return strings[off : end if end >= 0 else len(strings)].decode(errors="replace")


def xlated_with_source(prog_id: int) -> str:
    """The xlated listing with ``; line text [file:line:col]`` before each new position."""
    with prog_fd(prog_id) as fd:
        info = bi.prog_info(fd.fd, xlated=True)
        btf_id, lines = bi.prog_line_info(fd.fd)
    if not lines or not btf_id:
        raise UsageError(
            f"program {prog_id} was loaded without line info (only programs loaded by "
            "pybpftrace, or with BTF line_info, can show their source)"
        )
    with bi.fd_by_id(bi.ObjKind.BTF, btf_id) as bfd:
        raw = bi.btf_info(bfd.fd, data=True).data or b""
    strings = btf_strings(raw)
    at: dict[int, str] = {}
    for insn_off, file_off, line_off, line_col in lines:
        text = _string(strings, line_off).strip()
        where = f"{_string(strings, file_off)}:{line_col >> 10}:{line_col & 0x3FF}"
        at[insn_off] = f"; {text} [{where}]"
    resolve = call_resolver()
    out = []
    for rec in disassemble(decode(info.xlated or b"")):
        if rec.index in at:
            out.append(at[rec.index])
        out.append(format_xlated_line(rec, resolve))
    return "\n".join(out) + "\n"
