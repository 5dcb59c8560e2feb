"""tracefs: mounting, listing tracepoints, and parsing their format files."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

import pytest

from pybpf import tracefs
from pybpf.errors import NotSupportedError


@pytest.fixture(scope="module")
def troot() -> str:
    try:
        return str(tracefs.root())
    except NotSupportedError as e:
        pytest.skip(f"no tracefs here: {e}")


def _raw_offsets(path: str) -> dict[str, tuple[int, int]]:
    """An independent reading of a format file: field name -> (offset, size)."""
    out = {}
    for m in re.finditer(r"field:([^;]*);\s*offset:(\d+);\s*size:(\d+);", Path(path).read_text()):
        decl = m.group(1).split("[")[0] if not m.group(1).startswith("__data_loc") else m.group(1)
        out[decl.split()[-1]] = (int(m.group(2)), int(m.group(3)))
    return out


def test_root_has_events(troot: str) -> None:
    assert glob.glob(f"{troot}/events/syscalls/sys_enter_*")


def test_openat_format(troot: str) -> None:
    fmt = tracefs.tracepoint_format("syscalls", "sys_enter_openat")
    own = [(f.name, f.offset) for f in fmt.own_fields]
    assert own == [("__syscall_nr", 8), ("dfd", 16), ("filename", 24), ("flags", 32), ("mode", 40)]
    raw = _raw_offsets(f"{troot}/events/syscalls/sys_enter_openat/format")
    assert {f.name: (f.offset, f.size) for f in fmt.fields} == raw
    fn = fmt.field("filename")
    assert fn.type == "const char *" and fn.is_pointer and not fn.is_array and fn.size == 8
    assert fmt.field("__syscall_nr").signed and fmt.field("__syscall_nr").size == 4
    commons = [f.name for f in fmt.fields if f.common]
    assert commons == ["common_type", "common_flags", "common_preempt_count", "common_pid"]
    assert fmt.id == tracefs.tracepoint_id("syscalls", "sys_enter_openat")


def test_data_loc_field(troot: str) -> None:
    fmt = tracefs.tracepoint_format("sched", "sched_process_exec")
    f = fmt.field("filename")
    assert f.data_loc and f.type == "char" and f.array_len == 0 and f.size == 4
    assert not fmt.field("pid").data_loc and fmt.field("pid").type == "pid_t"


def test_fixed_array_field(troot: str) -> None:
    f = tracefs.tracepoint_format("sched", "sched_switch").field("prev_comm")
    assert (f.type, f.array_len, f.size) == ("char", 16, 16)


def test_id_matches_file(troot: str) -> None:
    text = Path(f"{troot}/events/syscalls/sys_enter_getpid/id").read_text()
    assert tracefs.tracepoint_id("syscalls", "sys_enter_getpid") == int(text)


def test_list_tracepoints(troot: str) -> None:
    tps = tracefs.list_tracepoints()
    assert ("syscalls", "sys_enter_getpid") in tps
    dirs = {(p.split("/")[-3], p.split("/")[-2]) for p in glob.glob(f"{troot}/events/*/*/")}
    assert set(tps) == dirs and len(tps) == len(dirs)
    assert tps == sorted(tps)


def test_every_format_parses(troot: str) -> None:
    """Each field line of each format file becomes exactly one field (a sample of 300)."""
    for cat, name in tracefs.list_tracepoints()[::8]:
        path = f"{troot}/events/{cat}/{name}/format"
        fmt = tracefs.tracepoint_format(cat, name)
        assert len(fmt.fields) == Path(path).read_text().count("field:"), path
        assert all(f.name.isidentifier() for f in fmt.fields), path


def test_missing_tracepoint(troot: str) -> None:
    with pytest.raises(tracefs.TracepointNotFoundError, match="syscalls:nope not found"):
        tracefs.tracepoint_id("syscalls", "nope")
    with pytest.raises(LookupError):
        tracefs.tracepoint_format("nope", "nope")
    with pytest.raises(tracefs.TracepointNotFoundError, match="bad name"):
        tracefs.tracepoint_format("..", "x/y")


SYNTHETIC = """name: demo
ID: 42
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;

