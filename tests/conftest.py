"""Shared fixtures: root/kernel detection and the per-test leak check for kernel objects."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Compiled scripts are cached per test session (and inherited by the pybpftrace processes
# the tests start): a script is compiled cold the first time the suite meets it, and runs
# from the cache after that, so both paths run; nothing outside the session is read.
if "PYBPF_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="pybpf-test-cache-")
    os.environ["PYBPF_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, True)

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The team's shared folder (conformance suite, bench harness), beside the checkout."""

_KINDS = (
    "anon_inode:bpf-prog",
    "anon_inode:bpf-map",
    "anon_inode:bpf_link",
    "anon_inode:[perf_event]",
    "anon_inode:bpf-link",
)


def kernel_fds() -> set[tuple[int, str]]:
    """(fd, kind) of every BPF program, map, link and perf event this process holds."""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(_KINDS):
            out.add((int(fd), target))
    return out


def is_root() -> bool:
    """True when the tests may load BPF programs."""
    return os.geteuid() == 0


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fail the test if it leaves BPF or perf fds open in this process."""
    before = kernel_fds()
    yield
    import gc

    gc.collect()
    leaked = kernel_fds() - before
    assert not leaked, f"kernel objects left open: {sorted(leaked)}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Kernel tests get the leak check; without root they cannot run at all."""
    for item in items:
        if "kernel" in item.keywords:
            item.fixturenames.append("no_leaks")  # type: ignore[attr-defined]
            if not is_root():
                item.add_marker(pytest.mark.skip(reason="needs root to load BPF programs"))
