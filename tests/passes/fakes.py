"""A fake system catalog for front-end tests (tracepoints, kernel functions, ELF symbols).

BTF comes from the running kernel when present (tests needing it skip without it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.passes.context import SystemCatalog
from pybpf.tracefs import TracepointFormat, parse_format

if TYPE_CHECKING:
    from pybpf.btf import Spec

_COMMON = """\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
"""

FORMATS = {
    ("syscalls", "sys_enter_read"): _COMMON
    + """\
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:char * buf;\toffset:24;\tsize:8;\tsigned:0;
\tfield:size_t count;\toffset:32;\tsize:8;\tsigned:0;
""",
    ("syscalls", "sys_exit_read"): _COMMON
    + """\
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;
""",
    ("syscalls", "sys_enter_openat"): _COMMON
    + """\
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;
\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;
""",
    ("sched", "sched_switch"): _COMMON
    + """\
\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;
""",
    ("sched", "sched_process_exec"): _COMMON
    + """\
\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;
""",
}


class FakeCatalog(SystemCatalog):
    """Fixed tracepoints/functions/symbols; the real BTF (if any)."""

    def __init__(self, with_btf: bool = True) -> None:
        super().__init__()
        self.with_btf = with_btf

    def tracepoints(self) -> list[tuple[str, str]]:
        return sorted(FORMATS)

    def tracepoint_format(self, category: str, name: str) -> TracepointFormat | None:
        text = FORMATS.get((category, name))
        return None if text is None else parse_format(text, category, name)

    def btf(self) -> Spec | None:
        return super().btf() if self.with_btf else None

    def kernel_functions(self) -> list[str]:
        return ["do_nanosleep", "vfs_open", "vfs_read", "vfs_readv", "vfs_write"]

    def has_kprobes(self) -> bool:
        return False

    def elf_functions(self, path: str) -> list[str]:
        return ["main", "readline", "rl_getc", "xmalloc"] if path == "/bin/bash" else []

    def usdt_probes(self, path: str) -> list[tuple[str, str]]:
        return [("python", "function__entry"), ("python", "function__return")]

    def resolve_binary(self, name: str) -> str:
        return {"libc": "/lib/x86_64-linux-gnu/libc.so.6"}.get(name, name)
