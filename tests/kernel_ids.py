"""Leak check by kernel object id, for kernel tests (issue 2: "by id, before and after").

``tests/conftest.py``'s ``no_leaks`` checks that no BPF/perf *fds* stay open in the test
process. This checks the stronger thing: every program, map, link and BTF object the test
*created* has left the kernel afterwards -- a program attached through a mechanism that
holds its own reference (a netdev, a pin) would pass the fd check and fail this one.

While a kernel test runs, every :class:`pybpf.bpf.fd.Fd` opened in this process is looked
up in ``/proc/self/fdinfo`` for its object id; ids that did not exist when the test began
are the test's own (objects adopted by id from elsewhere are excluded), and each must be
gone (the kernel frees asynchronously, so :func:`pybpf.bpf.info.gone` waits a little).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pybpf.bpf.fd import Fd
from pybpf.bpf.info import ObjKind, gone, ids

_FIELDS = {"prog_id": ObjKind.PROG, "map_id": ObjKind.MAP, "link_id": ObjKind.LINK,
           "btf_id": ObjKind.BTF}  # fmt: skip


def fd_object(fd: int) -> tuple[ObjKind, int] | None:
    """(kind, id) of the BPF object behind ``fd``, from fdinfo; None for other fds."""
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            for line in f:
                key, _, value = line.partition(":")
                kind = _FIELDS.get(key)
                if kind is not None:
                    return kind, int(value)
    except OSError:
        pass
    return None


@pytest.fixture(autouse=True)
def kernel_objects_gone(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """For tests marked ``kernel``: everything they created is gone afterwards, by id."""
    if request.node.get_closest_marker("kernel") is None:
        yield
        return
    before = {kind: set(ids(kind)) for kind in ObjKind}
    created: list[tuple[ObjKind, int]] = []
    original = Fd.__init__

    def recording_init(self: Fd, fd: int, kind: str = "fd") -> None:
        original(self, fd, kind)
        obj = fd_object(fd)
        if obj is not None and obj[1] not in before[obj[0]]:
            created.append(obj)

    monkeypatch.setattr(Fd, "__init__", recording_init)
    yield
    monkeypatch.undo()
    import gc

    gc.collect()  # the fd check's backstop too: finalisers of dropped owners run now
    left = sorted({(k.name, i) for k, i in created if not gone(k, i)})
    assert not left, f"kernel objects created by the test still exist: {left}"
