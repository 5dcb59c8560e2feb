"""Map CRUD on the real kernel for every supported map type, per-CPU values, batch ops."""

from __future__ import annotations

import struct

import pytest

from pybpf.bpf import Map, MapSpec, MapType, UpdateFlag
from pybpf.bpf.cpus import num_possible_cpus
from pybpf.bpf.info import ObjKind, gone, map_info
from pybpf.errors import KernelError, UsageError

pytestmark = pytest.mark.kernel


def k(i: int) -> bytes:
    return struct.pack("<I", i)


def v(i: int) -> bytes:
    return struct.pack("<Q", i)


@pytest.mark.parametrize("mtype", [MapType.HASH, MapType.LRU_HASH])
def test_hash_crud(mtype: MapType) -> None:
    with Map.create(MapSpec(mtype, 4, 8, 64, name="crud")) as m:
        assert m.lookup(k(1)) is None
        m.update(k(1), v(10))
        m.update(k(2), v(20), UpdateFlag.NOEXIST)
        assert m.lookup(k(1)) == v(10)
        with pytest.raises(KernelError) as ei:
            m.update(k(2), v(99), UpdateFlag.NOEXIST)
        assert "file exists" in str(ei.value)
        m.update(k(2), v(21), UpdateFlag.EXIST)
        assert dict(m.items()) == {k(1): v(10), k(2): v(21)}
        assert sorted(m.keys()) == [k(1), k(2)]
        assert m.delete(k(1)) is True
        assert m.delete(k(1)) is False
        assert m.lookup_and_delete(k(2)) == v(21)
        assert list(m.keys()) == []
        info = map_info(m.fd)
        assert (info.type, info.key_size, info.value_size, info.max_entries, info.name) == (
            mtype, 4, 8, 64, "crud",
        )  # fmt: skip


def test_array_crud_and_freeze() -> None:
    with Map.create(MapSpec(MapType.ARRAY, 4, 8, 4)) as m:
        assert [m.lookup(k(i)) for i in range(4)] == [v(0)] * 4  # arrays start zeroed
        m.update(k(3), v(7))
        assert m.lookup(k(3)) == v(7)
        assert m.lookup(k(4)) is None  # out of range
        assert list(m.keys()) == [k(i) for i in range(4)]
        with pytest.raises(KernelError):
            m.delete(k(0))
        m.freeze()
        with pytest.raises(KernelError) as ei:
            m.update(k(0), v(1))
        assert ei.value.errno == 1  # EPERM: frozen for user space
        assert m.lookup(k(3)) == v(7)


@pytest.mark.parametrize(
    "mtype", [MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH]
)
def test_percpu_values_are_lists(mtype: MapType) -> None:
    n = num_possible_cpus()
    with Map.create(MapSpec(mtype, 4, 4, 8)) as m:
        per_cpu = [struct.pack("<I", 100 + c) for c in range(n)]
        m.update(k(1), per_cpu)
        assert m.lookup(k(1)) == per_cpu
        view = m.view("<I", "<I")
        view[2] = 5  # one value written to every CPU
        assert view[2] == [5] * n
        view[3] = list(range(n))
        assert view[3] == list(range(n))
        with pytest.raises(UsageError):
            m.update(k(1), per_cpu[:1] * (n + 1))


def test_stack_trace_map() -> None:
    with Map.create(MapSpec(MapType.STACK_TRACE, 4, 8 * 127, 16)) as m:
        assert m.lookup(k(0)) is None
        assert list(m.keys()) == []
        # User space cannot insert stacks; only bpf_get_stackid can.
        with pytest.raises(KernelError):
            m.update(k(0), bytes(8 * 127))


def test_perf_event_array_and_ringbuf_create() -> None:
    with Map.create(MapSpec(MapType.PERF_EVENT_ARRAY, 4, 4, 2)) as m:
        assert map_info(m.fd).type == MapType.PERF_EVENT_ARRAY
        # Slots hold perf event fds (see PerfBuffer); user space cannot read them back.
        with pytest.raises(KernelError, match="not supported"):
            m.lookup(k(0))
        assert m.delete(k(0)) is False
        with pytest.raises(KernelError, match="bad file descriptor"):
            m.update(k(0), k(9999))
    with Map.create(MapSpec(MapType.RINGBUF, 0, 0, 4096)) as m:
        assert map_info(m.fd).max_entries == 4096
        with pytest.raises(KernelError):
            m.lookup(None)


@pytest.mark.parametrize("mtype", [MapType.HASH, MapType.PERCPU_HASH, MapType.ARRAY])
def test_batch_ops(mtype: MapType) -> None:
    n = 100
    with Map.create(MapSpec(mtype, 4, 8, 128)) as m:
        entries = [(k(i), v(i * 3)) for i in range(n)]
        assert m.update_batch(entries) == n
        got = dict(m.lookup_batch(chunk=16))
        expect: dict[bytes, object] = {
            key: ([val] * num_possible_cpus() if m.spec.per_cpu else val) for key, val in entries
        }
        if mtype == MapType.ARRAY:
            expect.update({k(i): v(0) for i in range(n, 128)})
        assert got == expect
        if mtype != MapType.ARRAY:
            assert m.delete_batch([k(i) for i in range(10)]) == 10
            drained = dict(m.lookup_batch(delete=True, chunk=8))
            assert len(drained) == n - 10
            assert list(m.keys()) == []


def test_view_is_a_mutable_mapping() -> None:
    with Map.create(MapSpec(MapType.HASH, 8, 16, 16)) as m:
        view = m.view("<Q", "<QQ")
        view[1] = (2, 3)
        view[4] = (5, 6)
        assert view[1] == (2, 3)
        assert len(view) == 2
        assert sorted(view) == [1, 4]
        del view[1]
        assert 1 not in view
        with pytest.raises(KeyError):
            view[1]
        with pytest.raises(KeyError):
            del view[1]
        assert view.items_decoded() == [(4, (5, 6))]


def test_map_is_freed_after_close() -> None:
    m = Map.create(MapSpec(MapType.HASH, 4, 4, 4))
    mid = m.id
    m.close()
    assert m.closed
    m.close()  # twice is harmless
    assert gone(ObjKind.MAP, mid)


def test_bad_sizes_are_clear_errors() -> None:
    with pytest.raises(UsageError, match="key is 3 bytes, expected 4"):
        with Map.create(MapSpec(MapType.HASH, 4, 4, 4)) as m:
            m.lookup(b"abc")
    with pytest.raises(KernelError, match="create map bad: invalid argument"):
        Map.create(MapSpec(MapType.HASH, 0, 4, 4, name="bad"))
