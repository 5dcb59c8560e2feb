"""Attaching a program to a perf event fd: a BPF link when possible, else the old ioctl."""

from __future__ import annotations

import errno as E

from pybpf.bpf import syscall as sc
from pybpf.bpf.errs import kernel_error
from pybpf.bpf.fd import Fd
from pybpf.bpf.link import Link, link_create
from pybpf.bpf.perf import enable
from pybpf.bpf.prog import Program
from pybpf.bpf.syscall import AttachType
from pybpf.errors import KernelError


def attach_perf_fd(
    prog: Program, pfd: Fd, label: str, feature: str | None = None, *, use_link: bool = True
) -> Link:
    """Attach ``prog`` to the perf event ``pfd``; the returned link owns ``pfd``.

    ``BPF_LINK_CREATE`` with ``BPF_PERF_EVENT`` gives a kernel link (detached even after
    SIGKILL); kernels without it (or ``use_link=False``) get ``PERF_EVENT_IOC_SET_BPF``.
    """
    try:
        lfd: Fd | None = None
        try:
            if use_link:
                lfd = link_create(prog.fd, pfd.fd, AttachType.PERF_EVENT,
                                  context=f"attach {label}", feature=feature)  # fmt: skip
        except KernelError as e:
            if e.errno not in (E.EINVAL, E.EOPNOTSUPP, E.ENOTSUP):
                raise
        if lfd is None:
            try:
                sc.perf_ioctl(pfd.fd, sc.PERF_EVENT_IOC_SET_BPF, prog.fd)
            except OSError as e2:
                raise kernel_error(f"attach {label}", e2, feature) from None
        try:
            enable(pfd)
        except OSError as e3:
            if lfd is not None:
                lfd.close()
            raise kernel_error(f"enable {label}", e3, feature) from None
    except BaseException:
        pfd.close()
        raise
    return Link(lfd, label, [pfd])


__all__ = ["attach_perf_fd"]