\tfield:unsigned long args[];\toffset:8;\tsize:0;\tsigned:0;
\tfield:__rel_loc u8[] blob;\toffset:8;\tsize:4;\tsigned:0;
\tfield:__data_loc unsigned int[] lengths;\toffset:12;\tsize:4;\tsigned:0;
\tfield:char name[0x10];\toffset:16;\tsize:16;\tsigned:1;
\tfield:struct foo * p;\toffset:32;\tsize:8;

print fmt: "x=%d", REC->x
"""


def test_parse_synthetic() -> None:
    fmt = tracefs.parse_format(SYNTHETIC, "cat")
    assert (fmt.category, fmt.name, fmt.id) == ("cat", "demo", 42)
    by = {f.name: f for f in fmt.fields}
    assert by["args"].array_len == 0 and by["args"].type == "unsigned long"
    assert by["blob"].rel_loc and not by["blob"].data_loc and by["blob"].type == "u8"
    assert by["lengths"].data_loc and by["lengths"].type == "unsigned int"
    assert by["name"].array_len == 16 and by["name"].signed
    assert by["p"].type == "struct foo *" and by["p"].is_pointer and not by["p"].signed
    assert fmt.print_fmt == '"x=%d", REC->x'
    assert fmt.size == 40
    assert [f.name for f in fmt.own_fields] == ["args", "blob", "lengths", "name", "p"]


def test_unprivileged_gets_one_clear_error(troot: str) -> None:
    """As 'nobody', tracefs is mounted but unreadable: a PrivilegeError, not a mount attempt."""
    import subprocess
    import sys

    code = (
        "from pybpf import tracefs\n"
        "from pybpf.errors import PybpfError\n"
        "try:\n"
        "    tracefs.root()\n"
        "except PybpfError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    p = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True, text=True, env={"PYTHONPATH": str(Path(tracefs.__file__).parents[1])},
    )  # fmt: skip
    assert p.stdout.startswith(
        "PrivilegeError tracefs at /sys/kernel/tracing: permission denied"
    ), p.stdout + p.stderr


@pytest.fixture
def fresh_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracefs, "_root", None)


@pytest.mark.usefixtures("troot", "fresh_root")
def test_root_mounts_when_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no tracefs found anywhere, root() mounts one at the first candidate."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    target = tmp_path / "tracing"
    target.mkdir()
    monkeypatch.setattr(tracefs, "_CANDIDATES", (target,))
    monkeypatch.setattr(tracefs, "_mounted_elsewhere", lambda: None)
    try:
        assert tracefs.root() == str(target)
        assert os.path.ismount(target) and (target / "events" / "syscalls").is_dir()
        assert tracefs.tracepoint_id("syscalls", "sys_enter_getpid") > 0
    finally:
        subprocess.run(["umount", str(target)], check=False)
        monkeypatch.setattr(tracefs, "_root", None)


@pytest.mark.usefixtures("troot", "fresh_root")
def test_root_finds_other_mounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing at the usual places, but tracefs mounted elsewhere: that one is used."""
    monkeypatch.setattr(tracefs, "_CANDIDATES", (tmp_path / "none",))
    found = tracefs.root()
    assert isinstance(found, str)  # plain paths: no pathlib on the tracer's start-up path
    assert os.path.isdir(os.path.join(found, "events")) and found != str(tmp_path / "none")


@pytest.mark.usefixtures("fresh_root")
def test_root_missing_mount_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracefs, "_CANDIDATES", (tmp_path / "missing",))
    monkeypatch.setattr(tracefs, "_mounted_elsewhere", lambda: None)
    with pytest.raises(NotSupportedError, match="tracefs is not supported by this kernel"):
        tracefs.root()
