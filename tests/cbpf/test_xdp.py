"""``pybpf xdp`` on a veth pair between two namespaces: matches dropped, the rest delivered,
counts exact, nothing left attached after SIGINT."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from .netns import sh, veth_pair

PYBPF = [sys.executable, "-m", "pybpf.cli.pybpf"]
RECEIVER = """
import select, socket, sys, time
socks = {}
for port in map(int, sys.argv[1:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    socks[s] = port
print("ready", flush=True)
got = {p: 0 for p in socks.values()}
end = time.time() + 3
while time.time() < end:
    for s in select.select(list(socks), [], [], 0.1)[0]:
        s.recv(100)
        got[socks[s]] += 1
print(" ".join(f"{p}={n}" for p, n in sorted(got.items())), flush=True)
"""
SENDER = """
import socket, sys
dst = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"a", (dst, 40301))
    s.sendto(b"b", (dst, 40302))
    s.sendto(b"c", (dst, 40303))
"""


def _xdp_attached(ns: str, dev: str) -> bool:
    info = json.loads(sh("ip", "-j", "-d", "-n", ns, "link", "show", dev))[0]
    return "xdp" in info


@pytest.mark.kernel
@pytest.mark.parametrize("action", ["drop", "pass"])
def test_xdp_veth_drops_matches_and_counts(action: str) -> None:
    with veth_pair("xdp" + action[0]) as v:
        xdp = subprocess.Popen(
            ["ip", "netns", "exec", v.b, *PYBPF, "xdp", v.dev_b, "udp dst port 40301",
             "--action", action, "--count"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert xdp.stderr is not None
            line = xdp.stderr.readline()
            assert line.startswith(f"attached to {v.dev_b}"), line + xdp.stderr.read()
            assert _xdp_attached(v.b, v.dev_b)
            recv = subprocess.Popen(
                ["ip", "netns", "exec", v.b, sys.executable, "-c", RECEIVER, "40301", "40302",
                 "40303"], stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert recv.stdout is not None
            assert recv.stdout.readline().strip() == "ready"
            subprocess.run(["ip", "netns", "exec", v.a, sys.executable, "-c", SENDER, v.addr_b],
                           check=True)  # fmt: skip
            counts = recv.communicate(timeout=20)[0].strip()
        finally:
            xdp.send_signal(signal.SIGINT)
            out, err = xdp.communicate(timeout=20)
        assert xdp.returncode == 0, err
        assert not _xdp_attached(v.b, v.dev_b)
    if action == "drop":
        assert counts == "40301=0 40302=5 40303=5"
        assert out == "drop: 5\npass: 10\n"
    else:
        assert counts == "40301=5 40302=0 40303=0"
        assert out == "pass: 5\ndrop: 10\n"
    assert "Traceback" not in err


def test_xdp_bad_expression_and_interface() -> None:
    r = subprocess.run([*PYBPF, "xdp", "lo", "udp port"], capture_output=True, text=True)
    assert r.returncode == 1 and "can't parse filter expression" in r.stderr
    r = subprocess.run([*PYBPF, "xdp", "nosuchif0", "udp"], capture_output=True, text=True)
    assert r.returncode == 1 and "no such interface 'nosuchif0'" in r.stderr
    assert "Traceback" not in r.stderr
