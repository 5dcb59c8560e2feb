"""tracefs: where it lives, which tracepoints exist, and the layout of their records.

Everything here is reading files, except :func:`root`, which mounts tracefs when it is not
mounted yet and we are root (the ``mount`` command is used because ctypes is reserved for
``pybpf.bpf.syscall``). ``available_filter_functions`` is never read: it is unreadable on
locked-down kernels; BTF and kallsyms answer those questions instead.
"""

from __future__ import annotations

import errno
import os
import re

from pybpf.errors import KernelError, NotSupportedError, PrivilegeError, PybpfError
from pybpf.records import dataclass

# Paths are plain strings: pathlib (with urllib.parse and ipaddress behind it) cost 6 ms of a
# compilation's start-up.
_CANDIDATES: tuple[str, ...] = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
_root: str | None = None


class TracepointNotFoundError(PybpfError, LookupError):
    """The tracepoint named does not exist on this kernel."""

    __str__ = Exception.__str__


def _is_tracefs(path: str) -> bool:
    # An unmounted mount point is an empty directory: "events" is the tell.
    # os.path.isdir, not Path.is_dir: the latter raises PermissionError for non-root.
    return os.path.isdir(os.path.join(path, "events"))


def _mounted_elsewhere() -> str | None:
    """A tracefs mount somewhere other than the usual places (from /proc/self/mounts)."""
    try:
        with open("/proc/self/mounts") as f:
            text = f.read()
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] == "tracefs":
            # /proc/mounts escapes spaces as \040.
            path = parts[1].replace("\\040", " ")
            if _is_tracefs(path):
                return path
    return None


