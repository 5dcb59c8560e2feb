"""Regenerate tests/testdata/cbpf/golden_*.txt by running Debian's tcpdump once.

Run by hand (``python tests/cbpf/make_goldens.py``) when exprs.txt changes; the tests read
the stored files and need no tcpdump.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "testdata" / "cbpf"


def tcpdump(expr: str, optimize: bool, raw_pcap: str | None) -> tuple[int, str]:
    """(status, listing or error line) from ``tcpdump -d``."""
    cmd = ["tcpdump", "-d"] + ([] if optimize else ["-O"])
    if raw_pcap:
        cmd += ["-r", raw_pcap]
    r = subprocess.run([*cmd, "--", expr], capture_output=True, text=True, check=False)
    if r.returncode:
        err = [ln for ln in r.stderr.splitlines() if ln.startswith("tcpdump: ")]
        return r.returncode, (err[-1][len("tcpdump: ") :] if err else r.stderr.strip()) + "\n"
    return 0, r.stdout


def main() -> int:
    with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))
        raw = f.name
    for src in ("exprs.txt", "bad_exprs.txt"):
        exprs = [ln for ln in (DATA / src).read_text().splitlines() if ln]
        for lt, pcap in (("en10mb", None), ("raw", raw)):
            for opt in (False, True):
                out = []
                for e in exprs:
                    status, text = tcpdump(e, opt, pcap)
                    out.append(f"=== {e}\n--- status {status}\n{text}")
                name = f"golden_{src.split('.')[0]}_{lt}_{'opt' if opt else 'noopt'}.txt"
                (DATA / name).write_text("".join(out))
                print(name, len(exprs), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
