"""BPF programs: the plain-data :class:`ProgSpec` and the live :class:`Program`.

Loading is two-step on failure: the first ``BPF_PROG_LOAD`` runs without a log (fast); if
the kernel refuses, the load is retried with a verifier log so that the error carries the
kernel's own explanation (:class:`~pybpf.errors.VerifierError` with ``.log``).
"""

from __future__ import annotations

import errno as E
import re
import struct
from collections.abc import Iterator, Sequence
from types import TracebackType

from pybpf.asm.insn import Insn, encode
from pybpf.bpf import syscall as sc
from pybpf.bpf.errs import has_bpf_privilege, kernel_error
from pybpf.bpf.fd import Fd
from pybpf.bpf.syscall import AttachType, Cmd, ProgType
from pybpf.errors import KernelError, PrivilegeError, UsageError, VerifierError, errno_message
from pybpf.records import dataclass, field

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pybpf.bpf.info import ProgInfo

_NAME_RE = re.compile(r"^[A-Za-z0-9_.]{0,15}$")
_PROCESSED_RE = re.compile(r"processed (\d+) insns")

LOG_LEVEL_BRANCH = 1
"""Verifier log: the failing path (enough to explain a rejection)."""
LOG_LEVEL_INSN = 2
"""Verifier log: every instruction's state (very large)."""
LOG_LEVEL_STATS = 4
"""Verifier log: statistics only (``processed N insns ...``)."""

_MAX_LOG = 1 << 26


@dataclass(frozen=True)
class ProgSpec:
    """What to load: the arguments of ``BPF_PROG_LOAD`` as plain data.

    ``insns`` are :class:`~pybpf.asm.insn.Insn` values (or already encoded bytes). ``label``
    is how messages name the program (e.g. ``tracepoint:syscalls:sys_enter_read``).
    """

    type: ProgType
    insns: tuple[Insn, ...] | bytes
    license: str = "GPL"
    name: str = ""
    expected_attach_type: AttachType | None = None
    attach_btf_id: int = 0
    attach_prog_fd: int = 0
    attach_btf_obj_fd: int = 0
    prog_btf_fd: int = 0
    func_info: bytes = field(default=b"", repr=False)
    func_info_rec_size: int = 8
    line_info: bytes = field(default=b"", repr=False)
    line_info_rec_size: int = 16
    kern_version: int = 0
    flags: int = 0
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", ProgType(self.type))
        if not isinstance(self.insns, bytes):
            object.__setattr__(self, "insns", tuple(self.insns))
        if not _NAME_RE.match(self.name):
            raise UsageError(
                f"program name {self.name!r}: at most 15 characters of letters, digits, '_' or '.'"
            )
        if len(self.code()) % 8 or not self.code():
            raise UsageError(f"program {self.describe()}: no instructions, or a partial one")

    def code(self) -> bytes:
        """The encoded instructions."""
        return self.insns if isinstance(self.insns, bytes) else encode(self.insns)

    @property
    def insn_count(self) -> int:
        """Number of 8-byte instruction slots (``lddw`` counts two)."""
        return len(self.code()) // 8

    def describe(self) -> str:
        """How messages name the program."""
        return self.label or self.name or self.type.name.lower()

    def attr(self, log: bytearray | None, log_level: int) -> tuple[bytearray, list[bytearray]]:
        """The packed ``BPF_PROG_LOAD`` attribute and the buffers it points into."""
        code = bytearray(self.code())
        lic = bytearray(self.license.encode() + b"\0")
        finfo = bytearray(self.func_info)
        linfo = bytearray(self.line_info)
        a = sc.attr_buffer()
        struct.pack_into(
            "<IIQQIIQII16s", a, 0, self.type, len(code) // 8, sc.address_of(code),
            sc.address_of(lic), log_level if log else 0, len(log) if log else 0,
            sc.address_of(log), self.kern_version, self.flags, self.name.encode(),
        )  # fmt: skip
        expected = 0 if self.expected_attach_type is None else int(self.expected_attach_type)
        attach_fd = self.attach_prog_fd or self.attach_btf_obj_fd
        struct.pack_into(
            "<IIIIQIIQII", a, 64, 0, expected, self.prog_btf_fd,
            self.func_info_rec_size if finfo else 0, sc.address_of(finfo),
            len(finfo) // self.func_info_rec_size if finfo else 0,
            self.line_info_rec_size if linfo else 0, sc.address_of(linfo),
            len(linfo) // self.line_info_rec_size if linfo else 0, self.attach_btf_id,
        )  # fmt: skip
        struct.pack_into("<I", a, 112, attach_fd)
        return a, [code, lic, finfo, linfo]


