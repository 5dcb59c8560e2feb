"""Program loading, verifier errors, test runs, info and ids on the real kernel."""

from __future__ import annotations

import os
import struct
import subprocess
import sys

import pytest
from bpf_testprogs import count_by_pid, exit_, mov

from pybpf.asm import Insn, encode
from pybpf.bpf import Map, MapSpec, MapType, Program, ProgSpec, ProgType
from pybpf.bpf.btfload import BtfLoadError, load_btf
from pybpf.bpf.info import ObjKind, btf_info, enable_stats, fd_by_id, gone, ids, prog_info
from pybpf.bpf.prog import load_all
from pybpf.errors import VerifierError

pytestmark = pytest.mark.kernel

RET7 = (mov(0, 7), exit_())


def test_load_info_and_ids() -> None:
    with Map.create(MapSpec(MapType.HASH, 4, 8, 8)) as m:
        spec = ProgSpec(ProgType.TRACEPOINT, count_by_pid(m.fd), name="counter")
        with Program.load(spec) as p:
            info = p.info(xlated=True)
            assert info.type == ProgType.TRACEPOINT
            assert info.name == "counter"
            assert info.map_ids == (m.id,)
            assert info.xlated is not None and len(info.xlated) == info.xlated_prog_len
            assert len(info.tag) == 16
            assert p.id in set(ids(ObjKind.PROG))
            with fd_by_id(ObjKind.PROG, p.id) as other:
                assert prog_info(other.fd).tag == info.tag
            pid = p.id
    assert gone(ObjKind.PROG, pid)


def test_xlated_code_of_a_trivial_program_is_ours() -> None:
    with Program.load(ProgSpec(ProgType.SOCKET_FILTER, RET7)) as p:
        assert p.info(xlated=True).xlated == encode(RET7)


def test_verifier_rejection_carries_the_log() -> None:
    bad = ProgSpec(ProgType.SOCKET_FILTER, [exit_()], name="bad")  # r0 never set
    with pytest.raises(VerifierError) as ei:
        Program.load(bad)
    err = ei.value
    assert "R0 !read_ok" in err.log
    assert err.last_line == "R0 !read_ok"
    assert str(err) == "load program bad: verifier rejected it: R0 !read_ok"
    assert "\n" not in str(err)


def test_out_of_bounds_read_is_rejected_with_log() -> None:
    # r0 = *(u64 *)(r10 + 8): above the frame pointer.
    spec = ProgSpec(ProgType.SOCKET_FILTER, [Insn(0x79, 0, 10, 8, 0), exit_()])
    with pytest.raises(VerifierError) as ei:
        Program.load(spec)
    assert "invalid" in ei.value.log and "stack" in ei.value.log


def test_stats_log_processed_insns() -> None:
    with Program.load(ProgSpec(ProgType.SOCKET_FILTER, RET7), stats=True) as p:
        assert "processed 2 insns" in p.verifier_log
        assert p.processed_insns == 2
    with Program.load(ProgSpec(ProgType.SOCKET_FILTER, RET7)) as p:
        assert p.verifier_log == ""
        assert p.processed_insns == 2  # from bpf_prog_info.verified_insns


def test_test_run_and_run_stats() -> None:
    # xdp: return XDP_PASS (2) and leave the packet alone.
    with Program.load(ProgSpec(ProgType.XDP, (mov(0, 2), exit_()))) as p:
        packet = bytes(range(64))
        with enable_stats():
            res = p.test_run(packet, repeat=5)
            info = p.info()
        assert res.retval == 2
        assert res.data_out == packet
        assert info.run_cnt >= 5


def test_load_all_closes_on_failure() -> None:
    before = set(ids(ObjKind.PROG))
    with pytest.raises(VerifierError):
        load_all(
            [ProgSpec(ProgType.SOCKET_FILTER, RET7), ProgSpec(ProgType.SOCKET_FILTER, [exit_()])]
        )
    for pid in set(ids(ObjKind.PROG)) - before:
        assert gone(ObjKind.PROG, pid)


def test_unprivileged_load_says_run_as_root() -> None:
    code = (
        "import os\n"
        "from pybpf.bpf import Program, ProgSpec, ProgType\n"
        "from pybpf.asm import Insn\n"
        "from pybpf.errors import PrivilegeError\n"
        "os.setgid(65534); os.setuid(65534)  # after the imports: /root is not readable\n"
        "try:\n"
        "    Program.load(ProgSpec(ProgType.TRACEPOINT, [Insn(0xb7), Insn(0x95)]))\n"
        "except PrivilegeError as e:\n"
        "    print('PRIV', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
    assert out.stdout.startswith("PRIV load program tracepoint: permission denied (run as root")


def _btf(types: bytes, strings: bytes) -> bytes:
    hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return hdr + types + strings


def test_btf_load_and_info() -> None:
    # One type: INT "int", 4 bytes, signed 32 bits.
    int_t = struct.pack("<III", 1, 1 << 24, 4) + struct.pack("<I", (1 << 24) | 32)
    raw = _btf(int_t, b"\0int\0")
    with load_btf(raw) as fd:
        info = btf_info(fd.fd, data=True)
        assert info.data == raw
        assert not info.kernel_btf
        bid = info.id
    assert gone(ObjKind.BTF, bid)


def test_btf_rejection_carries_log() -> None:
    bad = struct.pack("<III", 1, 1 << 24, 4) + struct.pack("<I", (1 << 24) | 99)  # 99 bits
    with pytest.raises(BtfLoadError) as ei:
        load_btf(_btf(bad, b"\0int\0"))
    assert ei.value.log
    assert str(ei.value).startswith("load BTF: kernel rejected it: ")


def test_adopt_by_id() -> None:
    with Map.create(MapSpec(MapType.HASH, 4, 8, 8, name="adopt")) as m:
        with Program.load(ProgSpec(ProgType.TRACEPOINT, count_by_pid(m.fd), name="adoptee")) as p:
            with Program.from_id(p.id) as q:
                assert q.spec.type == ProgType.TRACEPOINT
                assert q.spec.name == "adoptee"
                assert q.info().tag == p.info().tag
            with Map.from_id(m.id) as n:
                assert n.spec == MapSpec(MapType.HASH, 4, 8, 8, name="adopt")
                n.update(b"abcd", b"12345678")
                assert m.lookup(b"abcd") == b"12345678"  # the same kernel map


def test_big_program_log_grows() -> None:
    with Map.create(MapSpec(MapType.HASH, 4, 8, 8)) as m:
        spec = ProgSpec(ProgType.TRACEPOINT, count_by_pid(m.fd))
        with Program.load(spec, log_level=2, log_size=256) as p:
            assert len(p.verifier_log) > 256
            assert "processed" in p.verifier_log


def test_stats_sysctl_reads_the_proc_file() -> None:
    from pybpf.bpf.info import stats_sysctl

    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        assert stats_sysctl() == (f.read().strip() == "1")
