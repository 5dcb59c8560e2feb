"""Regenerate the xlated goldens in this folder from the real kernel and bpftool (as root).

    python tests/testdata/asm/capture.py

For each ``xlated/NAME.s``: load it as a socket filter and store what the kernel and bpftool
said -- ``NAME.xlated.hex`` (the translated program, one 64-bit word a slot),
``NAME.xlated.txt`` (``bpftool prog dump xlated``, verbatim), ``NAME.calls.json`` (translated
call imm -> kallsyms name, as bpftool resolves them) and ``NAME.verifier.txt`` (the kernel's
own text for each original instruction, from a log_level 2 verifier log). Then the same
for a program bpftrace loads (``bpftrace_count``), read back with ``bpftool -j ... opcodes``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "asm"))

import asm_kernel_oracle as ko  # noqa: E402

from pybpf.asm.fmt import kallsyms_resolver  # noqa: E402
from pybpf.asm.hexio import format_hex_words  # noqa: E402
from pybpf.asm.insn import decode  # noqa: E402

BPFTRACE = "tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); @t[tid] = nsecs; }"
NAME = "sys_enter_getpp"  # the kernel keeps 15 characters of the probe name


def save(name: str, xlated: bytes, text: str, calls: dict[int, str]) -> None:
    out = ko.XLATED_DIR
    (out / f"{name}.xlated.hex").write_text(format_hex_words(xlated))
    (out / f"{name}.xlated.txt").write_text(text)
    (out / f"{name}.calls.json").write_text(json.dumps(calls, indent=1, sort_keys=True) + "\n")


def capture_bpftrace() -> None:
    before = set(_prog_ids())
    proc = subprocess.Popen(["bpftrace", "-e", BPFTRACE], stdout=subprocess.DEVNULL)
    try:
        for _ in range(150):
            time.sleep(0.2)
            # Other programs come and go on a busy machine: take bpftrace's by its name.
            new = [pid for pid, name in _prog_ids().items() if pid not in before and name == NAME]
            if new:
                break
        else:
            raise SystemExit("bpftrace did not load its program")
        pid = str(new[-1])
        text = subprocess.run(
            ["bpftool", "prog", "dump", "xlated", "id", pid],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        js = subprocess.run(
            ["bpftool", "-j", "prog", "dump", "xlated", "id", pid, "opcodes"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    xlated = ko.xlated_from_json(json.loads(js))
    with open("/proc/kallsyms", encoding="utf-8") as f:
        resolve = kallsyms_resolver(f.read())
    calls = {i.imm: n for i in decode(xlated) if i.is_call and (n := resolve(i)) is not None}
    save("bpftrace_count", xlated, text, calls)


def _prog_ids() -> dict[int, str]:
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return {p["id"]: p.get("name", "") for p in json.loads(out or "[]")}


def main() -> None:
    for name in ko.PROGRAMS:
        obs = ko.observe(name)
        save(name, obs.xlated, obs.bpftool, obs.calls)
        lines = [f"{slot}: {text}\n" for slot, text in sorted(obs.verifier.items())]
        (ko.XLATED_DIR / f"{name}.verifier.txt").write_text("".join(lines))
    capture_bpftrace()


if __name__ == "__main__":
    main()
