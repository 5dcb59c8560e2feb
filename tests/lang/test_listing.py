"""``-l``/``-lv`` probe listing (against the installed bpftrace where it exists)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from passes.fakes import FakeCatalog
from pybpf.lang.listing import list_probes

CAT = FakeCatalog(with_btf=False)


def test_tracepoint_wildcard_fake() -> None:
    assert list_probes("tracepoint:syscalls:sys_enter_*", catalog=CAT) == [
        "tracepoint:syscalls:sys_enter_openat",
        "tracepoint:syscalls:sys_enter_read",
    ]
    assert list_probes("t:sched:*", catalog=CAT) == [
        "tracepoint:sched:sched_process_exec",
        "tracepoint:sched:sched_switch",
    ]


def test_verbose_fields_fake() -> None:
    assert list_probes("tracepoint:sched:sched_process_exec", True, catalog=CAT) == [
        "tracepoint:sched:sched_process_exec",
        "    __data_loc char[] filename",
        "    pid_t pid",
        "    pid_t old_pid",
    ]
    assert list_probes("tracepoint:sched:sched_switch", True, catalog=CAT)[1:3] == [
        "    char prev_comm[16]",
        "    pid_t prev_pid",
    ]


def test_exact_name_and_no_match() -> None:
    assert list_probes("tracepoint:syscalls:sys_enter_read", catalog=CAT) == [
        "tracepoint:syscalls:sys_enter_read"
    ]
    assert list_probes("tracepoint:nope:*", catalog=CAT) == []


def test_kprobes_only_when_kernel_has_them() -> None:
    assert list_probes("kprobe:vfs_*", catalog=CAT) == []

    class WithKprobes(FakeCatalog):
        def has_kprobes(self) -> bool:
            return True

    assert list_probes("kprobe:vfs_re*", catalog=WithKprobes()) == [
        "kprobe:vfs_read",
        "kprobe:vfs_readv",
    ]


def test_uprobe_and_usdt_fake() -> None:
    assert list_probes("uprobe:/bin/bash:r*", catalog=CAT) == [
        "uprobe:/bin/bash:readline",
        "uprobe:/bin/bash:rl_getc",
    ]
    assert list_probes("usdt:/x:python:*entry", catalog=CAT) == ["usdt:/x:python:function__entry"]


def test_software_events_and_bare_pattern() -> None:
    assert "software:cpu-clock:" in list_probes("software:*", catalog=CAT)
    assert list_probes("s:cs", catalog=CAT) == ["software:context-switches:"]
    assert list_probes("*sched_sw*", catalog=CAT) == ["tracepoint:sched:sched_switch"]


_BPFTRACE = shutil.which("bpftrace")


@pytest.mark.skipif(_BPFTRACE is None, reason="bpftrace not installed")
@pytest.mark.parametrize(
    "pattern",
    ["tracepoint:syscalls:sys_enter_open*", "tracepoint:sched:*", "tracepoint:*"],
)
def test_parity_with_bpftrace(pattern: str) -> None:
    assert _BPFTRACE is not None
    out = subprocess.run(
        [_BPFTRACE, "-l", pattern], capture_output=True, text=True, timeout=60, check=False
    ).stdout.splitlines()
    assert out, "bpftrace listed nothing"
    assert list_probes(pattern) == out


@pytest.mark.skipif(_BPFTRACE is None, reason="bpftrace not installed")
def test_verbose_parity_with_bpftrace() -> None:
    assert _BPFTRACE is not None
    for pattern in ("tracepoint:syscalls:sys_enter_openat", "tracepoint:sched:sched_switch"):
        out = subprocess.run(
            [_BPFTRACE, "-lv", pattern], capture_output=True, text=True, timeout=60, check=False
        ).stdout.splitlines()
        assert list_probes(pattern, verbose=True) == out


def test_script_probes_lists_what_a_script_attaches() -> None:
    from pybpf.lang.listing import script_probes

    names, res = script_probes(
        "t:syscalls:sys_enter_* , BEGIN { }\ntracepoint:sched:sched_switch /pid/ { }\nBEGIN { }",
        catalog=CAT,
    )
    assert not res.diags.has_errors()
    assert names == [
        "tracepoint:syscalls:sys_enter_openat",
        "tracepoint:syscalls:sys_enter_read",
        "BEGIN",
        "tracepoint:sched:sched_switch",
    ]


def test_script_probes_reports_errors_instead_of_listing() -> None:
    from pybpf.lang.listing import script_probes

    names, res = script_probes("tracepoint:nope:* { }", catalog=CAT)
    assert names == []
    assert [d.message for d in res.diags] == ["No probes matched for tracepoint:nope:*"]
