"""Helpers for ELF tests: binutils' readelf is the oracle."""

from __future__ import annotations

import subprocess

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
PYTHON = "/usr/bin/python3.11"
LIBSTDCXX = "/lib/x86_64-linux-gnu/libstdc++.so.6"


def readelf(*args: str) -> str:
    """Output of ``readelf -W ARGS`` (wide, so each record is one line)."""
    return subprocess.run(
        ["readelf", "-W", *args], capture_output=True, text=True, check=True
    ).stdout
