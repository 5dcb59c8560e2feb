"""Differential tests: unoptimised, optimised, translated-to-eBPF (pybpf.vm) and the kernel
(the translated program loaded as XDP and run with BPF_PROG_TEST_RUN) all agree."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf import vm
from pybpf.cbpf import names
from pybpf.cbpf.compiler import compile_filter
from pybpf.cbpf.to_ebpf import XDP_DROP, XDP_PASS, translate
from pybpf.cbpf.vm import run, run_traced

from .pktgen import bias, corpus, ether_packets, raw_packets

EXPRS = [
    "tcp port 80",
    "host 1.2.3.4 or 5.6.7.8",
    "udp and (port 53 or port 67)",
    "not arp and not ip6",
    "vlan 10 and ip",
    "vlan and vlan 20 and udp",
    "ip6 host fe80::1 and tcp",
    "ip6 net 2001:db8::/32",
    "net 10.0.0.0/8 or 192.168.0.0/16",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
    "icmp[icmptype] = icmp-echo or icmp6",
    "ip[2:2] - ((ip[0] & 0xf) << 2) > 40",
    "len > 60 and less 200",
    "ether multicast and not ether broadcast",
    "ether src 00:11:22:33:44:55 or ether dst 66:77:88:99:aa:bb",
    "portrange 1000-2000 or tcp dst portrange 5000-5010",
    "ip proto 47 or proto \\sctp",
    "ip[ip[0] & 0xf] = 1",
    "ip[8] / (ip[9] - 6) = 1",
    "ip[0] % ip[9] = 1",
    "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
    "arp and arp[7] = 2",
    "ip broadcast or ip multicast",
    "udp[4:2] > 20 and ip[6:2] & 0x1fff = 0",
    "byte 9 & 6",
]
RAW_EXPRS = ["tcp port 80", "host 1.2.3.4", "ip6 and udp", "ip[9] = 17", "len < 100"]


def _check(expr: str, pkt: bytes, lt: int = names.DLT_EN10MB) -> None:
    """opt == eBPF(opt) == eBPF(unopt) always; unopt == opt unless unopt read past the end.

    libpcap's optimiser (which ours reproduces listing for listing) drops loads whose value
    it does not need, so a packet too short for such a load may be accepted by the
    optimised filter and rejected by the unoptimised one -- tcpdump behaves the same.
    """
    opt = compile_filter(expr, lt, True)
    unopt = compile_filter(expr, lt, False)
    r_unopt, oob = run_traced(unopt, pkt)
    r_opt = run(opt, pkt)
    assert vm.run(translate(opt), pkt) == r_opt
    assert vm.run(translate(unopt), pkt) == r_unopt
    if not oob:
        assert r_unopt == r_opt


@pytest.mark.parametrize("expr", EXPRS)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(pkt=ether_packets(), seed=st.integers(0, 2**16))
def test_unopt_opt_ebpf_agree(expr: str, pkt: bytes, seed: int) -> None:
    prog = compile_filter(expr)
    pkt = bias(pkt, prog, random.Random(seed))
    _check(expr, pkt)


@pytest.mark.parametrize("expr", RAW_EXPRS)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(pkt=raw_packets())
def test_raw_link_type_agree(expr: str, pkt: bytes) -> None:
    _check(expr, pkt, names.DLT_RAW)


@pytest.mark.kernel
@pytest.mark.parametrize("expr", EXPRS)
def test_kernel_xdp_agrees(expr: str, no_leaks: None) -> None:
    from pybpf.bpf.maps import Map, MapSpec, MapType
    from pybpf.bpf.prog import Program, ProgSpec
    from pybpf.bpf.syscall import ProgType

    prog = compile_filter(expr)
    rng = random.Random(expr)
    packets = [bias(p, prog, rng) for p in corpus(150, seed=len(expr))]
    packets = [p for p in packets if len(p) >= 14]  # XDP test runs need an Ethernet header
    with Map.create(MapSpec(MapType.ARRAY, 4, 8, 2, name="cbpf_counts")) as counts:
        insns = translate(prog, "xdp", XDP_PASS, XDP_DROP, counts.fd)
        with Program.load(ProgSpec(ProgType.XDP, insns, name="cbpf_diff")) as xdp:
            expected = [0, 0]
            for pkt in packets:
                want = run(prog, pkt) != 0
                expected[want] += 1
                assert xdp.test_run(pkt).retval == (XDP_PASS if want else XDP_DROP), pkt.hex()
        got = [struct.unpack("<Q", counts.lookup(struct.pack("<I", i)))[0] for i in (0, 1)]
    assert got == expected


@pytest.mark.parametrize("link", ["en10mb", "raw"])
def test_python_compiled_filters_match_interpreter(link: str) -> None:
    from pybpf.cbpf import insn as I
    from pybpf.cbpf.insn import parse_listing
    from pybpf.cbpf.pycompile import compile_program

    from .goldens import load

    packets = corpus(80, seed=21, raw=link == "raw")
    for g in load(f"exprs_{link}_opt") + load(f"exprs_{link}_noopt"):
        if g.status:
            continue
        prog = parse_listing(g.text)
        fn = compile_program(prog)
        for pkt in packets:
            assert fn(pkt, None, None) == run(prog, pkt), (g.expr, pkt.hex())
    live = compile_filter("vlan 10 and udp", live=True)
    fn = compile_program(live)
    meta = {I.SKF_AD_VLAN_TAG_PRESENT: 1, I.SKF_AD_VLAN_TAG: 0x200A}
    for pkt in corpus(80, seed=5):
        assert fn(pkt, 999, meta) == run(live, pkt, 999, meta)
