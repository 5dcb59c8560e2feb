"""The helper registry: ids and names as the kernel numbers them, and signatures."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf.asm.helpers import (
    HELPER_NAMES,
    HELPERS,
    MAX_HELPER_ID,
    ArgKind,
    RetKind,
    helper_id,
    helper_name,
    helper_spec,
)


@pytest.mark.parametrize(
    ("hid", "name"),
    [
        (1, "bpf_map_lookup_elem"),
        (5, "bpf_ktime_get_ns"),
        (6, "bpf_trace_printk"),
        (12, "bpf_tail_call"),
        (14, "bpf_get_current_pid_tgid"),
        (25, "bpf_perf_event_output"),
        (27, "bpf_get_stackid"),
        (112, "bpf_probe_read_user"),
        (115, "bpf_probe_read_kernel_str"),
        (130, "bpf_ringbuf_output"),
        (131, "bpf_ringbuf_reserve"),
        (158, "bpf_get_current_task_btf"),
        (181, "bpf_loop"),
        (208, "bpf_ktime_get_tai_ns"),
        (211, "bpf_cgrp_storage_delete"),
    ],
)
def test_ids_and_names(hid: int, name: str) -> None:
    assert helper_name(hid) == name
    assert helper_id(name) == hid
    assert helper_id(name.removeprefix("bpf_")) == hid


def test_range() -> None:
    assert MAX_HELPER_ID == 211
    assert helper_name(0) is None  # unspec
    assert helper_name(212) is None
    assert helper_name(-1) is None
    assert helper_id("no_such_helper") is None
    assert len(set(HELPER_NAMES)) == len(HELPER_NAMES)


def test_names_agree_with_uapi_header_where_present() -> None:
    # The Debian header (6.1) lists helpers in id order up to user_ringbuf_drain (209).
    header = Path("/usr/include/linux/bpf.h")
    if not header.exists():
        pytest.skip("no uapi header installed")
    import re

    text = header.read_text()
    mapper = text[text.index("#define __BPF_FUNC_MAPPER") :]
    names = re.findall(r"FN\((\w+)", mapper[: mapper.index("/* */")])
    assert names[0] == "unspec"
    for hid, short in enumerate(names[1:], 1):
        assert helper_name(hid) == "bpf_" + short


def test_signatures() -> None:
    lookup = helper_spec("bpf_map_lookup_elem")
    assert lookup is not None
    assert lookup.args == (ArgKind.CONST_MAP_PTR, ArgKind.PTR_TO_MAP_KEY)
    assert lookup.ret == RetKind.PTR_TO_MAP_VALUE_OR_NULL
    reserve = helper_spec(131)
    assert reserve is not None and reserve.ret == RetKind.PTR_TO_RINGBUF_MEM_OR_NULL
    submit = helper_spec("ringbuf_submit")
    assert submit is not None and submit.ret == RetKind.VOID
    assert submit.args[0] == ArgKind.PTR_TO_RINGBUF_MEM
    read = helper_spec("probe_read_user")
    assert read is not None and read.gpl_only
    assert read.args == (ArgKind.PTR_TO_UNINIT_MEM, ArgKind.CONST_SIZE_OR_ZERO, ArgKind.ANYTHING)
    loop = helper_spec("loop")
    assert loop is not None and loop.args[1] == ArgKind.PTR_TO_FUNC
    assert helper_spec("bpf_sys_bpf") is None  # named, but no signature kept


def test_specs_are_consistent() -> None:
    for hid, spec in HELPERS.items():
        assert helper_name(hid) == spec.name
        assert len(spec.args) <= 5
        for i, arg in enumerate(spec.args):
            # A size argument always follows a memory pointer.
            if arg in (ArgKind.CONST_SIZE, ArgKind.CONST_SIZE_OR_ZERO):
                assert spec.args[i - 1] in (
                    ArgKind.PTR_TO_MEM,
                    ArgKind.PTR_TO_UNINIT_MEM,
                    ArgKind.PTR_TO_MEM_OR_NULL,
                ), spec.name
    assert len(HELPERS) >= 45
