"""Loading BTF from files: the ELF .BTF section, and the on-disk index cache."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pybpf import btf
from pybpf.btf import index
from pybpf.btf.raw import dump_raw

DATA = Path(__file__).resolve().parents[1] / "testdata" / "btf"


def test_elf_btf_section(tmp_path: Path) -> None:
    obj = tmp_path / "with_btf"
    shutil.copyfile("/bin/true", obj)
    subprocess.run(
        ["objcopy", "--add-section", f".BTF={DATA / 'synthetic.btf'}", str(obj)], check=True
    )
    from_elf = btf.load(obj)
    raw = btf.Spec((DATA / "synthetic.btf").read_bytes())
    assert list(dump_raw(from_elf)) == list(dump_raw(raw))
    assert from_elf.find("demo", btf.Kind.STRUCT) == raw.find("demo", btf.Kind.STRUCT)


@pytest.fixture
def kernel_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    dst = tmp_path / "vmlinux.btf"
    shutil.copyfile(btf.VMLINUX_PATH, dst)
    return dst


def test_index_cache_written_and_used(kernel_copy: Path, tmp_path: Path) -> None:
    first = btf.Spec.from_file(kernel_copy)
    files = list((tmp_path / "cache" / "pybpf").glob("btf-*.idx"))
    assert len(files) == 1
    second = btf.Spec.from_file(kernel_copy)
    assert second._offs == first._offs and second._names == first._names
    uncached = btf.Spec.from_file(kernel_copy, cache=False)
    assert uncached._offs == first._offs
    tid = second.find("task_struct", btf.Kind.STRUCT)
    assert second.type(tid) == btf.vmlinux().type(
        btf.vmlinux().find("task_struct", btf.Kind.STRUCT)
    )


def test_stale_cache_rebuilt(kernel_copy: Path, tmp_path: Path) -> None:
    btf.Spec.from_file(kernel_copy)
    (idx,) = (tmp_path / "cache" / "pybpf").glob("btf-*.idx")
    before = idx.read_bytes()
    # Same path, different content (a different kernel): the key must not match.
    kernel_copy.write_bytes((DATA / "synthetic.btf").read_bytes())
    spec = btf.Spec.from_file(kernel_copy)
    assert len(spec) == len(btf.Spec((DATA / "synthetic.btf").read_bytes()))
    assert idx.read_bytes() != before


def test_corrupt_cache_ignored(kernel_copy: Path, tmp_path: Path) -> None:
    btf.Spec.from_file(kernel_copy)
    (idx,) = (tmp_path / "cache" / "pybpf").glob("btf-*.idx")
    idx.write_bytes(idx.read_bytes()[:1000])
    spec = btf.Spec.from_file(kernel_copy)
    assert len(spec) == len(btf.vmlinux())
    idx.write_bytes(b"garbage")
    assert len(btf.Spec.from_file(kernel_copy)) == len(btf.vmlinux())


def test_unwritable_cache_dir(kernel_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/proc/no/such/dir")
    assert len(btf.Spec.from_file(kernel_copy)) == len(btf.vmlinux())


def test_cache_key_covers_content(kernel_copy: Path) -> None:
    st = os.stat(kernel_copy)
    data = kernel_copy.read_bytes()
    k1 = index._cache_key(str(kernel_copy), st, data)
    k2 = index._cache_key(str(kernel_copy), st, data[:-1] + bytes([data[-1] ^ 1]))
    assert k1 != k2
