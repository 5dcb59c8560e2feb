"""The one small tree of exceptions for kernel, I/O and tool failures.

Language errors (bad scripts) are not exceptions: they are collected as diagnostics
(``pybpf.diag``) and all reported. Everything that goes wrong *outside* the script -- the
kernel refusing, a feature missing, a file unreadable -- is one of these, and its ``str()``
is the one line the CLI prints. Messages read as context chains, outermost first:
``load program tracepoint:syscalls:sys_enter_read: permission denied (run as root)``.
"""

from __future__ import annotations

import errno as _errno


class PybpfError(Exception):
    """Base of every error pybpf raises on purpose; ``str()`` is a one-line message."""

    def with_context(self, context: str) -> PybpfError:
        """Return the same error with ``context: `` prefixed to its message."""
        self.args = (f"{context}: {self}", *self.args[1:])
        return self


class UsageError(PybpfError):
    """The user asked for something that cannot be done as asked (bad flag, bad file)."""


class AsmError(PybpfError):
    """Assembly text could not be assembled; carries the line and column."""

    def __init__(self, message: str, line: int = 0, col: int = 0, source: str = "") -> None:
        self.message = message
        self.line = line
        self.col = col
        self.source = source
        where = f"{source or '<asm>'}:{line}:{col}: " if line else ""
        super().__init__(f"{where}{message}")


class KernelError(PybpfError):
    """A system call failed; ``errno`` is the kernel's answer."""

    def __init__(self, message: str, errno: int = 0) -> None:
        self.errno = errno
        super().__init__(message)


class PrivilegeError(KernelError):
    """Not enough privilege for a BPF or perf operation."""


class NotSupportedError(KernelError):
    """The running kernel lacks a feature; ``feature`` names it, the message says why."""

    def __init__(self, feature: str, reason: str = "", errno: int = 0) -> None:
        self.feature = feature
        self.reason = reason
        msg = f"{feature} is not supported by this kernel"
        if reason:
            msg += f" ({reason})"
        super().__init__(msg, errno)


class VerifierError(KernelError):
    """The kernel verifier rejected a program; ``log`` is the verifier's full log."""

    def __init__(self, message: str, log: str = "", errno: int = 0) -> None:
        self.log = log
        super().__init__(message, errno)

    @property
    def last_line(self) -> str:
        """The verifier's own verdict: the last non-empty line of its log that is not a statistic."""
        lines = [ln for ln in self.log.splitlines() if ln.strip()]
        for ln in reversed(lines):
            if not ln.startswith(("processed ", "verification time")):
                return ln
        return lines[-1] if lines else ""


def errno_message(err: int) -> str:
    """A short lower-case description of ``err`` with a hint where one helps."""
    if err in (_errno.EPERM, _errno.EACCES):
        return "permission denied (run as root, or with CAP_BPF and CAP_PERFMON)"
    name = _errno.errorcode.get(err, f"errno {err}")
    import os

    return f"{os.strerror(err).lower()} ({name})"


__all__ = [
    "AsmError",
    "KernelError",
    "NotSupportedError",
    "PrivilegeError",
    "PybpfError",
    "UsageError",
    "VerifierError",
    "errno_message",
]
