"""Map reads at print time: ``BPF_MAP_LOOKUP_BATCH`` where the kernel allows it, key by
key where the map type refuses, and the same printed output either way (real maps, and
whole pybpftrace runs)."""

from __future__ import annotations

import errno
import os
import struct
import subprocess
import sys
from typing import Any

import pytest

from pybpf.bpf.cpus import num_possible_cpus
from pybpf.bpf.maps import Map, MapSpec, MapType
from pybpf.codegen.script import generate
from pybpf.errors import KernelError
from pybpf.passes.pipeline import compile_frontend
from pybpf.runtime import mapread

pytestmark = pytest.mark.kernel


@pytest.fixture(autouse=True)
def _fresh() -> object:
    mapread._unbatched.clear()
    yield
    mapread._unbatched.clear()


def _mapdef(script: str) -> object:
    return generate(compile_frontend(script, "t").program).maps["@"]


def _fill(m: Map, n: int, value: bytes) -> None:
    m.update_batch([(struct.pack("<Q", i).ljust(m.spec.key_size, b"\0"), value)
                    for i in range(n)])  # fmt: skip


def _per_key(m: Map) -> list[tuple[bytes, object]]:
    return list(m.items())


@pytest.mark.parametrize("kind", [MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH])
def test_batched_entries_equal_the_key_walk(kind: MapType) -> None:
    with Map.create(MapSpec(kind, 8, 16, 5000, name="t")) as m:
        _fill(m, 3000, struct.pack("<QQ", 7, 9))
        got = mapread.entries(m)
        assert isinstance(got, list)  # one batch read, not the lazy key walk
        assert got == _per_key(m) and len(got) == 3000
        assert int(kind) not in mapread._unbatched


def test_array_maps_batch_too() -> None:
    with Map.create(MapSpec(MapType.PERCPU_ARRAY, 4, 8, 10, name="t")) as m:
        m.update(struct.pack("<I", 3), struct.pack("<Q", 5))
        got = mapread.entries(m)
        assert isinstance(got, list) and got == _per_key(m) and len(got) == 10


def test_map_type_without_batch_falls_back() -> None:
    # Stack-trace maps have no batch operations: the kernel answers ENOTSUPP.
    with Map.create(MapSpec(MapType.STACK_TRACE, 4, 64, 16, name="t")) as m:
        assert list(mapread.entries(m)) == []
        assert int(MapType.STACK_TRACE) in mapread._unbatched


class _OldKernelMap(Map):
    """A real hash map on a kernel that rejects the batch command (EINVAL)."""

    calls = 0

    def lookup_batch(self, delete: bool = False, chunk: int = 64) -> list[tuple[bytes, Any]]:
        _OldKernelMap.calls += 1
        raise KernelError("map t: batch lookup: invalid argument", errno.EINVAL)


def test_refused_batch_walks_the_keys_and_remembers() -> None:
    with Map.create(MapSpec(MapType.HASH, 8, 8, 64, name="t")) as real:
        m = _OldKernelMap(real._fd, real.spec)
        _fill(m, 40, struct.pack("<Q", 1))
        assert sorted(mapread.entries(m)) == sorted(_per_key(m)) and len(_per_key(m)) == 40
        assert len(list(mapread.entries(m))) == 40
        assert _OldKernelMap.calls == 1  # the type is walked key by key from then on


def test_other_errors_are_raised() -> None:
    class Broken(Map):
        def lookup_batch(self, delete: bool = False, chunk: int = 64) -> list[Any]:
            raise KernelError("map t: batch lookup: bad file descriptor", errno.EBADF)

    with Map.create(MapSpec(MapType.HASH, 8, 8, 4, name="t")) as real:
        with pytest.raises(KernelError, match="bad file descriptor"):
            mapread.entries(Broken(real._fd, real.spec))


def test_read_map_same_data_either_way() -> None:
    d = _mapdef("BEGIN { @[1] = count(); }")
    with Map.create(MapSpec(MapType[d.kind.upper()], d.key_size, d.value_size, 20000,  # type: ignore[attr-defined]
                            name="t")) as m:  # fmt: skip
        _fill(m, 10000, struct.pack("<Q", 3))
        batched = mapread.read_map(d, m)  # type: ignore[arg-type]
        mapread._unbatched.add(int(m.spec.type))
        walked = mapread.read_map(d, m)  # type: ignore[arg-type]
    assert batched.entries == walked.entries and len(batched.entries) == 10000
    ncpu = num_possible_cpus() if d.per_cpu else 1  # type: ignore[attr-defined]
    assert {v for _, v in batched.entries} == {3 * ncpu}


_PER_KEY = (
    "import sys; from pybpf.runtime import mapread; mapread._unbatched.update(range(64)); "
    "from pybpf.cli.pybpftrace import main; sys.argv[0] = 'pybpftrace'; sys.exit(main())"
)

SCRIPT = (
    "config = { max_map_keys = 8000 } BEGIN { $i = 0; while ($i < 3000) { "
    "@[$i % 1500, $i] = $i * 7 % 11; @h = hist($i); @c[$i % 17] = count(); $i++; } exit(); }"
)


def test_pybpftrace_output_identical_batched_or_not() -> None:
    env = dict(os.environ)
    args = ["-e", SCRIPT]
    fast = subprocess.run([sys.executable, "-m", "pybpf.cli.pybpftrace", *args],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    slow = subprocess.run([sys.executable, "-c", _PER_KEY, *args],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert fast.returncode == 0, fast.stderr
    assert slow.returncode == 0, slow.stderr
    assert fast.stdout == slow.stdout
    assert fast.stdout.count("\n@[") == 3000 and "@c[16]: 176" in fast.stdout
