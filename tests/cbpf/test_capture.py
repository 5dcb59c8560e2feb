"""Live capture through the kernel socket filter (loopback and a veth pair between network
namespaces), pcap files that tcpdump opens, and reading them back."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pybpf.cbpf.pcap import PcapWriter, Record, read_pcap
from pybpf.cbpf.summary import summarize

from .netns import veth_pair
from .pktgen import ether, ipv4, mac, tcp, udp

PYBPF = [sys.executable, "-m", "pybpf.cli.pybpf"]
SENDER = """
import socket, sys, time
dst, port_ok, port_other = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(4):
    s.sendto(b"skip%d" % i, (dst, port_other))
    s.sendto(b"match%d" % i, (dst, port_ok))
    time.sleep(0.01)
"""


def _start(cmd: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "listening on ..." once the filter is in place
    assert line.startswith("listening on"), line
    return proc


def _payloads(path: Path) -> list[bytes]:
    with path.open("rb") as f:
        lt, _, recs = read_pcap(f)
        assert lt == 1
        return [r.data[42:] for r in recs]  # Ethernet + IPv4 + UDP headers


def test_pcap_roundtrip_and_summaries() -> None:
    pkts = [
        ether(mac("00:11:22:33:44:55"), mac("66:77:88:99:aa:bb"), 0x0800,
              ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1234, 80, 0x02))),
        ether(mac("00:11:22:33:44:55"), mac("66:77:88:99:aa:bb"), 0x0800,
              ipv4("10.0.0.1", "10.0.0.2", 17, udp(53, 5353, b"abcd"))),
    ]  # fmt: skip
    buf = io.BytesIO()
    w = PcapWriter(buf, 1)
    for n, p in enumerate(pkts):
        w.write(Record(1000.5 + n, p, len(p)))
    buf.seek(0)
    lt, snap, recs = read_pcap(buf)
    got = list(recs)
    assert (lt, snap) == (1, 262144)
    assert [r.data for r in got] == pkts
    assert got[1].ts == pytest.approx(1001.5)
    assert (
        summarize(pkts[0]) == "IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [S], seq 1, win 512, length 0"
    )
    assert summarize(pkts[1]) == "IP 10.0.0.1.53 > 10.0.0.2.5353: UDP, length 4"


@pytest.mark.kernel
def test_capture_loopback(tmp_path: Path) -> None:
    out = tmp_path / "lo.pcap"
    proc = _start([*PYBPF, "capture", "-i", "lo", "-c", "4", "-w", str(out), "--timeout", "20",
                   "udp dst port 40101"])  # fmt: skip
    subprocess.run([sys.executable, "-c", SENDER, "127.0.0.1", "40101", "40102"], check=True)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "4 packets captured" in err
    assert _payloads(out) == [b"match%d" % i for i in range(4)]
    if shutil.which("tcpdump"):
        r = subprocess.run(["tcpdump", "-n", "-r", str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("127.0.0.1.40101: UDP, length 6") == 4


@pytest.mark.kernel
def test_capture_veth_between_namespaces(tmp_path: Path) -> None:
    out = tmp_path / "veth.pcap"
    with veth_pair("cap") as v:
        proc = _start(["ip", "netns", "exec", v.b, *PYBPF, "capture", "-i", v.dev_b, "-c", "4",
                       "-w", str(out), "--timeout", "20", f"udp and src host {v.addr_a} and port 40201"])  # fmt: skip
        subprocess.run(["ip", "netns", "exec", v.a, sys.executable, "-c", SENDER, v.addr_b,
                        "40201", "40202"], check=True)  # fmt: skip
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert _payloads(out) == [b"match%d" % i for i in range(4)]


def test_read_file_applies_filter(tmp_path: Path) -> None:
    path = tmp_path / "in.pcap"
    with path.open("wb") as f:
        w = PcapWriter(f, 1)
        for port in (80, 53, 80):
            p = ether(mac("00:11:22:33:44:55"), mac("66:77:88:99:aa:bb"), 0x0800,
                      ipv4("10.0.0.1", "10.0.0.2", 17, udp(1000, port)))  # fmt: skip
            w.write(Record(time.time(), p, len(p)))
    r = subprocess.run([*PYBPF, "capture", "-r", str(path), "udp port 80"], capture_output=True,
                       text=True, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and all(ln.endswith("10.0.0.2.80: UDP, length 0") for ln in lines)


def test_capture_bad_expression_exits_1() -> None:
    r = subprocess.run([*PYBPF, "capture", "-i", "lo", "tcp port"], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("pybpf: ERROR: can't parse filter expression: syntax error")
    assert "Traceback" not in r.stderr


RAW_SENDER = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
s.bind((sys.argv[1], 0))
for frame in sys.argv[2:]:
    s.send(bytes.fromhex(frame))
"""


