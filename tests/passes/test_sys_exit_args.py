"""``args`` of a ``sys_exit_*`` wildcard: one format read serves every match (same layout)."""

from __future__ import annotations

from pybpf.passes import types as T
from pybpf.passes.pipeline import compile_frontend
from pybpf.tracefs import TracepointFormat

from .fakes import FORMATS, FakeCatalog

EXITS = ("read", "write", "close", "getpid")


class _Counting(FakeCatalog):
    def __init__(self) -> None:
        super().__init__(with_btf=False)
        self.reads: list[tuple[str, str]] = []

    def tracepoints(self) -> list[tuple[str, str]]:
        return sorted({*FORMATS, *(("syscalls", f"sys_exit_{n}") for n in EXITS)})

    def tracepoint_format(self, category: str, name: str) -> TracepointFormat | None:
        self.reads.append((category, name))
        if category == "syscalls" and name.startswith("sys_exit_"):
            return super().tracepoint_format("syscalls", "sys_exit_read")
        return super().tracepoint_format(category, name)


def test_exit_wildcard_reads_one_format() -> None:
    cat = _Counting()
    r = compile_frontend(
        "tracepoint:syscalls:sys_exit_* { @[probe] = sum(args.ret); }", "t.bt", catalog=cat
    )
    assert r.ok, r.render()
    assert len([x for x in cat.reads if x[1].startswith("sys_exit_")]) == 1
    types = {k: v for k, v in r.context.args_by_match.items() if "sys_exit_" in k}
    assert len(types) == len(EXITS)
    for k, t in types.items():
        assert isinstance(t, T.StructType)
        assert t.name == "_tracepoint_syscalls_" + k.rsplit(":", 1)[1]
        assert [f.name for f in t.fields][-2:] == ["__syscall_nr", "ret"]


def test_enter_wildcard_still_reads_each_format() -> None:
    cat = _Counting()
    r = compile_frontend(
        "tracepoint:syscalls:sys_enter_* { @[probe] = sum(args.__syscall_nr); }",
        "t.bt",
        catalog=cat,
    )
    assert r.ok, r.render()
    enters = {x for x in cat.reads if x[1].startswith("sys_enter_")}
    assert enters == {("syscalls", "sys_enter_read"), ("syscalls", "sys_enter_openat")}
