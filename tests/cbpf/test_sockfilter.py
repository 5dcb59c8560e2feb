"""The kernel as oracle for the classic program itself: the compiled filter attached with
SO_ATTACH_FILTER to a packet socket receives exactly the frames the interpreter accepts.

Frames are sent on the loopback device of a fresh network namespace, so no other traffic
can reach the socket. On receive Linux moves an outer 802.1Q/802.1ad tag into metadata
before packet sockets see the frame; the expected verdict models that (the interpreter
gets the untagged bytes and the tag as ancillary data), and the filter is compiled for
live capture, as ``pybpf capture`` does.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid

import pytest

from pybpf.cbpf import insn as I
from pybpf.cbpf.compiler import compile_filter
from pybpf.cbpf.insn import listing
from pybpf.cbpf.vm import run

from .pktgen import bias, corpus

EXPRS = [
    "tcp port 80",
    "host 1.2.3.4 or 5.6.7.8",
    "vlan 10 and ip",
    "ip6 and udp",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
    "ip[2:2] - ((ip[0] & 0xf) << 2) > 40",
    "ether multicast",
    "arp or rarp",
    "greater 64 and not udp",
]

SCRIPT = r"""
import json, socket, sys, time
from pybpf.cbpf.capture import Capture
from pybpf.cbpf.insn import parse_listing
job = json.load(sys.stdin)
frames = [bytes.fromhex(f) for f in job["frames"]]
with Capture("lo", parse_listing(job["listing"])) as cap:
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    tx.bind(("lo", 0))
    for f in frames:
        tx.send(f)
    tx.close()
    got = [r.data for r in cap.packets(time.monotonic() + 1.0)]
print(json.dumps([i for i, f in enumerate(frames) if f in got]))
"""


def _view(frame: bytes) -> tuple[bytes, None, dict[int, int]]:
    data, meta = _kernel_view(frame)
    return data, None, meta


def _kernel_view(frame: bytes) -> tuple[bytes, dict[int, int]]:
    """What a packet socket's filter sees of ``frame`` received on loopback."""
    if len(frame) >= 24 and int.from_bytes(frame[12:14], "big") in (0x8100, 0x88A8):
        tci = int.from_bytes(frame[14:16], "big")
        meta = {I.SKF_AD_VLAN_TAG_PRESENT: 1, I.SKF_AD_VLAN_TAG: tci}
        return frame[:12] + frame[16:], meta
    return frame, {}


@pytest.mark.kernel
def test_kernel_socket_filter_agrees_with_interpreter() -> None:
    ns = f"pycbpf{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        for expr in EXPRS:
            prog = compile_filter(expr, live=True)
            rng = random.Random(expr)
            bias_prog = compile_filter(expr)  # tags in the data: biases tagged frames too
            frames = list(dict.fromkeys(bias(p, bias_prog, rng) for p in corpus(120, seed=3)))
            frames = [f for f in frames if 14 <= len(f) <= 1500]
            frames = [
                f for f in frames if len(f) >= 24 or f[12:14] not in (b"\x81\x00", b"\x88\xa8")
            ]
            job = json.dumps({"listing": listing(prog), "frames": [f.hex() for f in frames]})
            r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SCRIPT],
                               input=job, capture_output=True, text=True, timeout=60)  # fmt: skip
            assert r.returncode == 0, r.stderr
            received = json.loads(r.stdout)
            expected = [i for i, f in enumerate(frames) if run(prog, *_view(f))]
            assert received == expected, expr
            assert expected, f"{expr}: the sample should contain matching frames"
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