@pytest.mark.kernel
def test_capture_vlan_tagged_traffic_on_veth(tmp_path: Path) -> None:
    """Tagged frames arrive with the tag moved to metadata; the live filter tests it there
    and the pcap file gets it back (no 8021q module here, so the frames are sent raw)."""
    out = tmp_path / "vlan.pcap"

    def frame(vlans: tuple[int, ...], port: int, payload: bytes) -> bytes:
        return ether(mac("02:00:00:00:00:02"), mac("02:00:00:00:00:01"), 0x0800,
                     ipv4("10.232.10.1", "10.232.10.2", 17, udp(1234, port, payload)), vlans)  # fmt: skip

    frames = []
    for i in range(4):
        frames += [frame((10,), 40501, b"match%d" % i), frame((11,), 40501, b"other"),
                   frame((), 40501, b"untagged"), frame((10,), 40502, b"port")]  # fmt: skip
    with veth_pair("vlan") as v:
        proc = _start(["ip", "netns", "exec", v.b, *PYBPF, "capture", "-i", v.dev_b, "-c", "4",
                       "-w", str(out), "--timeout", "20", "vlan 10 and udp port 40501"])  # fmt: skip
        subprocess.run(["ip", "netns", "exec", v.a, sys.executable, "-c", RAW_SENDER, v.dev_a,
                        *(f.hex() for f in frames)], check=True)  # fmt: skip
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    with out.open("rb") as f:
        _, _, recs = read_pcap(f)
        got = [r.data for r in recs]
    assert got == [frame((10,), 40501, b"match%d" % i) for i in range(4)]
    if shutil.which("tcpdump"):
        r = subprocess.run(["tcpdump", "-n", "-e", "-r", str(out)], capture_output=True, text=True)
        assert r.stdout.count("vlan 10") == 4


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_summary_lines_match_tcpdump(tmp_path: Path) -> None:
    """Same text as ``tcpdump -n -S -r`` (ports chosen where tcpdump has no protocol decoder)."""
    from pybpf.cbpf.summary import timestamp

    from .pktgen import arp, icmp, ipv6

    m1, m2 = mac("00:11:22:33:44:55"), mac("66:77:88:99:aa:bb")
    v4 = lambda proto, body: ether(m1, m2, 0x0800, ipv4("10.0.0.1", "10.0.0.2", proto, body))  # noqa: E731
    v6 = lambda nxt, body: ether(m1, m2, 0x86DD, ipv6("fe80::1", "fe80::2", nxt, body))  # noqa: E731
    pkts = [
        v4(17, udp(40000, 40001, b"abcd")),
        v4(6, tcp(40000, 40002, 0x02)),
        v4(6, tcp(40000, 40002, 0x18, b"hello")),
        v4(6, tcp(40000, 40002, 0x11)),
        v4(1, icmp(8, 0, b"pingdata")),
        v4(1, icmp(0, 0, b"pingdata")),
        ether(m1, m2, 0x0806, arp(1, m1, "10.0.0.1", b"\0" * 6, "10.0.0.2")),
        ether(m1, m2, 0x0806, arp(2, m1, "10.0.0.1", m2, "10.0.0.2")),
        v6(17, udp(40000, 40001, b"xy")),
        v6(58, icmp(128, 0, b"xy")),
        v6(6, tcp(40003, 40004, 0x12)),
        ether(m1, m2, 0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(40000, 40001)), (10,)),
    ]
    path = tmp_path / "s.pcap"
    with path.open("wb") as f:
        w = PcapWriter(f, 1)
        for i, p in enumerate(pkts):
            w.write(Record(1_700_000_000.25 + i, p, len(p)))
    r = subprocess.run(["tcpdump", "-n", "-S", "-r", str(path)], capture_output=True, text=True)
    ours = [f"{timestamp(1_700_000_000.25 + i)} {summarize(p)}" for i, p in enumerate(pkts)]
    assert r.stdout.splitlines() == ours


@pytest.mark.kernel
def test_capture_direction_with_packet_type(tmp_path: Path) -> None:
    """``outbound`` reads Linux's packet type: only what the namespace itself sends."""
    out = tmp_path / "dir.pcap"
    with veth_pair("dir") as v:
        proc = _start(["ip", "netns", "exec", v.b, *PYBPF, "capture", "-i", v.dev_b, "-c", "4",
                       "-w", str(out), "--timeout", "20", "outbound and udp portrange 40601-40602"])  # fmt: skip
        subprocess.run(["ip", "netns", "exec", v.a, sys.executable, "-c", SENDER, v.addr_b,
                        "40601", "40602"], check=True)  # fmt: skip
        subprocess.run(["ip", "netns", "exec", v.b, sys.executable, "-c", SENDER, v.addr_a,
                        "40601", "40602"], check=True)  # fmt: skip
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    with out.open("rb") as f:
        _, _, recs = read_pcap(f)
        srcs = {r.data[26:30] for r in recs}
    assert srcs == {bytes(int(x) for x in v.addr_b.split("."))}


@pytest.mark.kernel
def test_capture_any_interface(tmp_path: Path) -> None:
    """``-i any`` listens on every interface (here: a namespace's loopback)."""
    out = tmp_path / "any.pcap"
    with veth_pair("any") as v:
        proc = _start(["ip", "netns", "exec", v.b, *PYBPF, "capture", "-i", "any", "-c", "4",
                       "-w", str(out), "--timeout", "20", "udp dst port 40701"])  # fmt: skip
        subprocess.run(["ip", "netns", "exec", v.b, sys.executable, "-c", SENDER, "127.0.0.1",
                        "40701", "40702"], check=True)  # fmt: skip
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert _payloads(out) == [b"match%d" % i for i in range(4)]
