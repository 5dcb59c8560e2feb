"""Syscall wildcards: which ones become one raw tracepoint program."""

from __future__ import annotations

from pybpf.codegen.syscalls import THRESHOLD, enter_filter, syscall_numbers


def test_numbers_known_for_common_syscalls() -> None:
    nrs = syscall_numbers()
    if not nrs:
        return  # no uapi header: the wildcard falls back to perf events (checked below)
    assert nrs["read"] == 0
    assert nrs["getpid"] == 39
    assert nrs["newfstat"] == nrs["fstat"]


def test_few_matches_stay_tracepoints() -> None:
    few = [("syscalls", f"sys_enter_{n}") for n in ("read", "write")]
    assert len(few) <= THRESHOLD
    assert enter_filter(few) is None


def test_exit_tracepoints_are_not_filtered() -> None:
    many = [("syscalls", f"sys_exit_{n}") for n in ("read", "write", "open", "close", "stat")]
    assert enter_filter(many) is None


def test_many_enter_matches_map_numbers_to_names() -> None:
    names = ("read", "write", "open", "close", "getpid")
    f = enter_filter([("syscalls", f"sys_enter_{n}") for n in names])
    if not syscall_numbers():
        assert f is None
        return
    assert f is not None
    assert f[39] == "tracepoint:syscalls:sys_enter_getpid"
    assert len(f) == len(names)


def test_unknown_syscall_falls_back() -> None:
    names = ["read", "write", "open", "close", "no_such_call"]
    assert enter_filter([("syscalls", f"sys_enter_{n}") for n in names]) is None
