"""``ctx`` of iterator probes is the kernel's ``struct bpf_iter__<target> *`` (BTF-typed)."""

from __future__ import annotations

import pytest

from pybpf.lang import ast
from pybpf.passes import types as T
from pybpf.passes.pipeline import compile_frontend

from .fakes import FakeCatalog

BTF_CAT = FakeCatalog()
pytestmark = pytest.mark.skipif(BTF_CAT.btf() is None, reason="kernel BTF not available")


def _types(src: str) -> dict[str, T.Type]:
    r = compile_frontend(src, "t.bt", catalog=BTF_CAT)
    assert r.ok, r.render()
    out: dict[str, T.Type] = {}
    for n in ast.walk(r.program):
        if isinstance(n, ast.FieldAccess) and n.type is not None:
            out.setdefault(n.field, n.type)
        if isinstance(n, ast.Builtin) and n.name == "ctx" and n.type is not None:
            out.setdefault("ctx", n.type)
    return out


def test_iter_task_ctx_is_typed_through_btf() -> None:
    t = _types(
        'iter:task { printf("%s %d %d\\n", ctx->task->comm, ctx->task->pid, ctx->meta->seq_num); }'
    )
    ctx = t["ctx"]
    assert isinstance(ctx, T.PointerType) and isinstance(ctx.target, T.StructType)
    assert ctx.target.name == "bpf_iter__task"
    assert isinstance(t["task"], T.PointerType)
    assert t["pid"].is_integer() and t["seq_num"].is_integer()


def test_iter_task_file_fields() -> None:
    t = _types("iter:task_file { @[ctx->fd] = count(); @f = ctx->file->f_flags; }")
    assert t["fd"].is_integer() and t["f_flags"].is_integer()
    assert isinstance(t["file"], T.PointerType)


def test_ctx_elsewhere_stays_void_pointer() -> None:
    t = _types("BEGIN { @c = (uint64)ctx; }")
    ctx = t["ctx"]
    assert isinstance(ctx, T.PointerType) and not isinstance(ctx.target, T.StructType)


def test_unknown_iter_field_is_an_error() -> None:
    r = compile_frontend("iter:task { @x = ctx->no_such_field; }", "t.bt", catalog=BTF_CAT)
    assert not r.ok
    assert "no_such_field" in r.render()


def test_listing_shows_iterator_fields() -> None:
    from pybpf.lang.listing import list_probes

    lines = list_probes("iter:task_file", verbose=True, catalog=BTF_CAT)
    assert lines == [
        "iter:task_file",
        "    struct bpf_iter_meta *meta",
        "    struct task_struct *task",
        "    u32 fd",
        "    struct file *file",
    ]
    assert "iter:task" in list_probes("iter:*", catalog=BTF_CAT)
