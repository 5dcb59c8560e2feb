"""uprobe ``args`` typed from DWARF, on the real kernel: a C program compiled here with
``gcc -g`` (-O0 and -O2) is run with ``-c`` and its parameters printed through ``args``
(integers of every width and signedness, ``str()`` of a ``char *``, fields behind a struct
pointer, a register after a double or a struct passed in memory), ``-lv`` lists them, and
casts to the binary's structs, and the diagnostics: no debug info, unknown parameter
(did-you-mean), unsupported types, stack-passed parameters, ``args`` in a uretprobe,
mixed wildcard matches."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"),
]

SOURCE = r"""
#include <string.h>
struct point { int x; long y; char name[8]; unsigned short flags; struct point *next; };
struct pair { long a; long b; };
struct mixed { double d; long l; };
typedef unsigned long ulong_t;
#define N __attribute__((noipa))
N int f_int(int a, unsigned char b, long c) { return a + b + (int)c; }
N long f_str(const char *s, struct point *p) { return (long)strlen(s) + p->x; }
N ulong_t f_many(int a, int b, int c, int d, int e, int f, int g) { return a+b+c+d+e+f+g; }
N long f_six(int a, int b, int c, int d, int e, long f) { return a+b+c+d+e+f; }
N double f_dbl(double d, int i) { return d + i; }
N int f_sv(struct point p, int i) { return p.x + i; }
N long f_pair(struct pair p, struct mixed m, int i) { return p.a + m.l + i; }
N short f_neg(short s, signed char c, unsigned int u, unsigned long long ull) { return s + c; }
N int f_k(int k, double d) { return k + (int)d; }
int main(void) {
  /* On the stack, so the page is present when the probe reads it. */
  char msg[16];
  strcpy(msg, "hello");
  struct point q = { 11, 22, "next", 1, 0 };
  struct point p = { 7, -3, "pt", 9, &q };
  struct pair pr = { 1, 2 };
  struct mixed m = { 1.5, 20 };
  f_int(-5, 200, 1234567890123L); f_str(msg, &p); f_many(1, 2, 3, 4, 5, 6, 7);
  f_six(1, 2, 3, 4, 5, -6000000000L); f_dbl(1.5, 2); f_sv(p, 3); f_pair(pr, m, 4);
  f_neg(-2, -3, 4000000000u, 123ULL);
  long junk = 0;
  for (int i = 0; i < 5; i++) junk += f_k(i % 2, i * 1.5) + f_six(i, i, i, i, i, junk);
  return junk == 12345;
}
"""


@pytest.fixture(scope="module")
def bins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """-O0 and -O2 builds with debug info, and a stripped copy."""
    d = tmp_path_factory.mktemp("uargs")
    (d / "t.c").write_text(SOURCE)
    out = {}
    for opt in ("O0", "O2"):
        out[opt] = d / f"t{opt}"
        subprocess.run(["gcc", "-g", f"-{opt}", "-o", str(out[opt]), str(d / "t.c")], check=True)
    out["stripped"] = d / "ts"
    shutil.copy(out["O0"], out["stripped"])
    subprocess.run(["strip", str(out["stripped"])], check=True)
    return out


def trace(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run pybpftrace to completion."""
    cmd = [sys.executable, "-m", "pybpf.cli.pybpftrace", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def lines(r: subprocess.CompletedProcess[str]) -> list[str]:
    assert r.returncode == 0, r.stderr
    return [ln for ln in r.stdout.splitlines() if ln]


PROBES = (
    'uprobe:{b}:f_int {{ printf("int %d %d %ld\\n", args.a, args.b, args->c); }}\n'
    'uprobe:{b}:f_str {{ printf("str %s %d %d %s %d %d\\n", str(args.s), args.p->x, '
    "args.p->y, args.p->name, args.p->flags, args.p->next->x); }}\n"
    'uprobe:{b}:f_neg {{ printf("neg %d %d %u %u\\n", args.s, args.c, args.u, args.ull); }}\n'
    'uprobe:{b}:f_six {{ printf("six %d %ld\\n", args.a, args.f); }}\n'
    'uprobe:{b}:f_dbl {{ printf("dbl %d\\n", args.i); }}\n'
    'uprobe:{b}:f_sv {{ printf("sv %d\\n", args.i); }}\n'
    'uprobe:{b}:f_pair {{ printf("pair %d\\n", args.i); }}\n'
)
EXPECTED = [
    "int -5 200 1234567890123",
    "str hello 7 -3 pt 9 11",
    "six 1 -6000000000",
    "dbl 2",
    "sv 3",
    "pair 4",
    "neg -2 -3 4000000000 123",
    # The loop: f_six(i, i, i, i, i, junk) with junk += f_k(i % 2, i * 1.5) + that result.
    *[f"six {i} {junk}" for i, junk in ((0, 0), (1, 0), (2, 7), (3, 27), (4, 74))],
]


@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_args_values(bins: dict[str, Path], opt: str) -> None:
    b = bins[opt]
    r = trace("-e", PROBES.format(b=b), "-c", str(b))
    assert lines(r) == EXPECTED


def test_whole_args_print_and_key(bins: dict[str, Path]) -> None:
    b = bins["O0"]
    r = trace("-e", f"uprobe:{b}:f_neg {{ print(args); }} uprobe:{b}:f_int {{ print(args); }}"
              f" uprobe:{b}:f_k {{ @[args] = count(); }}", "-c", str(b))  # fmt: skip
    # f_k's double is left out; equal ints make one key whatever the other registers hold.
    assert lines(r) == [
        "{ .a = -5, .b = 200, .c = 1234567890123 }",
        "{ .s = -2, .c = -3, .u = 4000000000, .ull = 123 }",
        "@[{ .k = 1 }]: 2",
        "@[{ .k = 0 }]: 3",
    ]


def test_casts_to_dwarf_structs(bins: dict[str, Path]) -> None:
    b = bins["O2"]
    r = trace("-e", f"uprobe:{b}:f_str {{ $p = (struct point *)arg1; printf(\"%d %s %d\\n\","
              " $p->y, $p->name, $p->next->x); }", "-c", str(b))  # fmt: skip
    assert lines(r) == ["-3 pt 11"]
    got = error(f"uprobe:{b}:f_str {{ $p = (struct pointx *)arg1; print($p->x); }}")
    assert "ERROR: Unknown struct/union: 'struct pointx'" in got
    # Outside uprobes the binary's structs are unknown.
    got = error(f"BEGIN {{ $p = (struct point *)0; print($p->x); }} uprobe:{b}:f_str {{ }}")
    assert "ERROR: Unknown struct/union: 'struct point'" in got


def test_args_in_maps_keep_their_types(bins: dict[str, Path]) -> None:
    b = bins["O0"]
    r = trace("-e", f"uprobe:{b}:f_neg {{ @c[args.c] = count(); @u = sum(args.u); }}",
              "-c", str(b))  # fmt: skip
    assert lines(r) == ["@c[-3]: 1", "@u: 4000000000"]


def test_listing_parameters(bins: dict[str, Path]) -> None:
    b = bins["O0"]
    r = trace("-lv", f"uprobe:{b}:f_[is]*")
    assert lines(r) == [
        f"uprobe:{b}:f_int",
        "    int a",
        "    unsigned char b",
        "    long int c",
        f"uprobe:{b}:f_six",
        "    int a", "    int b", "    int c", "    int d", "    int e", "    long int f",
        f"uprobe:{b}:f_str",
        "    const char* s",
        "    struct point* p",
        f"uprobe:{b}:f_sv",
        "    struct point p",
        "    int i",
    ]  # fmt: skip
    # Without -v, or for a uretprobe, or without debug info: names only (as bpftrace).
    assert lines(trace("-l", f"uprobe:{b}:f_int")) == [f"uprobe:{b}:f_int"]
    assert lines(trace("-lv", f"uretprobe:{b}:f_int")) == [f"uretprobe:{b}:f_int"]
    s = bins["stripped"]
    assert lines(trace("-lv", f"uprobe:{s}:main")) == []  # no .symtab: no f_ symbols


@pytest.mark.skipif(shutil.which("bpftrace") is None, reason="oracle: bpftrace")
def test_listing_matches_bpftrace(bins: dict[str, Path]) -> None:
    pattern = f"uprobe:{bins['O2']}:*"
    ours = lines(trace("-lv", pattern))
    theirs = subprocess.run(["bpftrace", "-lv", pattern], capture_output=True, text=True)
    assert ours == [ln for ln in theirs.stdout.splitlines() if ln]


def error(script: str) -> str:
    r = trace("-e", script)
    assert r.returncode != 0 and r.stdout == ""
    return r.stderr


def test_errors(bins: dict[str, Path]) -> None:
    b, s = bins["O0"], bins["stripped"]
    pre = f"uprobe:{b}:"
    got = error(f"uprobe:{s}:f_int {{ print(args.a) }}")
    assert got.splitlines()[0] == (
        f"stdin:1:1-{len(str(s)) + 14}: ERROR: Unable to get arguments for uprobe:f_int: "
        f"No debuginfo found for {s}"
    )
    got = error(pre + "f_int { print(args.aa) }")
    col = len(pre) + 15
    assert got.splitlines() == [
        f"stdin:1:{col}-{col + 7}: ERROR: Can't find function parameter aa",
        pre + "f_int { print(args.aa) }",
        " " * (col - 1) + "~~~~~~~",
        "HINT: Did you mean 'a'?",
    ]
    assert "ERROR: d has unsupported type" in error(pre + "f_dbl { print(args.d) }")
    assert "ERROR: p has unsupported type" in error(pre + "f_sv { print(args.p) }")
    assert (
        "ERROR: 'args' builtin is not supported for probes with stack-passed arguments."
        in error(pre + "f_many { print(args.a) }")
    )
    assert "(uretprobe used here)" in error(f"uretprobe:{b}:f_int {{ print(args.a) }}")
    assert "ERROR: Probe has attach points with mixed arguments" in error(
        pre + "f_int," + pre + "f_str { print(args.a) }"
    )
    assert "ERROR: Cannot read function parameters" in error(pre + "main { print(args.a) }")


LIB = r"""
struct rec { int id; const char *tag; };
__attribute__((noipa)) int lib_fn(struct rec *r, unsigned short port) { return r->id + port; }
"""
MAIN = r"""
#include <string.h>
struct rec { int id; const char *tag; };
int lib_fn(struct rec *r, unsigned short port);
int main(void) { char t[8]; strcpy(t, "tg"); struct rec r = { 42, t }; return !lib_fn(&r, 8080); }
"""


def test_args_in_a_shared_library(tmp_path: Path) -> None:
    (tmp_path / "lib.c").write_text(LIB)
    (tmp_path / "m.c").write_text(MAIN)
    lib = tmp_path / "libx.so"
    subprocess.run(["gcc", "-g", "-O2", "-shared", "-fPIC", "-o", str(lib),
                    str(tmp_path / "lib.c")], check=True)  # fmt: skip
    subprocess.run(["gcc", "-O2", "-o", str(tmp_path / "m"), str(tmp_path / "m.c"),
                    f"-L{tmp_path}", "-lx", f"-Wl,-rpath,{tmp_path}"], check=True)  # fmt: skip
    script = (
        f'uprobe:{lib}:lib_fn {{ printf("%d %s %d\\n", args.r->id, str(args.r->tag), args.port); }}'
    )
    assert lines(trace("-e", script, "-c", str(tmp_path / "m"))) == ["42 tg 8080"]
    assert lines(trace("-lv", f"uprobe:{lib}:lib_fn")) == [
        f"uprobe:{lib}:lib_fn", "    struct rec* r", "    short unsigned int port",
    ]  # fmt: skip


def test_wildcard_with_one_signature(tmp_path: Path) -> None:
    (tmp_path / "w.c").write_text(
        "__attribute__((noipa)) int w_a(int x, char *s) { return x + s[0]; }\n"
        "__attribute__((noipa)) int w_b(int x, char *s) { return x - s[0]; }\n"
        'int main(void) { char b[4] = "ab"; return w_a(1, b) + w_b(2, b) == 0; }\n'
    )
    b = tmp_path / "w"
    subprocess.run(["gcc", "-g", "-o", str(b), str(tmp_path / "w.c")], check=True)
    # Both matches share one program (one uprobe_multi link): same parameters, same code.
    script = f'uprobe:{b}:w_* {{ printf("%s %d %s\\n", func, args.x, str(args.s)); }}'
    assert lines(trace("-e", script, "-c", str(b))) == ["w_a 1 ab", "w_b 2 ab"]
