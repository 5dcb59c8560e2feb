#!/usr/bin/env python3
"""Regenerate NAME.out / NAME.json for the tracer program table from a bpftrace oracle.

Runs Debian's bpftrace 0.17 (root needed) on each ``NAME.bt`` here and converts its
output to what *current* bpftrace prints, where the two differ in a systematic way:

text
  * the ``Attaching N probes...`` line is dropped (the test runner strips it too);
  * histogram headers lose 0.17's trailing space (``@h: `` -> ``@h:``);
  * lhist buckets one value wide print as ``[5]`` instead of ``[5, 6)``;
  * stats values print as records ``{ .count = 3, .average = 2, .total = 6 }`` and
    avg/stats maps are no longer followed by a blank line;
  * empty (cleared) maps print nothing, where 0.17 printed a lone newline.

json
  * the ``attached_probes`` line and 0.17's stray empty lines are dropped;
  * hist bucket objects are joined with ``,`` (current) instead of ``, ``.

A program whose first lines carry ``// expect: manual`` keeps hand-written expectations
(listed with reasons in README.md); ``// json: no`` skips the JSON expectation.

Usage: ``sudo python3 make_expected.py [NAME ...]`` (default: every program).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUCKET = re.compile(r"^[\[(].*\d+ \|[@ ]{52}\|$")
LHIST_PAIR = re.compile(r"^\[(-?\d+), (-?\d+)\)\s+(\d+) (\|.*)$")
STATS = re.compile(r"^(@.*): count (-?\d+), average (-?\d+), total (-?\d+)$")


def run(path: Path, json_mode: bool) -> str:
    cmd = ["bpftrace", *(["-f", "json"] if json_mode else []), str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{path.name}: bpftrace failed:\n{proc.stderr}")
    return proc.stdout


def stats_maps(json_out: str) -> set[str]:
    names: set[str] = set()
    for line in json_out.splitlines():
        if line.strip():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # 0.17 writes some values unquoted; fix_json refuses those
            if record.get("type") == "stats":
                names.update(record["data"])
    return names


def fix_text(text: str, stats: set[str]) -> str:
    lines = text.split("\n")
    if lines and re.match(r"^Attaching \d+ probes?\.\.\.$", lines[0]):
        lines = lines[1:]
    out: list[str] = []
    in_stats = False
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.endswith(": ") and line.startswith("@") and BUCKET.match(nxt):
            out.append(line[:-1])
            in_stats = False
            continue
        m = LHIST_PAIR.match(line)
        if m and int(m.group(2)) == int(m.group(1)) + 1:
            out.append(f"{'[' + m.group(1) + ']':<16}{int(m.group(3)):>8} {m.group(4)}")
            continue
        name = re.match(r"^(@[A-Za-z0-9_]*)[:\[]", line)
        if name and name.group(1) in stats:
            in_stats = True
            s = STATS.match(line)
            if s:
                line = f"{s.group(1)}: {{ .count = {s.group(2)}, .average = {s.group(3)}, .total = {s.group(4)} }}"
            out.append(line)
            continue
        if in_stats and line == "":
            in_stats = False
            continue  # current bpftrace prints no blank line after avg/stats maps
        in_stats = False
        out.append(line)
    return "\n".join(drop_empty_map_lines(out[:-1])) + "\n"


def drop_empty_map_lines(lines: list[str]) -> list[str]:
    """Remove the lone newline 0.17 prints for each empty map (current prints nothing).

    Only the trailing run of map, bucket and blank lines is examined: there, a blank
    line is kept if it ends a histogram block, or if it is one of the two newlines
    printed when the run ends (the first such pair); any other blank line is 0.17's.
    """
    start = len(lines)
    while start > 0 and (
        lines[start - 1] == "" or lines[start - 1].startswith("@") or BUCKET.match(lines[start - 1])
    ):
        start -= 1
    kept = lines[:start]
    marker_seen = False
    i = start
    while i < len(lines):
        if lines[i] != "":
            kept.append(lines[i])
            i += 1
            continue
        run = 0
        while i < len(lines) and lines[i] == "":
            run += 1
            i += 1
        after_hist = bool(kept) and bool(BUCKET.match(kept[-1]))
        keep = 1 if after_hist else 0
        if not marker_seen and run - keep >= 2:
            keep += 2
            marker_seen = True
        kept.extend([""] * keep)
    return kept


def fix_json(text: str) -> str:
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if json.loads(line).get("type") == "attached_probes":
            continue
        if line.startswith('{"type": "hist"'):
            line = re.sub(r'\}, \{"(min|max|count)"', r'},{"\1"', line)
        out.append(line + "\n")
    return "".join(out)


def header_flags(source: str) -> set[str]:
    flags = set()
    for line in source.splitlines():
        if not line.startswith("//"):
            break
        if "expect: manual" in line:
            flags.add("manual")
        if "json: no" in line:
            flags.add("nojson")
    return flags


def main(names: list[str]) -> int:
    paths = [HERE / f"{n}.bt" for n in names] if names else sorted(HERE.glob("*.bt"))
    failed = 0
    for path in paths:
        flags = header_flags(path.read_text())
        if "manual" in flags:
            continue
        try:
            json_out = run(path, True)
        except RuntimeError as e:
            print(e, file=sys.stderr)
            failed += 1
            continue
        path.with_suffix(".out").write_text(fix_text(run(path, False), stats_maps(json_out)))
        if "nojson" not in flags:
            try:
                path.with_suffix(".json").write_text(fix_json(json_out))
            except ValueError:
                print(f"{path.name}: 0.17 wrote invalid JSON; no .json", file=sys.stderr)
        print(path.stem)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
