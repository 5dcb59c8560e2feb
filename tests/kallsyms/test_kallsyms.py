"""kallsyms: parsing, address <-> name round trips against the live /proc/kallsyms."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf import kallsyms
from pybpf.errors import KernelError, PrivilegeError

SAMPLE = """\
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81000100 t helper
ffffffff81000050 T early
ffffffffc0001000 t mod_func\t[mymod]
ffffffff81000200 T helper
"""


def _live() -> kallsyms.Kallsyms:
    ks = kallsyms.kallsyms()
    if not ks.addresses_visible:
        pytest.skip("kernel addresses hidden (needs root)")
    return ks


def test_parse_sample() -> None:
    ks = kallsyms.parse(SAMPLE)
    assert len(ks) == 6
    assert ks.names == ["_stext", "_text", "helper", "early", "mod_func", "helper"]
    assert ks.module("mod_func") == "mymod" and ks.module("helper") is None
    assert ks.address("helper") == 0xFFFFFFFF81000100  # the first of two
    assert ks.lookup(0xFFFFFFFF81000000) == ("_stext", 0)  # aliases: file order wins
    assert ks.lookup(0xFFFFFFFF81000060) == ("early", 0x10)
    assert ks.lookup(0xFFFFFFFF81000250) == ("helper", 0x50)
    assert ks.lookup(0xFFFFFFFFC0001004) == ("mod_func", 4)
    assert ks.lookup(0x1000) is None
    assert ks.match("h*") == ["helper"]
    assert ks.match("*", types="T") == ["_stext", "_text", "early", "helper"]
    assert ks.symbol_type(2) == "t"


def test_missing_name() -> None:
    ks = kallsyms.parse(SAMPLE)
    with pytest.raises(KeyError) as ei:
        ks.address("nope")
    assert str(ei.value) == "no kernel symbol 'nope'"


def test_hidden_addresses() -> None:
    ks = kallsyms.parse("0000000000000000 T a\n0000000000000000 T b\n")
    assert not ks.addresses_visible
    with pytest.raises(PrivilegeError, match="hidden"):
        ks.address("a")
    with pytest.raises(PrivilegeError):
        ks.lookup(5)
    assert ks.match("*") == ["a", "b"]


def test_bad_format() -> None:
    with pytest.raises(KernelError, match="unexpected format"):
        kallsyms.parse("ffffffff81000000 T\n")
    with pytest.raises(KernelError, match="No such file"):
        kallsyms.read("/no/such/kallsyms")


def test_live_matches_file() -> None:
    ks = _live()
    # BPF programs come and go (other tests load them), so compare counts on one reading.
    text = Path("/proc/kallsyms").read_text()
    lines = text.splitlines()
    assert len(kallsyms.parse(text)) == len(lines)
    wanted = {"do_sys_open", "schedule", "vfs_read"}
    first: dict[str, int] = {}
    for ln in lines:
        addr, _t, name = ln.split()[:3]
        if name in wanted and name not in first:
            first[name] = int(addr, 16)
    assert first.keys() == wanted
    for name, addr in first.items():
        assert ks.address(name) == addr


def test_live_round_trip() -> None:
    ks = _live()
    text = [
        n
        for i, n in enumerate(ks.names)
        if ks.symbol_type(i) in "tT" and not n.startswith("__pfx_")
    ]
    for name in text[:: max(1, len(text) // 300)]:
        addr = ks.address(name)
        got, off = ks.lookup(addr)  # type: ignore[misc]
        assert off == 0
        assert ks.address(got) == addr  # the name found, or an alias at the same address
        inside = ks.lookup(addr + 1)
        assert inside is not None and ks.address(inside[0]) + inside[1] == addr + 1


def test_module_level_helpers() -> None:
    _live()
    addr = kallsyms.address("do_sys_open")
    assert kallsyms.lookup(addr + 3) == ("do_sys_open", 3)
    assert "do_sys_open" in kallsyms.match("do_sys_*", types="tT")
    assert kallsyms.kallsyms() is kallsyms.kallsyms()
