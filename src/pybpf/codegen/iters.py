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

from pybpf.codegen.frame import CodegenError
from pybpf.lang import ast


def check_iter(probe: ast.Probe, ap: ast.AttachPoint) -> None:
    """Reject what pybpftrace cannot do with iterators (bpftrace's wording where it has one)."""
    if len(probe.attach_points) > 1:
        raise CodegenError("Only single iter attach point is allowed.", ap.span)
    if ap.target:
        raise CodegenError(
            f"iter:{ap.func}:{ap.target}: pinning iterators is not supported by pybpftrace yet",
            ap.span,
        )


__all__ = ["check_iter"]
