"""uprobes on functions only a separate debug file names, on the real kernel: a C program
stripped to nothing but a ``.gnu_debuglink`` (its static functions probed by name, by
wildcard, at ``func+off``, and listed), a local function of libc named by libc6-dbg's
debug file, and ``-l`` listings and attach counts compared with bpftrace 0.17's."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pybpf import elf
from pybpf.elf import debugfile

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"),
]

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"

ALIASES = r"""
#include <stdlib.h>
int main(int argc, char **argv) {
  long s = 0;
  for (int i = 0; i < 5; i++) s += strtol(argc > 5 ? argv[1] : "12", 0, 10);
  return s != 60;
}
"""

SOURCE = r"""
#define N __attribute__((noipa))
static N int local_step(int x) { return x * 3 + 1; }
static N int local_other(int x) { return x - 1; }
int main(void) {
  int s = 0;
  for (int i = 0; i < 7; i++) s += local_step(i);
  for (int i = 0; i < 3; i++) s += local_other(i);
  return s == 0;
}
"""


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The program stripped of every symbol, with a debuglink to its debug file."""
    d = tmp_path_factory.mktemp("dbgprobe")
    (d / "t.c").write_text(SOURCE)
    full = d / "full"
    # -O0 without CET: each function opens with a one-byte `push %rbp`, so +1 is the
    # next instruction.
    subprocess.run(["gcc", "-g", "-O0", "-fcf-protection=none", "-fno-omit-frame-pointer",
                    "-o", str(full), str(d / "t.c")], check=True)  # fmt: skip
    subprocess.run(["objcopy", "--only-keep-debug", str(full), str(d / "t.debug")], check=True)
    out = d / "t"
    subprocess.run(["objcopy", "--strip-all", f"--add-gnu-debuglink={d / 't.debug'}",
                    str(full), str(out)], check=True)  # fmt: skip
    assert "local_step" not in subprocess.run(["nm", "-D", str(out)], capture_output=True,
                                              text=True).stdout  # fmt: skip
    return out


def trace(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run pybpftrace to completion."""
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def lines(r: subprocess.CompletedProcess[str]) -> list[str]:
    assert r.returncode == 0, r.stderr
    return [ln for ln in r.stdout.splitlines() if ln]


def bpftrace_lines(*args: str) -> list[str]:
    r = subprocess.run(["bpftrace", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [ln for ln in r.stdout.splitlines() if ln]


def test_static_function_named_by_the_debug_file(binary: Path) -> None:
    b = str(binary)
    assert lines(trace("-e", f"uprobe:{b}:local_step {{ @ = count(); }}", "-c", b)) == ["@: 7"]
    assert lines(trace("-e", f"uprobe:{b}:local_step+1 {{ @ = count(); }}", "-c", b)) == ["@: 7"]
    assert lines(trace("-e", f"uprobe:{b}:local_* {{ @[func] = count(); }}", "-c", b)) == [
        "@[local_other]: 3",
        "@[local_step]: 7",
    ]


def test_listing_includes_debug_file_functions(binary: Path) -> None:
    got = lines(trace("-l", f"uprobe:{binary}:local_*"))
    assert got == [f"uprobe:{binary}:local_other", f"uprobe:{binary}:local_step"]
    if shutil.which("bpftrace") is not None:
        assert lines(trace("-l", f"uprobe:{binary}:*")) == bpftrace_lines(
            "-l", f"uprobe:{binary}:*"
        )


def _libc_debug() -> None:
    with elf.ElfFile(LIBC) as f:
        if debugfile.find_debug_file(f) is None:
            pytest.skip("libc6-dbg is not installed")


def test_libc_local_function_counts_exactly() -> None:
    _libc_debug()
    # Called once per process start; only the debug file names it.
    assert "__libc_start_call_main" not in {s.name for s in elf.symbols(LIBC)}
    script = "uprobe:libc:__libc_start_call_main { @ = count(); }"
    assert lines(trace("-e", script, "-c", "/bin/true")) == ["@: 1"]


@pytest.mark.skipif(shutil.which("bpftrace") is None, reason="oracle: bpftrace")
@pytest.mark.parametrize(
    "pattern", [f"uprobe:{LIBC}:str*", "uprobe:libc:__libc_start*", f"uprobe:{LIBC}:*"]
)
def test_libc_listing_matches_bpftrace(pattern: str) -> None:
    _libc_debug()
    ours = lines(trace("-l", pattern))
    assert ours == bpftrace_lines("-l", pattern)
    assert len(ours) > 1


@pytest.mark.skipif(shutil.which("bpftrace") is None, reason="oracle: bpftrace")
def test_libc_wildcard_attaches_what_bpftrace_lists() -> None:
    _libc_debug()
    listed = bpftrace_lines("-l", f"uprobe:{LIBC}:str*")
    r = trace("-e", "uprobe:libc:str* { @ = count(); }", "-c", "/bin/true")
    assert r.returncode == 0, r.stderr
    # bpftrace 0.17 says "Attaching 98 probes..."; current bpftrace's line, on stderr:
    assert f"Attached {len(listed)} probes" in r.stderr.splitlines()
    # Aliases (strtol, strtoll, strtoq, strtoimax share one address) are all attached and
    # each fires, as in bpftrace 0.17: a call runs the program once per matching alias.


def test_aliases_at_one_address_each_fire(tmp_path: Path) -> None:
    _libc_debug()
    (tmp_path / "a.c").write_text(ALIASES)
    subprocess.run(["gcc", "-O0", "-o", str(tmp_path / "a"), str(tmp_path / "a.c")], check=True)
    tab = elf.symbol_table(LIBC)
    addr = tab.find("strtol").value
    aliases = [n for n in tab.functions() if n.startswith("strto") and tab.find(n).value == addr]
    assert len(aliases) >= 2  # strtol, strtoll, strtoq, strtoimax in glibc
    script = (
        "uprobe:libc:strto* /pid == cpid/ { @[probe] = count(); } "
        "uprobe:libc:strto* /pid == cpid/ { @n = count(); }"
    )
    got = lines(trace("-e", script, "-c", str(tmp_path / "a")))
    assert sorted(got[:-1]) == sorted(f"@[uprobe:{LIBC}:{n}]: 5" for n in aliases)
    assert got[-1] == f"@n: {5 * len(aliases)}"


def test_offsets_checked_against_size_and_instructions(binary: Path) -> None:
    b = str(binary)
    size = elf.find_symbol(b, "local_step").size

    def err(spec: str) -> str:
        r = trace("-e", f"uprobe:{b}:{spec} {{ @ = count(); }}", "-c", b)
        assert r.returncode != 0 and r.stdout == ""
        return r.stderr.strip()

    # bpftrace's messages (0.17 as packaged here cannot check boundaries at all).
    assert err(f"local_step+{size}") == (
        f"ERROR: Offset outside the function bounds ('local_step' size is {size})"
    )
    # +1 starts `mov %rsp,%rbp` (48 89 e5): +2 is inside it.
    assert err("local_step+2") == (
        f"ERROR: Could not add uprobe into middle of instruction: {b}:local_step+2"
    )
