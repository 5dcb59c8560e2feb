"""Parsing the kernel's BTF, with bpftool as the oracle."""

from __future__ import annotations

import re

import pytest
from btf_oracle import VMLINUX, bpftool_dump, raw_block

from pybpf import btf
from pybpf.btf.raw import dump_raw


@pytest.fixture(scope="module")
def spec() -> btf.Spec:
    return btf.vmlinux()


def test_vmlinux_is_cached_per_process(spec: btf.Spec) -> None:
    assert btf.vmlinux() is spec


def test_whole_kernel_matches_bpftool_raw(spec: btf.Spec) -> None:
    """Every type, every member, every enumerator: line-for-line what bpftool prints."""
    ours = "\n".join(dump_raw(spec)) + "\n"
    theirs = bpftool_dump("raw")
    if ours != theirs:
        for i, (a, b) in enumerate(zip(ours.splitlines(), theirs.splitlines(), strict=False)):
            assert a == b, f"line {i + 1}"
    assert ours == theirs
    assert len(spec) == theirs.count("\n[") + 1 + 1  # + the first line, + void


def test_task_struct_pid(spec: btf.Spec) -> None:
    tid = spec.find("task_struct", btf.Kind.STRUCT)
    block = raw_block(rf"\[{tid}\] STRUCT 'task_struct' ")
    m = next(re.search(r"type_id=(\d+) bits_offset=(\d+)", ln) for ln in block if "\t'pid' " in ln)
    assert m is not None
    member, bit = spec.member(tid, "pid")
    assert member.name == "pid" and bit == int(m.group(2)) and member.type == int(m.group(1))
    assert member.type == spec.find("pid_t", btf.Kind.TYPEDEF)
    assert spec.name(member.type) == "pid_t"
    assert spec.size_of(member.type) == 4
    resolved = spec.type(spec.resolve(member.type))
    assert isinstance(resolved, btf.Int) and resolved.name == "int" and resolved.signed
    ts = spec.type(tid)
    assert isinstance(ts, btf.Composite) and ts.size == int(
        re.search(r"size=(\d+)", block[0]).group(1)
    )  # type: ignore[union-attr]


def test_bitfields(spec: btf.Spec) -> None:
    tid = spec.find("task_struct", btf.Kind.STRUCT)
    block = raw_block(rf"\[{tid}\] STRUCT")
    line = next(ln for ln in block if "'sched_reset_on_fork'" in ln)
    m = re.search(r"bits_offset=(\d+) bitfield_size=(\d+)", line)
    assert m is not None
    member, bit = spec.member(tid, "sched_reset_on_fork")
    assert (bit, member.bitfield_size) == (
        int(m.group(1)),
        int(m.group(2)),
    ) and member.bitfield_size == 1


def test_anonymous_members(spec: btf.Spec) -> None:
    """sk_buff.dev sits inside two anonymous members; its offset is the sum of all three."""
    tid = spec.find("sk_buff", btf.Kind.STRUCT)
    member, bit = spec.member(tid, "dev")
    assert member.name == "dev" and bit == 128
    assert spec.name(spec.type(member.type).type) == "net_device"  # type: ignore[union-attr]
    with pytest.raises(btf.BtfNotFoundError, match="no member 'nope'"):
        spec.member(tid, "nope")


def test_enum_values(spec: btf.Spec) -> None:
    tid = spec.find("pid_type", btf.Kind.ENUM)
    block = raw_block(rf"\[{tid}\] ENUM 'pid_type'")
    expect = [
        (m[1], int(m[2])) for m in (re.search(r"'(\w+)' val=(-?\d+)", ln) for ln in block[1:]) if m
    ]
    e = spec.type(tid)
    assert isinstance(e, btf.Enum)
    assert [(v.name, v.value) for v in e.values] == expect
    assert ("PIDTYPE_PID", 0) in expect


def test_signed_enum(spec: btf.Spec) -> None:
    e = spec.type(spec.find("rpm_status", btf.Kind.ENUM))
    assert isinstance(e, btf.Enum) and e.signed
    assert e.values[0].name == "RPM_INVALID" and e.values[0].value == -1


def test_func_proto(spec: btf.Spec) -> None:
    proto = spec.func_proto("do_sys_open")
    fid = spec.find("do_sys_open", btf.Kind.FUNC)
    head = raw_block(rf"\[{fid}\] FUNC 'do_sys_open'")[0]
    proto_id = int(re.search(r"type_id=(\d+)", head).group(1))  # type: ignore[union-attr]
    block = raw_block(rf"\[{proto_id}\] FUNC_PROTO")
    params = [re.search(r"'(\w+)' type_id=(\d+)", ln) for ln in block[1:]]
    assert [(p.name, p.type) for p in proto.params] == [(m[1], int(m[2])) for m in params if m]
    assert [p.name for p in proto.params] == ["dfd", "filename", "flags", "mode"]
    assert spec.name(proto.type) == "int"
    with pytest.raises(btf.BtfNotFoundError):
        spec.func_proto("no_such_function_xyz")


def test_find_missing_is_keyerror(spec: btf.Spec) -> None:
    with pytest.raises(KeyError) as ei:
        spec.find("no_such_struct_xyz", btf.Kind.STRUCT)
    assert str(ei.value) == f"no BTF type struct 'no_such_struct_xyz' in {VMLINUX}"
    assert spec.find_all("") == [] and spec.find_all("a\0b") == []


def test_find_kind_filter(spec: btf.Spec) -> None:
    ids = spec.find_all("task_struct")
    kinds = {spec.kind(i) for i in ids}
    assert btf.Kind.STRUCT in kinds
    assert spec.kind(spec.find("task_struct")) == btf.Kind.STRUCT


def test_names_iterator_agrees_with_find(spec: btf.Spec) -> None:
    sample = [(i, n) for i, n in spec.names()][::5000]
    for tid, name in sample:
        assert tid in spec.find_all(name)


def test_out_of_range(spec: btf.Spec) -> None:
    with pytest.raises(btf.BtfNotFoundError, match="out of range"):
        spec.type(len(spec))
    assert isinstance(spec.type(0), btf.Void)
