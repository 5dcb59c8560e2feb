"""Program code as the kernel holds it: translated bytecode and JITed machine code."""

from __future__ import annotations

from pybpf.asm.fmt import CallResolver, format_xlated, kallsyms_resolver
from pybpf.asm.insn import decode
from pybpf.bpf import info as bi
from pybpf.bpf.fd import Fd
from pybpf.errors import UsageError
from pybpf.inspect.records import open_id


def prog_fd(prog_id: int) -> Fd:
    """An owned fd for program ``prog_id`` (a one-line error when it is gone)."""
    fd = open_id(bi.ObjKind.PROG, prog_id)
    if fd is None:
        raise UsageError(f"no program with id {prog_id}")
    return fd


def call_resolver() -> CallResolver | None:
    """Names for translated helper calls from /proc/kallsyms, as bpftool gives them."""
    try:
        with open("/proc/kallsyms") as f:
            return kallsyms_resolver(f.read())
    except OSError:
        return None


def xlated(prog_id: int) -> str:
    """``bpftool prog dump xlated id N``: the verifier's rewritten program, numbered by slot."""
    with prog_fd(prog_id) as fd:
        info = bi.prog_info(fd.fd, xlated=True)
    if not info.xlated:
        raise UsageError(
            f"program {prog_id} has no translated code visible (kernel.kptr_restrict?)"
        )
    return format_xlated(decode(info.xlated), call_resolver())


def jited_bytes(prog_id: int) -> tuple[bi.ProgInfo, bytes]:
    """The program's info and its JITed x86-64 bytes."""
    with prog_fd(prog_id) as fd:
        info = bi.prog_info(fd.fd, jited=True)
    if not info.jited:
        raise UsageError(f"program {prog_id} is not JITed (or its code is hidden)")
    return info, info.jited


def jited(prog_id: int) -> str:
    """The JITed code disassembled with capstone (AT&T syntax, like bpftool with libbfd).

    capstone is an optional extra (``pip install 'pybpf[jit]'``); without it the bytes are
    printed as a hex dump with a hint.
    """
    info, code = jited_bytes(prog_id)
    head = f"bpf_prog_{info.tag}_{info.name}:\n" if info.name else f"bpf_prog_{info.tag}:\n"
    try:
        import capstone
    except ImportError:
        rows = [
            f"{off:4x}:\t" + " ".join(f"{b:02x}" for b in code[off : off + 16])
            for off in range(0, len(code), 16)
        ]
        hint = "HINT: install capstone (pip install 'pybpf[jit]') to disassemble JITed code\n"
        return head + "\n".join(rows) + "\n" + hint
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.syntax = capstone.CS_OPT_SYNTAX_ATT
    lines = [head]
    for ins in md.disasm_lite(code, 0):
        addr, _size, mnem, ops = ins
        lines.append(f"{addr:4x}:\t{mnem}\t{ops}".rstrip() + "\n")
    return "".join(lines)
