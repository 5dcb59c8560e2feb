"""Turning ``OSError`` from the system-call layer into the :mod:`pybpf.errors` tree."""

from __future__ import annotations

import errno as E
import os

from pybpf.errors import KernelError, NotSupportedError, PrivilegeError, errno_message

ENOTSUPP = 524
"""The kernel-internal ``ENOTSUPP`` that leaks out of bpf(2) for unsupported operations."""

# Capability bits from <linux/capability.h>.
_CAP_SYS_ADMIN = 21
_CAP_PERFMON = 38
_CAP_BPF = 39


def has_bpf_privilege() -> bool:
    """True when this process may load tracing programs (root, or CAP_BPF and CAP_PERFMON)."""
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    caps = int(line.split()[1], 16)
                    if caps >> _CAP_SYS_ADMIN & 1:
                        return True
                    return bool(caps >> _CAP_BPF & 1 and caps >> _CAP_PERFMON & 1)
    except OSError:
        pass
    return False


def kernel_error(context: str, err: OSError, feature: str | None = None) -> KernelError:
    """The error for a failed kernel call made while doing ``context``.

    EPERM/EACCES become :class:`PrivilegeError` when we really lack privilege; with
    privilege, EPERM means the kernel forbids it outright (lockdown), which for a named
    ``feature`` is a :class:`NotSupportedError`. ENOTSUPP/EOPNOTSUPP name the feature too.
    """
    code = err.errno or 0
    if code in (E.EPERM, E.EACCES):
        if not has_bpf_privilege():
            return PrivilegeError(f"{context}: {errno_message(code)}", code)
        if feature is not None:
            return NotSupportedError(
                feature, "the kernel refuses it: permission denied as root (lockdown?)", code
            )
    if feature is not None and code in (ENOTSUPP, E.EOPNOTSUPP, E.ENOSYS):
        return NotSupportedError(
            feature,
            f"{context}: {errno_message(code) if code != ENOTSUPP else 'operation not supported'}",
            code,
        )
    msg = "operation not supported (ENOTSUPP)" if code == ENOTSUPP else errno_message(code)
    return KernelError(f"{context}: {msg}", code)


__all__ = ["ENOTSUPP", "has_bpf_privilege", "kernel_error"]
