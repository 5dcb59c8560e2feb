"""``pybpf filter``: listings as tcpdump prints them, errors as libpcap words them (exit 1,
no traceback), a live re-check against tcpdump when it is installed, and fuzzing."""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf.cbpf.compiler import compile_filter
from pybpf.cbpf.lexer import FilterError
from pybpf.cli.pybpf import main

from .goldens import DATA, load

PYBPF = [sys.executable, "-m", "pybpf.cli.pybpf"]
FUZZ_TOKENS = [*"ab01:./\\[]()!&|=<>-+*%^ ", " and ", " or ", " not ", "tcp", "host ", "port ",
               "ip", "ether ", "src ", "vlan ", "proto ", "net ", "len", "0x", "mask ",
               "portrange ", "less ", "byte ", "icmp-echo"]  # fmt: skip


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["filter", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_listing_styles(capsys: pytest.CaptureFixture[str]) -> None:
    golden = {g.expr: g.text for g in load("exprs_en10mb_opt")}
    status, out, _ = _cli(capsys, "-d", "tcp", "port", "443")
    assert status == 0 and out == golden["tcp port 443"]
    status, out, _ = _cli(capsys, "-dd", "-O", "tcp")
    assert out.splitlines()[:2] == ["{ 0x28, 0, 0, 0x0000000c },", "{ 0x15, 0, 2, 0x00000800 },"]
    assert status == 0


def test_ddd_counts_and_raw_link(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _cli(capsys, "-ddd", "-y", "RAW", "ip")
    lines = out.splitlines()
    assert status == 0 and int(lines[0]) == len(lines) - 1
    assert lines[1] == "48 0 0 0"  # ldb [0]: the version nibble of a raw IP packet


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("tcp and 80", "syntax error in filter expression"),
        ("host 1.2.3.4 or", "can't parse filter expression: syntax error"),
        ("port 99999", "illegal port number 99999 > 65535"),
        ("vlan 5000", "VLAN tag 5000 greater than maximum 4095"),
        ("ip[1:3] = 1", "data size must be 1, 2, or 4"),
        ("net 1.2.3.4/24", 'non-network bits set in "1.2.3.4/24"'),
        ("ip proto \\nosuchproto", "unknown ip proto 'nosuchproto'"),
        ("len / 0 = 1", "division by zero"),
        ("ip and not ip", "expression rejects all packets"),
    ],
)
def test_bad_expression_message_and_status(
    capsys: pytest.CaptureFixture[str], expr: str, message: str
) -> None:
    status, out, err = _cli(capsys, expr)
    assert status == 1 and out == ""
    assert err.splitlines()[0] == f"pybpf: ERROR: {message}"
    assert "Traceback" not in err


def test_syntax_error_points_at_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _cli(capsys, "tcp port 80 and and udp")
    assert status == 1
    assert err.splitlines()[1:] == ["tcp port 80 and and udp", " " * 16 + "^"]


def test_process_exit_status_and_no_traceback() -> None:
    r = subprocess.run([*PYBPF, "filter", "ip[0] &"], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    r = subprocess.run([*PYBPF, "filter", "-y", "FDDI", "ip"], capture_output=True, text=True)
    assert r.returncode == 1 and "unknown link type 'FDDI'" in r.stderr


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(FUZZ_TOKENS), max_size=25).map("".join))
def test_fuzz_never_crashes(expr: str) -> None:
    try:
        compile_filter(expr)
    except FilterError as e:
        assert e.message and "\n" not in e.message


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_live_sample_against_tcpdump(tmp_path: Path) -> None:
    """Re-check a random sample of the goldens against the tcpdump on this machine."""
    exprs = [e for e in (DATA / "exprs.txt").read_text().splitlines() if e]
    raw = tmp_path / "raw.pcap"
    raw.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))
    from pybpf.cbpf import names
    from pybpf.cbpf.insn import listing

    for expr in random.Random().sample(exprs, 12):
        for lt, extra in ((names.DLT_EN10MB, []), (names.DLT_RAW, ["-r", str(raw)])):
            for opt in (True, False):
                cmd = ["tcpdump", "-d", *([] if opt else ["-O"]), *extra, "--", expr]
                r = subprocess.run(cmd, capture_output=True, text=True)
                try:
                    ours = listing(compile_filter(expr, lt, opt))
                except FilterError as e:
                    assert r.returncode != 0 and r.stderr.rstrip().endswith(e.message), expr
                    continue
                assert r.returncode == 0 and r.stdout == ours, (expr, lt, opt)


def test_semantic_error_points_at_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _cli(capsys, "tcp and port 99999")
    assert status == 1
    assert err.splitlines() == [
        "pybpf: ERROR: illegal port number 99999 > 65535",
        "tcp and port 99999",
        " " * 13 + "^",
    ]


RANDOM_TOKENS = ["tcp", "udp", "ip", "ip6", "arp", "icmp", "host", "net", "port", "portrange",
                 "src", "dst", "and", "or", "not", "!", "(", ")", "1.2.3.4", "10.0.0.0/8", "80",
                 "1000-2000", "ether", "proto", "\\tcp", "00:11:22:33:44:55", "vlan", "10",
                 "less", "len", ">", "=", "!=", "ip[0]", "tcp[13]", "&", "|", "+", "%", "^",
                 "broadcast", "multicast", "fe80::1", "mask", "255.0.0.0", "byte", "inbound",
                 "icmp-echo", "[", "]", ":", "2", "tcpflags", "tcp-syn"]  # fmt: skip


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_random_token_soup_matches_tcpdump() -> None:
    """Status, message and listing agree with tcpdump on random (mostly broken) input."""
    rng = random.Random(2024)
    for _ in range(80):
        expr = " ".join(rng.choice(RANDOM_TOKENS) for _ in range(rng.randint(1, 7)))
        opt = rng.random() < 0.5
        r = subprocess.run(["tcpdump", "-d", *([] if opt else ["-O"]), "--", expr],
                           capture_output=True, text=True)  # fmt: skip
        try:
            from pybpf.cbpf.insn import listing

            ours: tuple[int, str] = (0, listing(compile_filter(expr, optimize=opt)))
        except FilterError as e:
            ours = (1, e.message)
        errs = [
            ln[len("tcpdump: ") :] for ln in r.stderr.splitlines() if ln.startswith("tcpdump: ")
        ]
        theirs = (0, r.stdout) if r.returncode == 0 else (1, errs[-1] if errs else r.stderr)
        assert ours == theirs, expr


def test_unsupported_primitives_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    for expr, word in (("mpls", "mpls"), ("tcp and geneve", "geneve"), ("llc", "llc")):
        status, _, err = _cli(capsys, expr)
        assert status == 1
        assert err.splitlines()[0] == f"pybpf: ERROR: '{word}' is not supported by pybpf"


def test_live_listing_reads_vlan_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _cli(capsys, "--live", "vlan", "10")
    assert status == 0
    assert out.splitlines()[:3] == [
        "(000) ldb      [vlanp]",
        "(001) jeq      #0x1             jt 2\tjf 6",
        "(002) ldb      [vlan_tci]",
    ]
