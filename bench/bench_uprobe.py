#!/usr/bin/env python3
"""User-space probes and symbols: pybpftrace beside bpftrace 0.17, measured in the same run.

1. **Wildcard uprobe attach**: ``uprobe:libc:PATTERN { @ = count(); }`` for patterns that
   match about 100 libc functions. Time from spawn to "probes attached" (the
   ``__BPFTRACE_NOTIFY_PROBES_ATTACHED`` marker both tools print) and to the end of the
   process after a SIGINT sent at that moment (detach and exit included).
2. **Symbolising 10,000 user addresses**:
   (a) pybpf's symboliser alone (``pybpf.elf.symbolize.Symbolizer``, what ``ustack`` and
   ``usym`` use) on 10,000 addresses spread over libc's text and a test binary's text in a
   live process: cold (symbol tables read, libc's from its build-id debug file) and warm;
   (b) end to end, for both tools: a test binary calls ``target(addr)`` 10,000 times with
   distinct addresses, the script keeps ``@[usym(arg0)]`` (each key symbolised when the map
   prints, the process still alive) or ``@[arg0]`` (no symbols); the difference of the two
   wall times is the cost of symbolising 10,000 addresses and printing their names.
3. **Printing a 10,000-key map at exit**: pybpftrace's ``@[arg0]`` run of (2b), and a
   BEGIN-only script filling 10,000 keys in a loop, each run twice: maps read with
   ``BPF_MAP_LOOKUP_BATCH`` (the default) and forced key by key (``get_next_key`` plus a
   lookup per key, as before); plus ``read_map`` alone on the same 10,000-key map.

Needs root, gcc and bpftrace. Usage::

    sudo python3 bench/bench_uprobe.py [--reps 5]

Prints markdown tables (medians); copy them into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOTIFY = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
N_ADDRS = 10_000

C_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
extern char __executable_start[], etext[];
__attribute__((noinline)) void target(unsigned long a) { asm volatile("" :: "r"(a)); }
__attribute__((noinline)) void done(void) { asm volatile(""); }
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 0;
    unsigned long lo = 0, hi = 0, a, b;
    char line[512], perms[8];
    FILE *f = fopen("/proc/self/maps", "r");
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3 && perms[2] == 'x' && strstr(line, "libc.so")) {
            lo = a; hi = b; break;
        }
    fclose(f);
    unsigned long elo = (unsigned long)__executable_start, ehi = (unsigned long)etext;
    for (int i = 0; i < n; i++) {  /* nine in ten in libc, the rest in this binary */
        if (i % 10) target(lo + (unsigned long)i * ((hi - lo) / n));
        else target(elo + (unsigned long)i * (ehi - elo) / n);
    }
    done();
    sleep(argc > 2 ? atoi(argv[2]) : 0);  /* alive while the tracer prints its maps */
    return 0;
}
"""


def _pybpftrace() -> list[str]:
    return [sys.executable, "-m", "pybpf.cli.pybpftrace"]


def _env(**extra: str) -> dict[str, str]:
    """The environment for a tool run: Python may keep its bytecode cache (as installed
    packages do; a shell with PYTHONDONTWRITEBYTECODE would recompile every module)."""
    env = dict(os.environ, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def attach_once(cmd: list[str]) -> tuple[float, float]:
    """(seconds to the attach marker, seconds to the end after SIGINT at that moment)."""
    env = _env(**{NOTIFY: "1"})
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    sel = selectors.DefaultSelector()
    assert p.stdout is not None and p.stderr is not None
    for f in (p.stdout, p.stderr):
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ)
    buf = {p.stdout: b"", p.stderr: b""}
    ready = None
    while ready is None and p.poll() is None:
        for key, _ in sel.select(timeout=30):
            chunk = key.fileobj.read()  # type: ignore[union-attr]
            if chunk:
                buf[key.fileobj] += chunk  # type: ignore[index]
            if NOTIFY.encode() in buf[key.fileobj]:  # type: ignore[index]
                ready = time.perf_counter() - t0
    if ready is None:
        raise RuntimeError(f"{cmd[0]} did not attach: {buf[p.stderr].decode()[-500:]}")
    # Ctrl-C, repeated in case it lands before the tool's handler is installed.
    while p.poll() is None:
        p.send_signal(signal.SIGINT)
        for key, _ in sel.select(timeout=0.05):
            key.fileobj.read()  # type: ignore[union-attr]
    end = time.perf_counter() - t0
    sel.close()
    p.stdout.close()
    p.stderr.close()
    return ready, end