@dataclass(frozen=True)
class TestRun:
    """Result of ``BPF_PROG_TEST_RUN``; unpacks as ``(retval, data_out, duration)``."""

    __test__ = False  # not a pytest test class, despite the name

    retval: int
    data_out: bytes
    duration: int
    """Mean nanoseconds per run, as the kernel measured it."""
    ctx_out: bytes = b""

    def __iter__(self) -> Iterator[int | bytes]:
        return iter((self.retval, self.data_out, self.duration))


class Program:
    """A loaded BPF program owning its fd."""

    def __init__(self, fd: Fd, spec: ProgSpec, log: str = "") -> None:
        self._fd = fd
        self.spec = spec
        self.verifier_log = log
        """The verifier log of the successful load (empty unless a log was requested)."""
        self._id = 0

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(
        cls, spec: ProgSpec, log_level: int = 0, log_size: int = 1 << 20, stats: bool = False
    ) -> Program:
        """Load ``spec``; ``log_level``/``stats`` keep the verifier log of a success too.

        Raises :class:`VerifierError` (with the kernel's log) on rejection,
        :class:`PrivilegeError` without privilege, :class:`NotSupportedError` when the kernel
        lacks the program type or attach kind.
        """
        level = log_level | (LOG_LEVEL_STATS if stats else 0)
        try:
            fd, log = _load(spec, level, log_size if level else 0)
        except OSError as first:
            if first.errno in (E.EPERM, E.EACCES) and not has_bpf_privilege():
                raise PrivilegeError(
                    f"load program {spec.describe()}: {errno_message(first.errno)}", first.errno
                ) from None
            raise _explain_failure(spec, first, log_size) from None
        return cls(Fd(fd, "bpf-prog"), spec, log)

    @classmethod
    def from_id(cls, prog_id: int) -> Program:
        """Adopt a program already in the kernel (someone else's) by id.

        Its ``spec`` carries the kernel's translated instructions, type and name.
        """
        from pybpf.bpf.info import ObjKind, fd_by_id, prog_info

        fd = fd_by_id(ObjKind.PROG, prog_id)
        try:
            info = prog_info(fd.fd, xlated=True)
        except BaseException:
            fd.close()
            raise
        code = info.xlated or encode([Insn(0x95)])  # xlated is hidden without privilege
        name = info.name if _NAME_RE.match(info.name) else ""
        spec = ProgSpec(ProgType(info.type), code, name=name, label=name or f"id {prog_id}")
        prog = cls(fd, spec)
        prog._id = prog_id
        return prog

    # -- properties ----------------------------------------------------------------------
    @property
    def fd(self) -> int:
        """The raw program fd."""
        return self._fd.fd

    def fileno(self) -> int:
        """The program fd."""
        return self._fd.fd

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._fd.closed

    def info(self, xlated: bool = False, jited: bool = False) -> ProgInfo:
        """``bpf_prog_info`` for this program."""
        from pybpf.bpf.info import prog_info  # lazy: loading a program never needs it

        return prog_info(self.fd, xlated=xlated, jited=jited)

    @property
    def id(self) -> int:
        """The kernel's id for this program."""
        if not self._id:
            self._id = self.info().id
        return self._id

    @property
    def tag(self) -> str:
        """The program tag (hex) the kernel computed."""
        return self.info().tag

    @property
    def processed_insns(self) -> int:
        """The verifier's ``processed N insns`` figure (from the stats log, else from info)."""
        m = _PROCESSED_RE.search(self.verifier_log)
        return int(m.group(1)) if m else self.info().verified_insns

    def close(self) -> None:
        """Close the program fd; the kernel unloads it once no link references it."""
        self._fd.close()

    def __enter__(self) -> Program:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else str(self._fd.fd)
        return f"<Program {self.spec.describe()} {self.spec.type.name} {state}>"

    # -- running -------------------------------------------------------------------------
    def test_run(
        self,
        data_in: bytes = b"",
        ctx_in: bytes | None = None,
        repeat: int = 1,
        data_out_size: int | None = None,
        ctx_out_size: int = 0,
        flags: int = 0,
    ) -> TestRun:
        """Run the program once (or ``repeat`` times) in the kernel on ``data_in``.

        Returns ``(retval, data_out, duration)`` (plus ``ctx_out``); duration is the mean
        nanoseconds per run as the kernel measured it.
        """
        din = bytearray(data_in)
        dout = bytearray(
            data_out_size if data_out_size is not None else len(din) + 256 if din else 0
        )
        cin = bytearray(ctx_in or b"")
        cout = bytearray(ctx_out_size)
        a = sc.attr_buffer()
        struct.pack_into(
            "<IIIIQQIIIIQQI", a, 0, self.fd, 0, len(din), len(dout), sc.address_of(din),
            sc.address_of(dout), repeat, 0, len(cin), len(cout), sc.address_of(cin),
            sc.address_of(cout), flags,
        )  # fmt: skip
        try:
            sc.bpf(Cmd.PROG_TEST_RUN, a)
        except OSError as e:
            raise kernel_error(
                f"test run {self.spec.describe()}", e,
                feature=f"test run of {self.spec.type.name.lower()} programs",
            ) from None  # fmt: skip
        retval, _, dsize = struct.unpack_from("<III", a, 4)
        duration, _, csize = struct.unpack_from("<III", a, 36)
        return TestRun(retval, bytes(dout[:dsize]), duration, bytes(cout[:csize]))


