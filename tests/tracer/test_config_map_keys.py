"""``max_map_keys`` (config block, or bpftrace's environment variables) sizes the maps."""

from __future__ import annotations

import pytest


def test_max_map_keys_sizes_the_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    from pybpf.cli.pybpftrace import compile_script

    s = compile_script("config = { max_map_keys = 20000 } BEGIN { @m[1] = 1; }", "t", [], False)
    assert s.maps["@m"].max_entries == 20000
    monkeypatch.setenv("BPFTRACE_MAP_KEYS_MAX", "5000")
    assert compile_script("BEGIN { @m[1] = 1; }", "t", [], False).maps["@m"].max_entries == 5000
    monkeypatch.delenv("BPFTRACE_MAP_KEYS_MAX")
    assert compile_script("BEGIN { @m[1] = 1; }", "t", [], False).maps["@m"].max_entries == 4096
