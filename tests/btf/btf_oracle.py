"""bpftool as the oracle for BTF tests: its raw and C dumps of the kernel's BTF."""

from __future__ import annotations

import functools
import re
import subprocess

VMLINUX = "/sys/kernel/btf/vmlinux"


@functools.cache
def bpftool_dump(fmt: str, path: str = VMLINUX) -> str:
    """``bpftool btf dump file PATH format FMT`` (cached per process)."""
    return subprocess.run(
        ["bpftool", "btf", "dump", "file", path, "format", fmt],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def raw_block(header_re: str) -> list[str]:
    """The raw lines of the first type whose header line matches ``header_re``."""
    lines = bpftool_dump("raw").splitlines()
    for i, ln in enumerate(lines):
        if re.match(header_re, ln):
            out = [ln]
            for more in lines[i + 1 :]:
                if not more.startswith("\t"):
                    break
                out.append(more)
            return out
    raise AssertionError(f"bpftool has no type matching {header_re}")


def c_struct_decls(name: str) -> list[str]:
    """Member declarations of ``struct NAME`` in bpftool's C dump, normalised for comparison."""
    text = bpftool_dump("c")
    m = re.search(r"^struct " + re.escape(name) + r" \{\n(.*?)^\};", text, re.M | re.S)
    assert m is not None, name
    out = []
    for ln in m.group(1).splitlines():
        ln = re.sub(r"\s*:\s*(\d+);", r":\1;", ln.strip())
        if re.fullmatch(r"(long|int|short|char):\d+;", ln):
            continue  # bpftool's explicit padding fields
        out.append(re.sub(r" __attribute__\(\(.*?\)\)\)?", "", ln))
    return out
