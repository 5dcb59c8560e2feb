"""Compiled scripts kept on disk: running the same script again skips the front end and code
generation (and the imports of both, which are most of pybpftrace's start-up).

An entry is found by everything the compilation read: the script, its file name,
positional parameters and options, the environment variables the compiler reads, pybpf's
own files (see :func:`_source_stamp`), the Python version, the kernel build, the
boot (kernel addresses and tracepoint ids change with it), the loaded modules and the CPU
count. Scripts whose programs depend on more than that (user-space probes read binaries
and process maps, wildcards read tracefs) are never stored; see :func:`cacheable`.

Entries are pickles, so the directory must belong to the user and be writable by no one
else (it is created 0700; any other directory is not used). ``PYBPF_CACHE_DIR`` moves it
(default ``$XDG_CACHE_HOME/pybpf/scripts``, else ``~/.cache/pybpf/scripts``); set to the
empty string it turns the cache off. Failing to read or write the cache is never an error:
the script is compiled as if there were none.
"""

from __future__ import annotations

import os
import sys
import zlib

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.codegen.spec import CompiledScript

FORMAT = 1
"""Bumped when an entry's layout changes."""
MAX_ENTRIES = 256
"""Oldest entries beyond this are removed when a new one is stored."""


def directory() -> str | None:
    """The cache directory, created if needed; None when off or not safe to use."""
    path = os.environ.get("PYBPF_CACHE_DIR")
    if path is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "pybpf", "scripts")
    if not path:
        return None
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return None
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        return None  # someone else could plant a pickle here
    return path


def _source_stamp() -> list[tuple[str, int, int]]:
    """Which pybpf this is: an edit anywhere, or another install, invalidates entries.

    Installed by pip, pybpf sits beside its ``dist-info`` directory, whose RECORD is written
    anew by every install: its (path, mtime, size) is enough, one stat. A source checkout
    (editable install, PYTHONPATH) is stamped with (path, mtime, size) of every module.
    """
    import pybpf

    package = os.path.dirname(pybpf.__file__)
    record = os.path.join(
        os.path.dirname(package), f"pybpf-{pybpf.__version__}.dist-info", "RECORD"
    )
    try:
        st = os.stat(record)
    except OSError:
        pass
    else:
        return [(record, st.st_mtime_ns, st.st_size)]
    out: list[tuple[str, int, int]] = []
    todo = [package]
    while todo:
        with os.scandir(todo.pop()) as it:
            for e in it:
                if e.name.endswith(".py"):
                    st = e.stat()
                    out.append((e.path, st.st_mtime_ns, st.st_size))
                elif e.is_dir() and e.name != "__pycache__":
                    todo.append(e.path)
    out.sort()
    return out


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def key(*inputs: object) -> str:
    """The key of a compilation of ``inputs`` (script, file name, options ...) here, now."""
    u = os.uname()
    # The boot id covers KASLR and tracepoint ids; the module list (names and load
    # addresses) covers a module loaded, or unloaded and loaded again, since: its
    # tracepoints get new ids, which a compiled script records.
    boot = _read("/proc/sys/kernel/random/boot_id").strip()
    machine = (
        FORMAT,
        sys.version,
        u.release,
        u.version,
        boot,
        _read("/proc/modules"),
        os.cpu_count(),
    )
    return repr((machine, inputs, _source_stamp()))


def cacheable(program: Any, script: CompiledScript) -> bool:
    """Whether ``script`` depends only on what :func:`key` covers.

    Not when a probe is a wildcard (its matches come from tracefs, kallsyms or a binary's
    symbols, which change without the kernel changing) or attaches in user space (the
    program embeds a binary's addresses and DWARF layouts, or a process's mappings)."""
    from pybpf.passes.expand import has_wildcard
    from pybpf.procs import PROVIDERS

    if any(p.provider in PROVIDERS or p.syscall_filter for p in script.progs):
        return False
    return not any(has_wildcard(ap.raw) for probe in program.probes for ap in probe.attach_points)


def _path(directory: str, k: str) -> str:
    data = k.encode("utf-8", "surrogateescape")
    return os.path.join(directory, f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.pickle")


def load(directory: str, k: str) -> tuple[CompiledScript, str] | None:
    """(script, the warnings its compilation printed) stored under ``k``, or None."""
    import pickle

    try:
        with open(_path(directory, k), "rb") as f:
            stored_key, warnings, script = pickle.load(f)
    except Exception:  # missing, truncated, from another version: compile instead
        return None
    if stored_key != k:  # two keys with one file name: the file holds the other one
        return None
    try:
        os.utime(_path(directory, k))  # recently used: trimmed last
    except OSError:
        pass
    return script, warnings


def store(directory: str, k: str, script: CompiledScript, warnings: str) -> None:
    """Keep ``script`` under ``k`` (atomically; best effort)."""
    import pickle

    path = _path(directory, k)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            pickle.dump((k, warnings, script), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        _trim(directory)
    except Exception:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _trim(directory: str) -> None:
    entries = [e for e in os.scandir(directory) if e.name.endswith(".pickle")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for e in entries[: len(entries) - MAX_ENTRIES]:
        try:
            os.unlink(e.path)
        except OSError:
            pass


__all__ = ["FORMAT", "MAX_ENTRIES", "cacheable", "directory", "key", "load", "store"]