def attach_table(patterns: list[str], reps: int) -> str:
    out = [
        "| probes | tool | functions | ready (s) | whole process (s) |",
        "|---|---|---:|---:|---:|",
    ]
    for pat in patterns:
        script = f"uprobe:libc:{pat} {{ @ = count(); }}"
        for tool, cmd in (
            ("bpftrace 0.17", ["bpftrace", "-e", script]),
            ("pybpftrace", [*_pybpftrace(), "-e", script]),
        ):
            attach_once(cmd)  # warm the page cache and Python's bytecode cache
            runs = [attach_once(cmd) for _ in range(reps)]
            n = _count_attached(cmd)
            ready = statistics.median(r[0] for r in runs)
            whole = statistics.median(r[1] for r in runs)
            out.append(f"| `uprobe:libc:{pat}` | {tool} | {n} | {ready:.3f} | {whole:.3f} |")
    return "\n".join(out)


def _count_attached(cmd: list[str]) -> int:
    """How many probes the tool attached (its own "Attach(ed|ing) N probes" line)."""
    env = _env(**{NOTIFY: "1"})
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    assert p.stdout is not None
    n = -1
    for line in p.stdout:
        if line.startswith(("Attaching ", "Attached ")):
            n = int(line.split()[1])
        if NOTIFY in line:
            break
    while p.poll() is None:  # Ctrl-C until it ends (an early one may be missed)
        p.send_signal(signal.SIGINT)
        try:
            p.communicate(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    return n


def compile_binary(d: Path) -> Path:
    (d / "t.c").write_text(C_SOURCE)
    out = d / "t"
    cmd = ["gcc", "-O1", "-fno-omit-frame-pointer", "-no-pie", "-o", str(out), str(d / "t.c")]
    subprocess.run(cmd, check=True)
    return out


def symbolizer_figures(binary: Path, reps: int) -> str:
    """pybpf's Symbolizer on 10,000 addresses of a live process: cold and warm."""
    from pybpf.elf import symbolize
    from pybpf.elf.symbolize import Symbolizer, read_maps

    child = subprocess.Popen([str(binary), "0", "60"])
    try:
        time.sleep(0.2)
        maps = read_maps(child.pid)
        lib = next(m for m in maps if "x" in m.perms and "libc.so" in m.path)
        exe = next(m for m in maps if "x" in m.perms and m.path == str(binary))
        rng = random.Random(5)
        addrs = [
            rng.randrange(lib.start, lib.end) if i % 10 else rng.randrange(exe.start, exe.end)
            for i in range(N_ADDRS)
        ]
        cold, warm = [], []
        for _ in range(reps):
            symbolize._tables.clear()  # nothing cached: tables read again
            t0 = time.perf_counter()
            s = Symbolizer(child.pid)
            hits = [s.symbolize(a) for a in addrs]
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hits = [s.symbolize(a) for a in addrs]
            warm.append(time.perf_counter() - t0)
        named = sum(1 for h in hits if h is not None and h.symbol is not None)
    finally:
        child.kill()
        child.wait()
    return (
        "| pybpf Symbolizer, 10,000 addresses (90% libc, 10% test binary) | median (s) |\n"
        "|---|---:|\n"
        f"| cold (maps read, libc + debug-file and binary symbol tables parsed) "
        f"| {statistics.median(cold):.3f} |\n"
        f"| warm (tables cached) | {statistics.median(warm):.3f} |\n\n"
        f"{named} of {N_ADDRS} addresses resolved to a symbol name."
    )


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {r.stderr[-500:]}")
    return time.perf_counter() - t0


def end_to_end(binary: Path, reps: int) -> str:
    """usym keys vs raw keys, both tools: the difference is 10,000 symbolisations."""
    env = _env(BPFTRACE_MAP_KEYS_MAX="20000")
    child = f"{binary} {N_ADDRS} 3"
    out = [
        "| tool | `@[arg0]` (s) | `@[usym(arg0)]` (s) | symbolising 10,000 addresses (s) |",
        "|---|---:|---:|---:|",
    ]
    for tool in ("bpftrace 0.17", "pybpftrace"):
        row = []
        for key in ("arg0", "usym(arg0)"):
            body = f"uprobe:{binary}:target {{ @[{key}] = count(); }} uprobe:{binary}:done {{ exit(); }}"
            if tool == "pybpftrace":
                cmd = [*_pybpftrace(), "-e", "config = { max_map_keys = 20000 } " + body]
            else:
                cmd = ["bpftrace", "-e", body]
            cmd += ["-c", child]
            _wall(cmd, env)
            row.append(statistics.median(_wall(cmd, env) for _ in range(reps)))
        out.append(f"| {tool} | {row[0]:.3f} | {row[1]:.3f} | {row[1] - row[0]:.3f} |")
    return "\n".join(out)


LOOP_SCRIPT = (
    "config = { max_map_keys = 20000 } "
    "BEGIN { $i = 0; while ($i < 10000) { @[$i] = $i; $i++; } exit(); }"
)

# Runs pybpftrace with batch map reads switched off: every map type counts as refusing.
_PER_KEY = (
    "import sys; from pybpf.runtime import mapread; mapread._unbatched.update(range(64)); "
    "from pybpf.cli.pybpftrace import main; sys.argv[0] = 'pybpftrace'; sys.exit(main())"
)


def map_print_figures(binary: Path, reps: int) -> str:
    """Whole runs that print a 10,000-key map at exit: batched reads vs key by key."""
    env = _env()
    body = f"uprobe:{binary}:target {{ @[arg0] = count(); }} uprobe:{binary}:done {{ exit(); }}"
    cases = [
        ("`@[arg0] = count()`, 10,000 uprobe hits", ["-e", "config = { max_map_keys = 20000 } "
         + body, "-c", f"{binary} {N_ADDRS} 0"]),
        ("`@[$i] = $i` in a BEGIN loop", ["-e", LOOP_SCRIPT]),
    ]  # fmt: skip
    out = [
        "| script (pybpftrace) | batched (s) | key by key (s) | saved (s) |",
        "|---|---:|---:|---:|",
    ]
    for label, args in cases:
        row = []
        for pre in (_pybpftrace(), [sys.executable, "-c", _PER_KEY]):
            cmd = [*pre, *args]
            _wall(cmd, env)
            row.append(statistics.median(_wall(cmd, env) for _ in range(reps)))
        out.append(f"| {label} | {row[0]:.3f} | {row[1]:.3f} | {row[1] - row[0]:.3f} |")
    return "\n".join(out) + "\n\n" + read_map_figures(reps)


def read_map_figures(reps: int) -> str:
    """``read_map`` alone on a 10,000-key hash map, batched and key by key (in-process)."""
    import struct

    from pybpf.bpf.maps import Map, MapSpec, MapType
    from pybpf.codegen.script import generate
    from pybpf.passes.pipeline import compile_frontend
    from pybpf.runtime import mapread

    res = compile_frontend("BEGIN { @[1] = count(); }", "bench")
    d = generate(res.program).maps["@"]
    spec = MapSpec(MapType[d.kind.upper()], d.key_size, d.value_size, 20000, name="bench")
    with Map.create(spec) as m:
        val = b"\1" + b"\0" * (d.value_size - 1)
        m.update_batch([(struct.pack("<q", i).ljust(d.key_size, b"\0"), val)
                        for i in range(N_ADDRS)])  # fmt: skip
        times = {}
        for mode in ("batched", "key by key"):
            mapread._unbatched.clear()
            if mode != "batched":
                mapread._unbatched.update(range(64))
            runs = []
            for _ in range(reps):
                t0 = time.perf_counter()
                data = mapread.read_map(d, m)
                runs.append(time.perf_counter() - t0)
            assert len(data.entries) == N_ADDRS
            times[mode] = statistics.median(runs)
        mapread._unbatched.clear()
    return "| `read_map` alone, 10,000 keys, in-process | median (s) |\n|---|---:|\n" + "".join(
        f"| {k} | {v:.4f} |\n" for k, v in times.items()
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--patterns", default="str*,w*")
    args = ap.parse_args()
    if shutil.which("bpftrace") is None:
        print("bpftrace is not installed", file=sys.stderr)
        return 1
    print(f"load average: {os.getloadavg()[0]:.2f}\n")
    print(attach_table(args.patterns.split(","), args.reps), "\n")
    with tempfile.TemporaryDirectory() as d:
        binary = compile_binary(Path(d))
        print(symbolizer_figures(binary, args.reps), "\n")
        print(end_to_end(binary, args.reps), "\n")
        print(map_print_figures(binary, args.reps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
