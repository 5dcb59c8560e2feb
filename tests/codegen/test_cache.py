"""The compiled-script cache: hits skip compilation and give the same programs; anything
the key does not cover is never stored; a bad entry or directory is never an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pybpf.cli import pybpftrace as cli
from pybpf.codegen import cache

SCRIPT = 'BEGIN { @a[1, "x"] = count(); printf("%d %s\\n", 7, "y"); exit(); }'


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(d))
    return d


def _entries(d: Path) -> list[Path]:
    return sorted(d.glob("*.pickle")) if d.exists() else []


def _compile(text: str, params: list[str] | None = None, warn: bool = False) -> Any:
    return cli.compile_script(text, "stdin", params or [], False, warn=warn)


def _fingerprint(script: Any) -> Any:
    progs = [
        (p.name, p.prog_type, p.attach, [i.encode() for i in p.code.insns]) for p in script.progs
    ]
    maps = {k: (m.kind, m.key_size, m.value_size, m.max_entries) for k, m in script.maps.items()}
    return progs, maps, script.print_order, script.probe_names


def test_second_compile_comes_from_the_cache(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = _compile(SCRIPT)
    assert len(_entries(cache_dir)) == 1
    import pybpf.codegen.script as gen

    def fail(*a: object, **k: object) -> None:
        raise AssertionError("compiled again instead of using the cache")

    monkeypatch.setattr(gen, "generate", fail)
    warm = _compile(SCRIPT)
    assert _fingerprint(warm) == _fingerprint(cold)
    assert warm.source == SCRIPT


def test_warnings_are_printed_again_from_the_cache(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # bpftrace 0.17's probe-wide variable: accepted with a warning.
    text = 'BEGIN { if (1) { $x = 1; } printf("%d\\n", $x); exit(); }'
    _compile(text, warn=True)
    first = capsys.readouterr().err
    assert "WARNING" in first
    _compile(text, warn=True)
    assert capsys.readouterr().err == first
    _compile(text, warn=False)
    assert capsys.readouterr().err == ""


def test_inputs_are_part_of_the_key(cache_dir: Path) -> None:
    text = 'BEGIN { printf("%s\\n", str($1)); exit(); }'
    _compile(text, ["a"])
    _compile(text, ["b"])
    assert len(_entries(cache_dir)) == 2
    k1 = cache.key(text, "stdin", ("a",), False, 0, 1024, None)
    assert k1 != cache.key(text, "stdin", ("a",), True, 0, 1024, None)  # --unsafe
    assert k1 != cache.key(text, "stdin", ("a",), False, 0, 64, None)  # max_strlen


def test_an_edit_to_pybpf_invalidates(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    k = cache.key(SCRIPT)
    stamp = cache._source_stamp()
    assert any(p.endswith(os.path.join("codegen", "cache.py")) for p, _, _ in stamp)
    monkeypatch.setattr(cache, "_source_stamp", lambda: [*stamp[:-1], (stamp[-1][0], 1, 1)])
    assert cache.key(SCRIPT) != k


def test_the_boot_and_the_modules_are_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A module loaded again gets new tracepoint ids, which compiled scripts record.
    real = cache._read
    k = cache.key(SCRIPT)
    monkeypatch.setattr(
        cache, "_read", lambda p: "m 1 0 - Live 0xffff\n" if "modules" in p else real(p)
    )
    assert cache.key(SCRIPT) != k
    monkeypatch.setattr(cache, "_read", lambda p: "other-boot" if "boot_id" in p else real(p))
    assert cache.key(SCRIPT) != k


def test_an_installed_pybpf_is_stamped_by_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pybpf

    (tmp_path / "pybpf").mkdir()
    info = tmp_path / f"pybpf-{pybpf.__version__}.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("pybpf/__init__.py,,\n")
    monkeypatch.setattr(pybpf, "__file__", str(tmp_path / "pybpf" / "__init__.py"))
    stamp = cache._source_stamp()
    assert [p for p, _, _ in stamp] == [str(info / "RECORD")]
    k = cache.key(SCRIPT)
    (info / "RECORD").write_text("pybpf/__init__.py,,\npybpf/x.py,,\n")  # reinstalled
    assert cache.key(SCRIPT) != k


@pytest.mark.parametrize(
    "text",
    [
        "tracepoint:sched:sched_wak* { @ = count(); }",  # a wildcard reads tracefs
        "tracepoint:syscalls:sys_enter_get* { @ = count(); }",  # syscall table too
        "uprobe:/bin/sh:main { @ = count(); }",  # addresses from a binary
    ],
)
def test_machine_dependent_scripts_are_not_stored(cache_dir: Path, text: str) -> None:
    _compile(text)
    assert _entries(cache_dir) == []


def test_a_damaged_entry_is_compiled_again(cache_dir: Path) -> None:
    cold = _compile(SCRIPT)
    (entry,) = _entries(cache_dir)
    entry.write_bytes(b"not a pickle")
    again = _compile(SCRIPT)
    assert _fingerprint(again) == _fingerprint(cold)
    assert entry.read_bytes() != b"not a pickle"  # stored afresh


def test_a_directory_others_can_write_is_not_used(cache_dir: Path) -> None:
    cache_dir.mkdir(mode=0o700)
    os.chmod(cache_dir, 0o777)
    assert cache.directory() is None
    _compile(SCRIPT)
    assert _entries(cache_dir) == []


def test_empty_setting_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYBPF_CACHE_DIR", "")
    assert cache.directory() is None


def test_many_entries_are_trimmed(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for i in range(5):
        _compile(f'BEGIN {{ printf("{i}\\n"); exit(); }}')
    assert len(_entries(cache_dir)) == 3


@pytest.mark.kernel
def test_cached_run_prints_the_same(cache_dir: Path) -> None:
    text = (
        'BEGIN { @h = hist(5); @h = hist(500); @s[comm] = sum(3); printf("%s-%d\\n", "a", 2); '
        "exit(); }"
    )
    cmd = [sys.executable, "-m", "pybpftrace", "-e", text]
    runs = [subprocess.run(cmd, capture_output=True, text=True, timeout=60) for _ in range(2)]
    assert len(_entries(cache_dir)) == 1
    assert runs[0].returncode == runs[1].returncode == 0, runs[0].stderr + runs[1].stderr
    assert runs[0].stdout == runs[1].stdout
    assert "a-2" in runs[0].stdout and "@h:" in runs[0].stdout
