"""Syscall wildcards: which ones become one raw tracepoint program."""

from __future__ import annotations

import os

import pytest

from pybpf.codegen.syscalls import THRESHOLD, enter_filter, kind_filter, split, syscall_numbers


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


def test_exit_matches_map_numbers_to_names() -> None:
    names = ("read", "write", "open", "close", "getpid")
    f = kind_filter([("syscalls", f"sys_exit_{n}") for n in names], "sys_exit_")
    if not syscall_numbers():
        assert f is None
        return
    assert f is not None
    assert f[0] == "tracepoint:syscalls:sys_exit_read"
    assert kind_filter([("syscalls", f"sys_enter_{n}") for n in names], "sys_exit_") is None


def test_split_groups_enter_exit_and_others() -> None:
    g = split([("syscalls", "sys_enter_read"), ("sched", "sys_exit_x"),
               ("syscalls", "sys_exit_read"), ("syscalls", "sys_exit_write")])  # fmt: skip
    assert g["sys_enter_"] == [("syscalls", "sys_enter_read")]
    assert g["sys_exit_"] == [("syscalls", "sys_exit_read"), ("syscalls", "sys_exit_write")]
    assert g[""] == [("sched", "sys_exit_x")]


def _compile(text: str) -> object:
    from pybpf.cli.pybpftrace import compile_script

    return compile_script(text, "t.bt", [], False)


needs_tracefs = pytest.mark.skipif(
    not syscall_numbers() or not os.path.isdir("/sys/kernel/tracing/events/syscalls"),
    reason="needs tracefs syscall events and syscall numbers",
)


@needs_tracefs
def test_mixed_wildcard_compiles_to_two_raw_programs() -> None:
    s = _compile("tracepoint:syscalls:sys_*_getp* { @[probe] = count(); }")
    progs = s.progs  # type: ignore[attr-defined]
    assert [(p.prog_type, p.attach) for p in progs] == [
        ("raw_tracepoint", [{"name": "sys_enter"}]),
        ("raw_tracepoint", [{"name": "sys_exit"}]),
    ]
    names = s.probe_names  # type: ignore[attr-defined]
    assert "tracepoint:syscalls:sys_exit_getpid" in names
    assert "tracepoint:syscalls:sys_enter_getppid" in names


@needs_tracefs
def test_enter_wildcard_reading_args_stays_per_tracepoint() -> None:
    s = _compile("tracepoint:syscalls:sys_enter_getp* { @[args.__syscall_nr] = count(); }")
    progs = s.progs  # type: ignore[attr-defined]
    assert {p.prog_type for p in progs} == {"tracepoint"}
    assert len(progs) > THRESHOLD


@needs_tracefs
def test_exit_wildcard_reading_args_is_one_raw_program() -> None:
    s = _compile("tracepoint:syscalls:sys_exit_* { @[args.ret] = count(); }")
    progs = s.progs  # type: ignore[attr-defined]
    assert len(progs) == 1 and progs[0].prog_type == "raw_tracepoint"
    assert len(progs[0].syscall_filter) > 300
