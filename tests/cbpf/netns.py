"""A veth pair between two network namespaces made (and always removed) by a test."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def sh(*cmd: str) -> str:
    """Run a command; raise with its stderr on failure."""
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


@dataclass(frozen=True)
class VethPair:
    """Namespaces ``a`` and ``b`` joined by ``dev_a`` (addr_a) <-> ``dev_b`` (addr_b)."""

    a: str
    b: str
    dev_a: str
    dev_b: str
    addr_a: str
    addr_b: str


@contextmanager
def veth_pair(tag: str) -> Iterator[VethPair]:
    """Create the namespaces and link; delete both namespaces however the body ends."""
    uid = f"{tag}{os.getpid() % 10000}"
    pair = VethPair(f"pyA{uid}", f"pyB{uid}", "va0", "vb0", "10.231.7.1", "10.231.7.2")
    try:
        sh("ip", "netns", "add", pair.a)
        sh("ip", "netns", "add", pair.b)
        for ns in (pair.a, pair.b):
            # No IPv6 (router solicitations, DAD) so that only the test's packets flow.
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1")  # fmt: skip
        sh("ip", "-n", pair.a, "link", "add", pair.dev_a, "type", "veth", "peer", "name",
           pair.dev_b, "netns", pair.b)  # fmt: skip
        for ns, dev, addr in ((pair.a, pair.dev_a, pair.addr_a), (pair.b, pair.dev_b, pair.addr_b)):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        # Static neighbours: no ARP traffic either.
        for ns, dev, peer_ns, peer_dev, peer_addr in (
            (pair.a, pair.dev_a, pair.b, pair.dev_b, pair.addr_b),
            (pair.b, pair.dev_b, pair.a, pair.dev_a, pair.addr_a),
        ):
            lladdr = json.loads(sh("ip", "-j", "-n", peer_ns, "link", "show", peer_dev))[0][
                "address"
            ]
            sh("ip", "-n", ns, "neigh", "replace", peer_addr, "lladdr", lladdr, "dev", dev,
               "nud", "permanent")  # fmt: skip
        yield pair
    finally:
        for ns in (pair.a, pair.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
