"""Kernel-object lookalikes backed by the VM, for running tracer programs without a kernel.

:class:`VMBackend` offers what the tracer session takes from ``pybpf.bpf``: maps with the
:class:`~pybpf.bpf.maps.Map` methods (``lookup``, ``update``, ``delete``, ``keys``,
``items``, ``next_key``, ``fd``, ``close``), programs with ``test_run`` (loaded through
our verifier first, whose :class:`~pybpf.verifier.VerifyError` is a ``VerifierError``
carrying the failing instruction's span), and a ring buffer reader with ``consume``,
``poll``, ``read`` and ``close``. A session that builds its objects through a backend
(``pybpftrace --vm``) can run BEGIN/END probes and anything it triggers with ``test_run``
entirely in userspace; kernel events never fire there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pybpf.bpf.cpus import num_possible_cpus
from pybpf.bpf.maps import MapSpec
from pybpf.bpf.prog import ProgSpec, TestRun
from pybpf.errors import UsageError
from pybpf.verifier import MapInfo, VerifyError, verify
from pybpf.vm.engine import Program
from pybpf.vm.machine import Env, Machine
from pybpf.vm.maps import ArrayMap, HashMap, RingBuf, VMMap

_VERIFY_TYPES = {1: "socket_filter", 2: "kprobe", 5: "tracepoint", 6: "xdp", 7: "perf_event",
                 17: "raw_tracepoint"}  # fmt: skip


class HostedMap:
    """A VM map behind the ``pybpf.bpf.maps.Map`` interface."""

    def __init__(self, fd: int, vmmap: VMMap, spec: MapSpec) -> None:
        self.fd = fd
        self.vmmap = vmmap
        self.spec = spec
        self.closed = False

    def lookup(self, key: bytes | None, flags: int = 0) -> bytes | list[bytes] | None:
        """The value (a list per CPU for per-CPU maps), or None."""
        m = self.vmmap
        if isinstance(m, HashMap | ArrayMap):
            return m.get(bytes(key or b""))
        raise UsageError(f"lookup is not supported on {type(m).__name__}")

    def update(self, key: bytes | None, value: bytes | Sequence[bytes], flags: int = 0) -> None:
        """Set a value (per-CPU maps take one value per CPU)."""
        m = self.vmmap
        k = bytes(key or b"")
        if isinstance(value, bytes | bytearray):
            rc = (
                m.update(k, bytes(value), flags, 0)
                if not _percpu(m)
                else _all_cpus(m, k, [bytes(value)] * m.ncpus, flags)
            )
        else:
            rc = _all_cpus(m, k, [bytes(v) for v in value], flags)
        if rc:
            raise UsageError(f"map update failed (errno {-rc})")

    def delete(self, key: bytes) -> bool:
        """True if the key existed."""
        return self.vmmap.delete(bytes(key)) == 0

    def keys(self) -> Iterator[bytes]:
        """Every key."""
        m = self.vmmap
        if isinstance(m, HashMap):
            yield from m.keys()
        elif isinstance(m, ArrayMap):
            for i in range(m.max_entries):
                yield i.to_bytes(4, "little")

    def items(self) -> Iterator[tuple[bytes, bytes | list[bytes]]]:
        """(key, value) pairs."""
        for k in list(self.keys()):
            v = self.lookup(k)
            if v is not None:
                yield k, v

    def next_key(self, key: bytes | None = None) -> bytes | None:
        """The key after ``key`` (the first key for None)."""
        ks = list(self.keys())
        if key is None:
            return ks[0] if ks else None
        try:
            i = ks.index(bytes(key))
        except ValueError:
            return ks[0] if ks else None
        return ks[i + 1] if i + 1 < len(ks) else None

    def close(self) -> None:
        """Nothing to release; kept for the interface."""
        self.closed = True


def _percpu(m: VMMap) -> bool:
    return bool(getattr(m, "percpu", False))


def _all_cpus(m: VMMap, key: bytes, values: list[bytes], flags: int) -> int:
    for cpu, v in enumerate(values[: m.ncpus]):
        rc = m.update(key, v, flags if cpu == 0 else 0, cpu)
        if rc:
            return rc
    return 0


class HostedProgram:
    """A verified program loaded into the VM, with the ``test_run`` of a kernel program."""

    def __init__(self, prog: Program, spec: ProgSpec) -> None:
        self.prog = prog
        self.spec = spec
        self.verifier_log = ""

    def test_run(self, data_in: bytes = b"", ctx_in: bytes | None = None, repeat: int = 1,
                 **extra: Any) -> TestRun:  # fmt: skip
        """Run once with r1 pointing at ``ctx_in`` (or ``data_in``); returns r0 (low 32 bits)."""
        buf = bytearray(ctx_in if ctx_in is not None else data_in)
        r0 = 0
        for _ in range(max(1, repeat)):
            r0 = self.prog.run(buf if buf else None)
        return TestRun(r0 & 0xFFFF_FFFF, bytes(data_in), 0, bytes(buf))

    def close(self) -> None:
        """Nothing to release; kept for the interface."""


class HostedRing:
    """Reader of a VM ring buffer with the ``pybpf.bpf.ringbuf.RingBuffer`` interface."""

    def __init__(self, m: HostedMap) -> None:
        if not isinstance(m.vmmap, RingBuf):
            raise UsageError("not a ring buffer map")
        self.rb = m.vmmap

    def consume(self, callback: Callable[[memoryview], object]) -> int:
        """Hand every pending record to ``callback``; returns how many."""
        recs = self.rb.drain()
        for r in recs:
            callback(memoryview(r))
        return len(recs)

    def poll(self, callback: Callable[[memoryview], object], timeout: float | None = None) -> int:
        """Records are there at once or never: same as :meth:`consume`."""
        return self.consume(callback)

    def read(self, timeout: float | None = 0) -> list[bytes]:
        """Pending records as bytes."""
        return self.rb.drain()

    def close(self) -> None:
        """Nothing to release; kept for the interface."""


class VMBackend:
    """One VM address space standing in for the kernel."""

    def __init__(self, env: Env | None = None, engine: str = "compiled") -> None:
        self.machine = Machine(env or Env(ncpus=num_possible_cpus()))
        self.engine = engine
        self.infos: dict[int, MapInfo] = {}

    def create_map(self, spec: MapSpec) -> HostedMap:
        """A map shaped like ``spec`` (hash, array, per-CPU, LRU, ring buffer, prog array)."""
        fd = self.machine.create_map(
            int(spec.type), spec.key_size, spec.value_size, spec.max_entries
        )
        self.infos[fd] = MapInfo(int(spec.type), spec.key_size, spec.value_size, spec.max_entries)
        return HostedMap(fd, self.machine.maps[fd], spec)

    def load_program(self, spec: ProgSpec) -> HostedProgram:
        """Verify ``spec``'s instructions with our verifier, then load them into the VM."""
        from pybpf.asm.insn import decode

        insns = list(spec.insns) if not isinstance(spec.insns, bytes) else decode(spec.insns)
        ptype = _VERIFY_TYPES.get(int(spec.type), "tracepoint")
        verdict = verify(insns, ptype, self.infos)
        if verdict.error is not None:
            raise VerifyError(verdict.error, "\n".join(verdict.log)).with_context(
                f"load program {spec.describe()}"
            )
        return HostedProgram(self.machine.load(insns, self.engine), spec)

    def ring_buffer(self, m: HostedMap) -> HostedRing:
        """The reader side of a ring buffer map."""
        return HostedRing(m)


__all__ = ["HostedMap", "HostedProgram", "HostedRing", "VMBackend"]