def _load(spec: ProgSpec, level: int, log_size: int) -> tuple[int, str]:
    """``BPF_PROG_LOAD``; returns (fd, log text).

    With a log requested, a log that does not fit makes the kernel fail an otherwise good
    load with ENOSPC; the buffer then grows to the size the kernel reports and we retry.
    """
    size = min(max(log_size, 256), _MAX_LOG)
    while True:
        log = bytearray(size) if level else None
        a, keep = spec.attr(log, level)
        try:
            fd = sc.bpf(Cmd.PROG_LOAD, a)
        except OSError as e:
            true_size = struct.unpack_from("<I", a, 140)[0]
            if level and e.errno == E.ENOSPC and size < _MAX_LOG:
                size = min(_MAX_LOG, max(size * 4, true_size + 1))
                continue
            raise
        finally:
            del keep
        return fd, _log_text(log)


def _log_text(log: bytearray | None) -> str:
    return log.split(b"\0", 1)[0].decode(errors="replace") if log else ""


def _explain_failure(spec: ProgSpec, first: OSError, log_size: int) -> KernelError:
    """Reload with a verifier log (growing it when truncated) to explain ``first``."""
    size = max(log_size, 1 << 16)
    while True:
        log = bytearray(size)
        a, keep = spec.attr(log, LOG_LEVEL_BRANCH)
        try:
            fd = sc.bpf(Cmd.PROG_LOAD, a)
        except OSError as e:
            err = e
        else:  # it loaded this time (a transient failure): do not leak it
            import os

            os.close(fd)
            return kernel_error(f"load program {spec.describe()}", first)
        del keep
        true_size = struct.unpack_from("<I", a, 140)[0]
        if err.errno == E.ENOSPC and size < _MAX_LOG:
            size = min(_MAX_LOG, max(size * 4, true_size + 1))
            continue
        text = _log_text(log)
        break
    code = err.errno or 0
    if text.strip():
        verr = VerifierError("", text, code)
        verr.args = (f"load program {spec.describe()}: verifier rejected it: {verr.last_line}",)
        return verr
    return kernel_error(f"load program {spec.describe()}", err, feature=_feature_name(spec))


_ATTACH_FEATURE = {
    AttachType.TRACE_FENTRY: "fentry",
    AttachType.TRACE_FEXIT: "fexit",
    AttachType.MODIFY_RETURN: "fmod_ret",
    AttachType.LSM_MAC: "lsm",
}


def _feature_name(spec: ProgSpec) -> str:
    if spec.expected_attach_type in _ATTACH_FEATURE:
        return _ATTACH_FEATURE[AttachType(spec.expected_attach_type)]
    name = f"program type {spec.type.name.lower()}"
    if spec.expected_attach_type is not None:
        name += f" ({AttachType(spec.expected_attach_type).name.lower()})"
    return name


def load_all(specs: Sequence[ProgSpec]) -> list[Program]:
    """Load several programs; on any failure close the ones already loaded and re-raise."""
    out: list[Program] = []
    try:
        for s in specs:
            out.append(Program.load(s))
    except BaseException:
        for p in out:
            p.close()
        raise
    return out


__all__ = [
    "LOG_LEVEL_BRANCH",
    "LOG_LEVEL_INSN",
    "LOG_LEVEL_STATS",
    "ProgSpec",
    "Program",
    "TestRun",
    "load_all",
]
