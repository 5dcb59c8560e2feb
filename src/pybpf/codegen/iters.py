"""Iterator probes (``iter:task``, ``iter:task_file``, ``iter:task_vma`` ...).

An iterator probe is a ``TRACING`` program loaded with ``BPF_TRACE_ITER`` against the
kernel's ``bpf_iter_<target>`` BTF function; its context is ``struct bpf_iter__<target>``
(``ctx->meta``, ``ctx->task``, ``ctx->file``, ``ctx->fd`` ... typed through BTF by the
front end). The session links it, reads one iterator instance to EOF (which runs the
program once per object) and, when the script has no other event probes, ends the run as
bpftrace does. ``printf`` output travels through the ring buffer like everywhere else, so
the text printed is the same as bpftrace's seq_file output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import R0, R1, R2, R3, R6
from pybpf.codegen.frame import CodegenError, Val
from pybpf.lang import ast
from pybpf.passes import types as T

if TYPE_CHECKING:
    from pybpf.codegen.probe import ProbeGen


def check_iter(probe: ast.Probe, ap: ast.AttachPoint) -> None:
    """Reject what pybpftrace cannot do with iterators (bpftrace's wording where it has one)."""
    if len(probe.attach_points) > 1:
        raise CodegenError("Only single iter attach point is allowed.", ap.span)
    if ap.target:
        raise CodegenError(
            f"iter:{ap.func}:{ap.target}: pinning iterators is not supported by pybpftrace yet",
            ap.span,
        )


_D_PATH = 147  # bpf_d_path(struct path *, char *buf, u32 size): allowed in iterators


def _chain(e: ast.Expr) -> tuple[ast.Expr, list[str]]:
    """``ctx.file.f_path`` / ``ctx->file->f_path`` -> (``ctx``, ["file", "f_path"])."""
    fields: list[str] = []
    while True:
        if isinstance(e, ast.Unary) and e.op == "*":
            e = e.operand
        elif isinstance(e, ast.FieldAccess):
            fields.append(e.field)
            e = e.expr
        else:
            return e, fields[::-1]


def _path_place(e: ast.Expr) -> tuple[int, int] | None:
    """(context offset of the object pointer, offset of the ``struct path`` inside it) for
    ``ctx.<pointer field>.<embedded members...>``, else None."""
    root, fields = _chain(e)
    if not (isinstance(root, ast.Builtin) and root.name == "ctx") or len(fields) < 2:
        return None
    ctx_t = root.type
    if not (isinstance(ctx_t, T.PointerType) and isinstance(ctx_t.target, T.StructType)):
        return None
    ptr = ctx_t.target.field(fields[0])
    if ptr is None or not isinstance(ptr.type, T.PointerType):
        return None
    st, off = ptr.type.target, 0
    for name in fields[1:]:
        if not isinstance(st, T.StructType):
            return None
        f = st.field(name)
        if f is None:
            return None
        st, off = f.type, off + f.offset
    if not (isinstance(st, T.StructType) and st.name == "path"):
        return None
    return ptr.offset, off


def path_call(gen: ProbeGen, c: ast.Call, t: T.Type) -> Val:
    """``path(ctx.file.f_path)`` in an iterator: ``bpf_d_path`` on the kernel's own (trusted)
    pointer, read straight from the context. Elsewhere path() needs fentry/LSM hooks,
    which this kernel cannot load, so it stays an error."""
    place = _path_place(c.args[0]) if c.args else None
    if place is None or gen.skip_null_ctx is None:
        raise CodegenError(
            "path() is supported on iterator context fields (path(ctx.file.f_path))", c.span
        )
    ctx_off, member_off = place
    size = t.size if isinstance(t, T.StringType) else 64
    dst = gen.alloc_mem(T.StringType(size))
    gen.zero_mem(dst, size)
    skip = gen.em.label("path_null")
    gen.frame.before_call()
    gen.em.ldx(8, R1, R6, ctx_off)
    gen.em.jmpi(JmpOp.JEQ, R1, 0, skip)
    if member_off:
        gen.em.alui(AluOp.ADD, R1, member_off)
    gen.addr_into(R2, dst)
    gen.em.movi(R3, size)
    gen.frame.call(_D_PATH)
    # A failed d_path (a name longer than the buffer) may leave a partial tail: make it "".
    gen.em.jmpi(JmpOp.JSGE, R0, 0, skip)
    gen.zero_mem(dst, size)
    gen.em.place(skip)
    return dst


__all__ = ["check_iter", "path_call"]
