"""Run corpus programs through the kernel verifier and ours (needs root)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from tests.verifier.corpus import MAP_SHAPES, Entry, corpus, map_infos

from pybpf.bpf.maps import Map, MapSpec
from pybpf.bpf.prog import Program, ProgSpec
from pybpf.bpf.syscall import ProgType
from pybpf.errors import VerifierError
from pybpf.verifier import verify

KERNEL_TYPES = {
    "socket_filter": ProgType.SOCKET_FILTER,
    "xdp": ProgType.XDP,
    "tracepoint": ProgType.TRACEPOINT,
    "raw_tracepoint": ProgType.RAW_TRACEPOINT,
}


@dataclass
class Outcome:
    """Both verdicts for one entry."""

    entry: Entry
    kernel_ok: bool
    kernel_msg: str
    ours_ok: bool
    ours_msg: str


@contextmanager
def kernel_maps() -> Iterator[dict[str, int]]:
    """Create one map of each corpus shape; yield name -> fd; close them all after."""
    with ExitStack() as stack:
        fds = {}
        for name, (t, k, v, n) in MAP_SHAPES.items():
            m = stack.enter_context(Map.create(MapSpec(t, k, v, n, name=name)))
            fds[name] = m.fd
        yield fds


def kernel_verdict(entry: Entry) -> tuple[bool, str]:
    """(accepted, last line of the kernel log)."""
    spec = ProgSpec(KERNEL_TYPES[entry.prog_type], tuple(entry.insns), name="corpus")
    try:
        with Program.load(spec):
            return True, ""
    except VerifierError as e:
        return False, e.last_line or str(e)


def compare(entry: Entry, fds: dict[str, int]) -> Outcome:
    """Kernel and our verdicts for ``entry``."""
    k_ok, k_msg = kernel_verdict(entry)
    v = verify(entry.insns, entry.prog_type, map_infos(fds))
    return Outcome(entry, k_ok, k_msg, v.ok, v.error.message if v.error else "")


def compare_all() -> list[Outcome]:
    """Every corpus entry, both verdicts."""
    with kernel_maps() as fds:
        return [compare(e, fds) for e in corpus(fds)]


__all__ = ["KERNEL_TYPES", "Outcome", "compare", "compare_all", "kernel_maps", "kernel_verdict"]