def _mount(target: str) -> str:
    """Mount tracefs on ``target``; return "" on success, else the reason."""
    import subprocess  # only when tracefs must be mounted

    try:
        proc = subprocess.run(
            ["mount", "-t", "tracefs", "nodev", str(target)],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return "" if proc.returncode == 0 else (proc.stderr.strip() or f"status {proc.returncode}")


def root() -> str:
    """The tracefs mount point, mounting tracefs at /sys/kernel/tracing if need be.

    Raises ``NotSupportedError`` when tracefs is absent and cannot be mounted (not root, or the
    kernel lacks it), ``KernelError`` when mounting was attempted and failed.
    """
    global _root
    if _root is not None and _is_tracefs(_root):
        return _root
    for cand in _CANDIDATES:
        if _is_tracefs(cand):
            _root = os.fspath(cand)
            return _root
    found = _mounted_elsewhere()
    if found is not None:
        _root = found
        return found
    target = os.fspath(_CANDIDATES[0])
    if not os.path.isdir(target):
        raise NotSupportedError("tracefs", f"{target} does not exist")
    if os.path.ismount(target) and not os.access(target, os.R_OK | os.X_OK):
        raise PrivilegeError(f"tracefs at {target}: permission denied (run as root)", errno.EACCES)
    if os.geteuid() != 0:
        raise NotSupportedError("tracefs", f"not mounted at {target}; mounting it needs root")
    reason = _mount(target)
    if reason or not _is_tracefs(target):
        raise KernelError(f"mount tracefs on {target}: {reason or 'no events directory'}")
    _root = target
    return target


def _event_dir(category: str, name: str) -> str:
    if not category or not name or "/" in category + name or category.startswith("."):
        raise TracepointNotFoundError(f"tracepoint {category}:{name}: bad name")
    return os.path.join(root(), "events", category, name)


def _read_event_file(category: str, name: str, fname: str) -> str:
    path = os.path.join(_event_dir(category, name), fname)
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        raise TracepointNotFoundError(f"tracepoint {category}:{name} not found") from None
    except OSError as e:
        raise KernelError(f"read {path}: {e.strerror}", e.errno or 0) from None


def tracepoint_id(category: str, name: str) -> int:
    """The perf event id of tracepoint ``category:name`` (its ``id`` file)."""
    text = _read_event_file(category, name, "id")
    try:
        return int(text.strip())
    except ValueError:
        raise KernelError(f"tracepoint {category}:{name}: bad id {text.strip()!r}") from None


def list_tracepoints() -> list[tuple[str, str]]:
    """Every tracepoint as (category, name), sorted; read from the events/*/* directories."""
    events = os.path.join(root(), "events")
    out: list[tuple[str, str]] = []
    with os.scandir(events) as cats:
        for cat in cats:
            if not cat.is_dir():
                continue
            with os.scandir(cat.path) as evs:
                out.extend((cat.name, ev.name) for ev in evs if ev.is_dir())
    out.sort()
    return out


@dataclass(frozen=True)
class Field:
    """One field of a tracepoint record, as the kernel's format file describes it.

    ``type`` is the C type without any array suffix or ``__data_loc`` prefix (``char`` for
    ``char comm[16]``, ``const char *`` for a pointer). ``array_len`` is None for scalars, the
    element count for fixed arrays and 0 for flexible (``[]``) ones. A ``data_loc`` field holds
    a 32-bit (length << 16 | offset) locator of bytes stored after the fixed record;
    ``rel_loc`` is the same with the offset relative to the end of the field.
    """

    name: str
    type: str
    offset: int
    size: int
    signed: bool
    array_len: int | None = None
    data_loc: bool = False
    rel_loc: bool = False
    common: bool = False

    @property
    def is_array(self) -> bool:
        """True for fixed, flexible and dynamic (``__data_loc``) arrays."""
        return self.array_len is not None

    @property
    def is_pointer(self) -> bool:
        """True when the field's C type is a pointer."""
        return self.type.endswith("*") and not self.is_array


@dataclass(frozen=True)
class TracepointFormat:
    """The parsed ``format`` file of one tracepoint."""

    category: str
    name: str
    id: int
    fields: tuple[Field, ...]
    print_fmt: str = ""

    @property
    def own_fields(self) -> tuple[Field, ...]:
        """The tracepoint's own fields, without the ``common_*`` header."""
        return tuple(f for f in self.fields if not f.common)

    def field(self, name: str) -> Field:
        """The field called ``name``; ``TracepointNotFoundError`` when there is none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise TracepointNotFoundError(
            f"tracepoint {self.category}:{self.name} has no field '{name}'"
        )

    @property
    def size(self) -> int:
        """Bytes of the fixed part of the record (end of the last field)."""
        return max((f.offset + f.size for f in self.fields), default=0)


_FIELD_RE = re.compile(
    r"^\s*field:(?P<decl>[^;]*);\s*offset:(?P<off>\d+);\s*size:(?P<size>\d+);"
    r"(?:\s*signed:(?P<signed>\d+);)?"
)
_DECL_RE = re.compile(r"^(?P<type>.*?)\s*\b(?P<name>\w+)\s*(?:\[(?P<len>[^\]]*)\])?\s*$")


def parse_field(line: str) -> Field | None:
    """Parse one ``field:...`` line of a format file; None if the line is not a field."""
    m = _FIELD_RE.match(line)
    if m is None:
        return None
    decl = m.group("decl").strip()
    data_loc = rel_loc = False
    for prefix in ("__data_loc ", "__rel_loc "):
        if decl.startswith(prefix):
            data_loc = prefix == "__data_loc "
            rel_loc = not data_loc
            decl = decl[len(prefix) :].strip()
    array_len: int | None = None
    if data_loc or rel_loc:
        # "__data_loc char[] name": the [] belongs to the type, before the name.
        type_part, _, fname = decl.rpartition(" ")
        ctype = type_part.removesuffix("[]").strip()
        array_len = 0
    else:
        d = _DECL_RE.match(decl)
        if d is None:
            return None
        ctype, fname = d.group("type").strip(), d.group("name")
        if d.group("len") is not None:
            ln = d.group("len").strip()
            array_len = int(ln, 0) if ln.isdigit() or ln.startswith("0x") else 0
    signed = m.group("signed")
    return Field(
        name=fname,
        type=ctype,
        offset=int(m.group("off")),
        size=int(m.group("size")),
        signed=signed == "1",
        array_len=array_len,
        data_loc=data_loc,
        rel_loc=rel_loc,
        common=fname.startswith("common_"),
    )


def parse_format(text: str, category: str = "", name: str = "") -> TracepointFormat:
    """Parse the text of a tracepoint ``format`` file."""
    fields: list[Field] = []
    ident = -1
    print_fmt = ""
    for line in text.splitlines():
        if line.startswith("name:") and not name:
            name = line[5:].strip()
        elif line.startswith("ID:"):
            ident = int(line[3:].strip())
        elif line.startswith("print fmt:"):
            print_fmt = line[10:].strip()
        else:
            f = parse_field(line)
            if f is not None:
                fields.append(f)
    return TracepointFormat(category, name, ident, tuple(fields), print_fmt)


def tracepoint_format(category: str, name: str) -> TracepointFormat:
    """The record layout of tracepoint ``category:name``."""
    return parse_format(_read_event_file(category, name, "format"), category, name)


__all__ = [
    "Field",
    "TracepointFormat",
    "TracepointNotFoundError",
    "list_tracepoints",
    "parse_field",
    "parse_format",
    "root",
    "tracepoint_format",
    "tracepoint_id",
]
