"""Types the front end gives ``buf()`` and ``join()`` (bpftrace's rules)."""

from __future__ import annotations

import pytest

from pybpf.lang import ast
from pybpf.passes import types as T
from pybpf.passes.pipeline import compile_frontend
from pybpf.tracefs import TracepointFormat, parse_format

from .fakes import _COMMON, FakeCatalog

_INET = _COMMON + (
    "\tfield:__u16 dport;\toffset:26;\tsize:2;\tsigned:0;\n"
    "\tfield:__u8 daddr[4];\toffset:36;\tsize:4;\tsigned:0;\n"
    "\tfield:__u8 daddr_v6[16];\toffset:56;\tsize:16;\tsigned:0;\n"
    "\tfield:char comm[16];\toffset:72;\tsize:16;\tsigned:0;\n"
)


class _Catalog(FakeCatalog):
    """The fake catalog plus a tracepoint with byte arrays (like sock:inet_sock_set_state)."""

    def tracepoints(self) -> list[tuple[str, str]]:
        return [*super().tracepoints(), ("sock", "inet_sock_set_state")]

    def tracepoint_format(self, category: str, name: str) -> TracepointFormat | None:
        if (category, name) == ("sock", "inet_sock_set_state"):
            return parse_format(_INET, category, name)
        return super().tracepoint_format(category, name)


CATALOG = _Catalog()


def _buf_types(script: str) -> list[T.Type | None]:
    r = compile_frontend(script, "t.bt", catalog=CATALOG)
    assert r.ok, r.render()
    return [n.type for n in ast.walk(r.program) if isinstance(n, ast.Call) and n.name == "buf"]


@pytest.mark.parametrize(
    ("call", "length"),
    [
        ('buf("abc", 3)', 3),
        ('buf("abc", 0)', 0),
        ("buf(0, 5000)", 1020),  # longer than max_strlen - 4: shortened
        ("buf(0, $n)", 1020),  # a run-time length: room for the longest
        ("buf(args.daddr)", 4),  # an array: its size
        ("buf(args.daddr_v6)", 16),
        ("buf(args.daddr_v6, 2)", 2),
    ],
)
def test_buffer_length(call: str, length: int) -> None:
    script = f"tracepoint:sock:inet_sock_set_state {{ $n = 7; @x = {call}; }}"
    assert _buf_types(script) == [T.BufferType(length)]


def test_configured_max_strlen_bounds_buffers() -> None:
    script = "config = { max_strlen = 100 } BEGIN { $n = 1; @a = buf(0, $n); @b = buf(0, 500); }"
    assert _buf_types(script) == [T.BufferType(96), T.BufferType(96)]


def test_byte_arrays_are_arrays_and_char_arrays_strings() -> None:
    """bpftrace makes only plain ``char`` arrays strings; ``__u8`` arrays stay arrays."""
    r = compile_frontend(
        "tracepoint:sock:inet_sock_set_state { @a = args.daddr; @c = args.comm; }",
        "t.bt",
        catalog=CATALOG,
    )
    assert r.ok, r.render()
    args = r.context.args_by_match["tracepoint:sock:inet_sock_set_state"]
    assert isinstance(args, T.StructType)
    fields = {f: args.field(f) for f in ("daddr", "daddr_v6", "comm")}
    assert {k: f.type for k, f in fields.items() if f is not None} == {
        "daddr": T.ArrayType(T.UINT8, 4),
        "daddr_v6": T.ArrayType(T.UINT8, 16),
        "comm": T.StringType(16),
    }


def test_buffers_merge_to_the_longest_in_a_map() -> None:
    r = compile_frontend(
        'BEGIN { @b = buf("ab", 2); @b = buf("abcde", 5); }', "t.bt", catalog=CATALOG
    )
    assert r.ok, r.render()
    assert r.resources is not None
    assert r.resources.maps["@b"].value == T.BufferType(5)


@pytest.mark.parametrize("arg", ["args.argv", "0", "(uint64)1"])
def test_join_takes_pointers_and_integers(arg: str) -> None:
    fmt = _COMMON + (
        "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
        "\tfield:const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;\n"
    )

    class Exec(FakeCatalog):
        def tracepoints(self) -> list[tuple[str, str]]:
            return [("syscalls", "sys_enter_execve")]

        def tracepoint_format(self, category: str, name: str) -> TracepointFormat | None:
            return parse_format(fmt, category, name)

    r = compile_frontend(
        f'tracepoint:syscalls:sys_enter_execve {{ join({arg}); join({arg}, ","); }}',
        "t.bt",
        catalog=Exec(),
    )
    assert r.ok, r.render()
    calls = [n for n in ast.walk(r.program) if isinstance(n, ast.Call) and n.name == "join"]
    assert [c.type for c in calls] == [T.VOID, T.VOID]
